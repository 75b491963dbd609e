"""A JSON-LD batch (NGSI-LD 5.6.7, 6.3.5): each entity carries its own ``@context`` and is
renamed with it; an entity whose context cannot be had is reported in the 207 with
``LdContextNotAvailable`` (or ``BadRequestData`` for a malformed one), the others are
written. At most MAX_CONTEXTS different contexts per batch."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Scope

from interoperability.entities.batch_context import SCOPE_KEY, Refusal
from interoperability.jsonld.resolver import ContextUnavailableError
from interoperability.jsonld.terms import ContextError, TermMapper

MAX_CONTEXTS = 20
Rewrite = Callable[[str, Any, Callable[[str], str]], Any]


async def renamed_batch(
    scope: Scope,
    entities: list[Any],
    mapper_for: Callable[[Any], Awaitable[TermMapper]],
    rewrite: Rewrite,
) -> list[Any]:
    """The batch with each entity in stored names; those refused left as they are and
    named in the scope for the route (``refused_entities``)."""
    refused: dict[int, Refusal] = dict(scope.get(SCOPE_KEY) or {})
    mappers: dict[str, TermMapper | Refusal] = {}
    out: list[Any] = []
    for index, entity in enumerate(entities):
        if index in refused or not isinstance(entity, dict):
            out.append(entity)
            continue
        key = json.dumps(entity.get("@context"), sort_keys=True)
        if key not in mappers:
            mappers[key] = await _mapper(entity.get("@context"), mapper_for, len(mappers))
        mapper = mappers[key]
        if isinstance(mapper, TermMapper):
            out.append(rewrite(scope["path"], entity, mapper.to_stored))
        else:
            refused[index] = mapper
            out.append(entity)
    scope[SCOPE_KEY] = refused
    return out


async def _mapper(
    spec: Any, mapper_for: Callable[[Any], Awaitable[TermMapper]], known: int
) -> TermMapper | Refusal:
    if known >= MAX_CONTEXTS:
        return Refusal(f"at most {MAX_CONTEXTS} different @context per batch")
    try:
        return await mapper_for(spec)
    except ContextUnavailableError as exc:
        return Refusal(str(exc), "LdContextNotAvailable", 503)
    except ContextError as exc:
        return Refusal(str(exc))
