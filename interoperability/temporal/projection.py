"""Parameters every temporal retrieval takes besides the time window: which members to
show (``pick``/``omit``), by which time (``timeproperty``), and ``local``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

from interoperability.deps import BadRequestError, pick_and_omit

_MEMBERS = ("id", "type", "@context")


@dataclass(frozen=True, slots=True)
class TemporalProjection:
    pick: frozenset[str] | None = None
    omit: frozenset[str] = frozenset()

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        def kept(name: str) -> bool:
            if name in self.omit:
                return False
            if self.pick is None or name == "@context":
                return True
            return name in self.pick or (name in _MEMBERS and not self.pick & {"id", "type"})

        return {k: v for k, v in doc.items() if kept(k)}


def temporal_projection(
    pick: Annotated[str | None, Query(description="Members to return")] = None,
    omit: Annotated[str | None, Query(description="Members to leave out")] = None,
    timeproperty: Annotated[str, Query(description="observedAt (the one kept)")] = "observedAt",
    local: Annotated[bool, Query(description="everything this broker holds is local")] = False,
) -> TemporalProjection:
    if timeproperty != "observedAt":
        raise BadRequestError(
            f"timeproperty={timeproperty!r:.40}: history is kept by observedAt only"
        )
    return TemporalProjection(*pick_and_omit(pick, omit))


TemporalProjectionDep = Annotated[TemporalProjection, Depends(temporal_projection)]
