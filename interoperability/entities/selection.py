"""The Entity Type Selection Language (NGSI-LD 4.17) and the Scope Query Language (4.19):
``,`` or ``|`` for "or", ``;`` for "and", parentheses to group, e.g.
``(Building;TouristDestination),Parking`` or ``/Madrid/+/ParqueNorte;/CompanyA/#``.

Parsed to disjunctive normal form: groups of types, an entity matching if it has every type
of some group. Pure; bounded (an expression is at most a query parameter, and the groups
it expands to are capped) so that no request can make the database do unbounded work.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from interoperability.deps import BadRequestError, check_name

MAX_GROUPS = 64
_TOKEN = re.compile(r"\s*([(),|;]|[^(),|;\s]+)")

Groups = tuple[tuple[str, ...], ...]


def _tokens(text: str) -> list[str]:
    tokens, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            break  # only trailing blanks are left
        tokens.append(match.group(1))
        at = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, what: str, term: Callable[[str], str]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.what, self.term = what, term

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise BadRequestError(f"{self.what}: the expression ends too early")
        self.at += 1
        return token

    def either(self) -> Groups:
        groups = self.every()
        while self.peek() in {",", "|"}:
            self.take()
            groups = _capped(groups + self.every())
        return groups

    def every(self) -> Groups:
        groups = self.one()
        while self.peek() == ";":
            self.take()
            right = self.one()
            groups = _capped(tuple(a + b for a in groups for b in right))
        return groups

    def one(self) -> Groups:
        token = self.take()
        if token == "(":  # noqa: S105 (a parenthesis, not a password)
            groups = self.either()
            if self.peek() != ")":
                raise BadRequestError(f"{self.what}: a parenthesis is not closed")
            self.take()
            return groups
        if token in {")", ",", "|", ";"}:
            raise BadRequestError(f"{self.what}: {token!r} where a name was expected")
        return ((self.term(token),),)


def _capped(groups: Groups) -> Groups:
    if len(groups) > MAX_GROUPS:
        raise BadRequestError(f"type: the expression selects more than {MAX_GROUPS} groups")
    return groups


def _parse(text: str, what: str, term: Callable[[str], str]) -> Groups:
    parser = _Parser(text, what, term)
    groups = parser.either()
    if parser.peek() is not None:
        raise BadRequestError(f"{what}: unexpected {parser.peek()!r}")
    return tuple(tuple(dict.fromkeys(group)) for group in groups)


def parse_types(text: str) -> Groups:
    """The groups of a type expression; BadRequestError naming what is wrong."""
    return _parse(text, "type", lambda name: check_name("type", name))


_SEGMENT = re.compile(r"^[^/#+]+$")


def scope_pattern(scope: str) -> str:
    """One scope of a scopeQ as an anchored regex: ``+`` is one level, ``#`` (last) any
    number of them, itself included. Built from escaped segments only: linear to match."""
    segments = scope.split("/")
    if not scope.startswith("/") or len(scope) > 256:
        raise BadRequestError(f"scopeQ: {scope!r:.60} must be a path such as /Madrid/Centro")
    parts: list[str] = []
    for index, segment in enumerate(segments[1:], start=1):
        if segment == "#" and index == len(segments) - 1:
            return "^" + "".join(parts) + ("(/.*)?$" if parts else "/.+$")
        if segment == "+":
            parts.append("/[^/]+")
        elif _SEGMENT.match(segment):
            parts.append("/" + re.escape(segment))
        else:
            raise BadRequestError(f"scopeQ: {scope!r:.60} has an empty or malformed level")
    return "^" + "".join(parts) + "$"


def parse_scopes(text: str) -> Groups:
    """scopeQ as groups of scope regexes (an entity matches a group if each regex matches
    one of its scopes)."""
    return _parse(text, "scopeQ", scope_pattern)
