"""The ``orderBy`` grammar, the temporal ``datasetId`` list and ``format`` precedence."""

from __future__ import annotations

import pytest

from interoperability.deps import BadRequestError
from interoperability.entities.order_by import MAX_KEYS, parse_order_by, rename_order_by
from interoperability.temporal.datasets import parse_dataset_ids
from interoperability.temporal.read_routes import temporal_options
from knowledge import OrderKey


def test_keys_paths_and_directions() -> None:
    assert parse_order_by(None) == ()
    assert parse_order_by("type;asc,name.subProperty;desc,name") == (
        OrderKey(("type",)),
        OrderKey(("name", "subProperty"), descending=True),
        OrderKey(("name",)),
    )
    assert parse_order_by("name.createdAt;desc") == (OrderKey(("name", "createdAt"), True),)


@pytest.mark.parametrize(
    "text",
    ["", ",", "name;", "name;DESC", "name;asc;desc", ".name", "name.", "id.x", "type.x",
     "createdAt.x", "name.observedAt.x", "a.b.c.d.e", ",".join(["a"] * (MAX_KEYS + 1)),
     "na\x01me"],
)  # fmt: skip
def test_malformed_orderings_are_refused(text: str) -> None:
    with pytest.raises(BadRequestError, match="orderBy"):
        parse_order_by(text)


def test_names_are_renamed_and_iris_escaped() -> None:
    def rename(name: str) -> str:
        return f"http://example.org/{name}"

    renamed = rename_order_by("id;desc,name.createdAt,name.sub;asc", rename)
    assert renamed == (
        "id;desc,http://example%2Eorg/name.createdAt,"
        "http://example%2Eorg/name.http://example%2Eorg/sub;asc"
    )
    assert parse_order_by(renamed) == (
        OrderKey(("id",), True),
        OrderKey(("http://example.org/name", "createdAt")),
        OrderKey(("http://example.org/name", "http://example.org/sub")),
    )


def test_dataset_lists() -> None:
    assert parse_dataset_ids(None) is None
    assert parse_dataset_ids("urn:a,@none") == frozenset({"urn:a", "@none"})
    for wrong in ("", ",", "not a uri", "none"):
        with pytest.raises(BadRequestError, match="datasetId"):
            parse_dataset_ids(wrong)


def test_format_takes_precedence_over_representation_options() -> None:
    assert temporal_options("aggregatedValues", "temporalValues") == {"temporalValues"}
    assert temporal_options("sysAttrs,aggregatedValues", "temporalValues") == {
        "sysAttrs",
        "temporalValues",
    }
    assert temporal_options("aggregatedValues", None) == {"aggregatedValues"}
