"""Reading entity state for the verticals: a malformed location locates nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.entity_state import coordinates


def located(geometry: Any) -> dict[str, Any]:
    return {"location": {"type": "GeoProperty", "value": geometry}}


@pytest.mark.parametrize(
    ("static", "expected"),
    [
        (located({"type": "Point", "coordinates": [-5.57, 42.6]}), (42.6, -5.57)),
        (located({"type": "Point", "coordinates": [-5.57, 42.6, 830]}), (42.6, -5.57)),
        (located({"type": "Point", "coordinates": ["west", "north"]}), None),
        (located({"type": "Point", "coordinates": [1]}), None),
        (located({"type": "Point"}), None),
        (located({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}), None),
        ({"location": "somewhere"}, None),
        ({}, None),
        ("not a mapping", None),
    ],
)
def test_coordinates(static: Any, expected: tuple[float, float] | None) -> None:
    assert coordinates(static) == expected
