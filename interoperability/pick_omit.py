"""``pick`` and ``omit`` (NGSI-LD 4.21) as trees: names separated by commas, a name followed
by ``{...}`` projecting the entities its Relationship links to (with ``join``).

``pick=id,locatedAt{id,name}`` keeps ``id`` and ``locatedAt`` and, of the linked City, its
``id`` and ``name``; ``omit=name,locatedAt{name}`` leaves out ``name`` here and in the City,
but keeps ``locatedAt``: braces after a name in ``omit`` only reach into what it links to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from interoperability.deps import BadRequestError, check_name

# Deeper than any join can go (entities/linked.JOIN_LEVELS): the parser recurses per level.
MAX_DEPTH = 6
_TOKEN = re.compile(r"[{},]|[^{},;\s]+")


@dataclass(frozen=True, slots=True)
class Projection:
    bare: frozenset[str]  # names written without braces
    nested: tuple[tuple[str, Projection], ...] = ()  # names with braces, and what they hold

    @property
    def names(self) -> frozenset[str]:
        return self.bare | {name for name, _ in self.nested}

    def inner(self, name: str) -> Projection | None:
        """The projection in the braces after ``name``, None if it has none."""
        return next((p for n, p in self.nested if n == name), None)


def parse_projection(text: str | None, what: str) -> Projection | None:
    """The tree ``text`` writes; BadRequestError saying what is malformed."""
    if text is None:
        return None
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text.replace(" ", ""):
        raise BadRequestError(f"{what}: only names, commas and braces are allowed")
    projection, end = _level(tokens, 0, what, 0)
    if end != len(tokens):
        raise BadRequestError(f"{what}: '}}' without '{{'")
    return projection


def _level(tokens: list[str], at: int, what: str, depth: int) -> tuple[Projection, int]:
    """The names from ``at`` to the end of this level (a ``}`` or the end of the text)."""
    if depth > MAX_DEPTH:
        raise BadRequestError(f"{what}: braces nest at most {MAX_DEPTH} deep")
    bare: set[str] = set()
    nested: list[tuple[str, Projection]] = []
    while True:
        if at >= len(tokens) or tokens[at] in {",", "{", "}"}:
            found = tokens[at] if at < len(tokens) else "the end"
            raise BadRequestError(f"{what}: a name is missing before {found!r}")
        name = check_name(what, tokens[at])
        at += 1
        if at < len(tokens) and tokens[at] == "{":
            inner, at = _level(tokens, at + 1, what, depth + 1)
            if at >= len(tokens) or tokens[at] != "}":
                raise BadRequestError(f"{what}: the expression is not complete (an open brace?)")
            nested.append((name, inner))
            at += 1
        else:
            bare.add(name)
        if at >= len(tokens) or tokens[at] == "}":
            if at < len(tokens) and depth == 0:
                raise BadRequestError(f"{what}: '}}' without '{{'")
            return Projection(frozenset(bare), tuple(nested)), at
        if tokens[at] != ",":
            raise BadRequestError(f"{what}: a comma is missing before {tokens[at]!r:.60}")
        at += 1


def pick_and_omit(
    pick: str | None, omit: str | None
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(members to keep or None for all, members to leave out) of the entity itself; 400 if
    one is in both."""
    picked, omitted = parse_projection(pick, "pick"), parse_projection(omit, "omit")
    keep = picked.names if picked is not None else None
    left_out = omitted.bare if omitted is not None else frozenset()
    if keep is not None and keep & left_out:
        raise BadRequestError("a member cannot be in both pick and omit")
    return keep, left_out
