"""The ``orderBy`` parameter of entity and temporal queries (NGSI-LD 4.23, 5.7.2, 5.7.4).

``orderBy=name;desc,name.subProperty,createdAt``: keys separated by commas, each an
attribute path (an attribute, its sub-attributes or members after dots; or ``id``,
``type``, ``createdAt``, ``modifiedAt`` of the entity), ascending unless ``;desc``. A
name holding ``.``, ``,``, ``;`` or ``%`` (a full IRI) has them percent-encoded (``%2E``...):
the JSON-LD middleware writes the names a request's @context expands so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import unquote

from interoperability.deps import BadRequestError, check_name
from knowledge import EntityQuery, OrderKey

MAX_KEYS = 8
MAX_DEPTH = 4  # an attribute and up to three nested sub-attributes or members
ENTITY_MEMBERS = frozenset({"id", "type", "createdAt", "modifiedAt"})
# members of an attribute instance that are times, not sub-attributes
INSTANCE_TIMES = frozenset({"createdAt", "modifiedAt", "observedAt"})
_DIRECTIONS = {"asc": False, "desc": True}


ORDER_BY_DOC = "Sort keys: attribute paths, id, type, createdAt, modifiedAt; ;asc or ;desc"


def ordered(query: EntityQuery, text: str | None) -> EntityQuery:
    """``query`` with the order ``text`` asks for (none: by id)."""
    return replace(query, order=parse_order_by(text)) if text is not None else query


def parse_order_by(text: str | None) -> tuple[OrderKey, ...]:
    """The keys ``text`` names, in order; BadRequestError for anything else."""
    if text is None:
        return ()
    keys = text.split(",")
    if len(keys) > MAX_KEYS:
        raise BadRequestError(f"orderBy: at most {MAX_KEYS} keys")
    return tuple(_key(key) for key in keys)


def _key(text: str) -> OrderKey:
    path_text, semicolon, direction = text.partition(";")
    if semicolon and direction not in _DIRECTIONS:
        raise BadRequestError(f"orderBy: {text!r:.80} must end in ;asc or ;desc, if anything")
    path = tuple(unquote(name) for name in path_text.split("."))
    if "" in path:
        raise BadRequestError(f"orderBy: {text!r:.80} is no attribute path")
    if len(path) > MAX_DEPTH:
        raise BadRequestError(f"orderBy: {text!r:.80} is deeper than {MAX_DEPTH} names")
    if path[0] in ENTITY_MEMBERS and len(path) > 1:
        raise BadRequestError(f"orderBy: {path[0]} has no members ({text!r:.80})")
    if any(name in INSTANCE_TIMES for name in path[1:-1]):
        raise BadRequestError(f"orderBy: a time has no members ({text!r:.80})")
    for name in path:
        check_name("orderBy", name)
    return OrderKey(path, _DIRECTIONS.get(direction, False))


def rename_order_by(text: str, rename: Callable[[str], str]) -> str:
    """``text`` with its attribute and sub-attribute names renamed (for a request's own
    @context); entity members, instance times and directions are kept."""

    def renamed(i: int, name: str) -> str:
        kept = ENTITY_MEMBERS if i == 0 else INSTANCE_TIMES
        return name if not name or name in kept else _escaped(rename(name))

    out = []
    for key in text.split(","):
        path_text, semicolon, direction = key.partition(";")
        names = [renamed(i, name) for i, name in enumerate(path_text.split("."))]
        out.append(".".join(names) + semicolon + direction)
    return ",".join(out)


def _escaped(name: str) -> str:
    """``name`` with the separators of orderBy percent-encoded (``%`` first)."""
    for char in "%.,;":
        name = name.replace(char, f"%{ord(char):02X}")
    return name
