"""pick and omit (NGSI-LD 4.21) as trees: braces project the entities a Relationship links to."""

from __future__ import annotations

import pytest

from interoperability.deps import BadRequestError
from interoperability.pick_omit import Projection, parse_projection, pick_and_omit


def test_braces_hold_the_projection_of_the_linked_entity() -> None:
    tree = parse_projection("id,locatedAt{id,name,isInCountry{description}}", "pick")
    assert tree is not None
    assert tree.names == {"id", "locatedAt"}
    city = tree.inner("locatedAt")
    assert city is not None
    assert city.names == {"id", "name", "isInCountry"}
    assert city.inner("isInCountry") == Projection(frozenset({"description"}))
    assert tree.inner("id") is None


def test_omit_with_braces_reaches_into_the_link_but_keeps_it() -> None:
    assert pick_and_omit(None, "name,locatedAt{name}") == (None, frozenset({"name"}))
    picked = frozenset({"id", "locatedAt"})
    assert pick_and_omit("id,locatedAt{name}", None) == (picked, frozenset())


@pytest.mark.parametrize(
    "text",
    ["", "a,,b", "a{", "a}", "{a}", "a{b}c", "a b", "a;b", "a{}", "x{" * 9 + "y" + "}" * 9],
)
def test_malformed_expressions_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(BadRequestError):
        parse_projection(text, "pick")


def test_a_member_cannot_be_both_picked_and_omitted() -> None:
    with pytest.raises(BadRequestError, match="both pick and omit"):
        pick_and_omit("id,name", "name")
