"""The Entity Type Selection Language (NGSI-LD 4.17) as the type= parameter takes it."""

from __future__ import annotations

import pytest

from interoperability.deps import BadRequestError
from interoperability.entities.type_selection import MAX_GROUPS, parse_types


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
                        ("Building)", "unexpected"), (",Building", "type name")):  # fmt: skip
        with pytest.raises(BadRequestError, match=words):
            parse_types(text)


def test_an_expression_cannot_expand_without_bound() -> None:
    exploding = ";".join(f"(A{i},B{i})" for i in range(8))  # 2**8 groups
    with pytest.raises(BadRequestError, match=str(MAX_GROUPS)):
        parse_types(exploding)
