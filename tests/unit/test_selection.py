"""The Entity Type Selection (NGSI-LD 4.17) and Scope Query (4.19) languages."""

from __future__ import annotations

import re

import pytest

from interoperability.deps import BadRequestError
from interoperability.entities.selection import MAX_GROUPS, parse_scopes, parse_types


def test_or_and_and_parentheses_expand_to_groups_of_required_types() -> None:
    assert parse_types("Building") == (("Building",),)
    assert parse_types("Building,Parking|Car") == (("Building",), ("Parking",), ("Car",))
    assert parse_types("(Building;TouristDestination)") == (("Building", "TouristDestination"),)
    assert parse_types("(Building;Parking),TouristDestination") == (
        ("Building", "Parking"),
        ("TouristDestination",),
    )
    assert parse_types("Building;(Parking,Car)") == (("Building", "Parking"), ("Building", "Car"))


def test_malformed_expressions_say_what_is_wrong() -> None:
    for text, words in (("(Building;Parking", "not closed"), ("Building;", "ends too early"),
                        ("Building)", "unexpected"), (",Building", "name was")):  # fmt: skip
        with pytest.raises(BadRequestError, match=words):
            parse_types(text)


def test_an_expression_cannot_expand_without_bound() -> None:
    exploding = ";".join(f"(A{i},B{i})" for i in range(8))  # 2**8 groups
    with pytest.raises(BadRequestError, match=str(MAX_GROUPS)):
        parse_types(exploding)


def test_scope_queries_match_levels_with_plus_and_hash() -> None:
    def matches(expression: str, scope: str) -> bool:
        ((pattern,),) = parse_scopes(expression)
        return re.match(pattern, scope) is not None

    assert matches("/Madrid/Gardens", "/Madrid/Gardens")
    assert not matches("/Madrid/Gardens", "/Madrid/Gardens/Norte")
    assert matches("/Madrid/+/Norte", "/Madrid/Gardens/Norte")
    assert not matches("/Madrid/+/Norte", "/Madrid/a/b/Norte")
    assert matches("/Madrid/#", "/Madrid")
    assert matches("/Madrid/#", "/Madrid/a/b")
    assert not matches("/Madrid/#", "/Madridejos")
    assert matches("/#", "/anything")
    assert not matches("/#", "")
    assert matches("/A.B", "/A.B")
    assert not matches("/A.B", "/AxB"), "levels are literal, no regex"
    assert parse_scopes("/A;/B,/C") == (("^/A$", "^/B$"), ("^/C$",))
    for wrong in ("Madrid", "/A//B", "/A/#/B"):
        with pytest.raises(BadRequestError, match="scopeQ"):
            parse_scopes(wrong)
