"""Entities of a batch refused for their ``@context`` (NGSI-LD 6.3.5): a JSON body that
carries one, a JSON-LD body without one, or one that cannot be had. The JSON-LD
middleware finds them, before the body is rewritten; the batch route reports each in its
207 (5.6.7) and runs the others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

SCOPE_KEY = "ciudad.batch_refused"  # in the ASGI scope: {index in the batch: Refusal}


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    error_type: str = "BadRequestData"
    status: int = 400


def refused_entities(request: Request) -> dict[int, Refusal]:
    return dict(request.scope.get(SCOPE_KEY) or {})


RefusedDep = Annotated[dict[int, Refusal], Depends(refused_entities)]
