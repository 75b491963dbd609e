"""Parameters every temporal retrieval takes besides the time window: which members to
show (``pick``/``omit``), by which time (``timeproperty``: the instances' observedAt,
createdAt or modifiedAt, or the deletions' deletedAt), and ``local``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

from interoperability.deps import BadRequestError
from interoperability.pick_omit import pick_and_omit
from support import NotFoundError

_MEMBERS = ("id", "type", "@context")
TIME_PROPERTIES = ("observedAt", "createdAt", "modifiedAt", "deletedAt")


@dataclass(frozen=True, slots=True)
class TemporalProjection:
    pick: frozenset[str] | None = None
    omit: frozenset[str] = frozenset()
    timeproperty: str = "observedAt"  # createdAt, modifiedAt, or deletedAt: of deletions

    def apply(self, doc: dict[str, Any], strict: bool = True) -> dict[str, Any]:
        """The members kept; ``strict`` (one entity asked for by id): NotFoundError when
        pick or omit leave no attribute of an entity that has some (NGSI-LD 4.21)."""

        def kept(name: str) -> bool:
            if name in self.omit:
                return False
            return self.pick is None or name == "@context" or name in self.pick

        out = {k: v for k, v in doc.items() if kept(k)}
        projecting = self.pick is not None or bool(self.omit)
        left = set(out) - set(_MEMBERS)
        if strict and projecting and not left and set(doc) - set(_MEMBERS):
            raise NotFoundError("pick/omit leave none of the entity's attributes")
        return out


def temporal_projection(
    pick: Annotated[str | None, Query(description="Members to return")] = None,
    omit: Annotated[str | None, Query(description="Members to leave out")] = None,
    timeproperty: Annotated[
        str,
        Query(description="observedAt, createdAt, modifiedAt, or deletedAt (deletions)"),
    ] = "observedAt",
    local: Annotated[bool, Query(description="everything this broker holds is local")] = False,
    attrs: Annotated[str | None, Query(description="Attributes to return")] = None,
) -> TemporalProjection:
    if attrs is not None and (pick is not None or omit is not None):
        raise BadRequestError("attrs cannot be combined with pick or omit (use pick)")
    if timeproperty not in TIME_PROPERTIES:
        raise BadRequestError(
            f"timeproperty={timeproperty!r:.40}: one of {', '.join(TIME_PROPERTIES)}"
        )
    return TemporalProjection(*pick_and_omit(pick, omit), timeproperty=timeproperty)


TemporalProjectionDep = Annotated[TemporalProjection, Depends(temporal_projection)]
