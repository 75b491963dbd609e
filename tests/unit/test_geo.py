"""Geo relations on Points and Polygons with hand-checked cases."""

from __future__ import annotations

import pytest

from knowledge.query.geo import GeoFilter, distance_m, intersects, matches, parse_geometry, within

SQUARE = parse_geometry("Polygon", [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]])
HOLED = parse_geometry(
    "Polygon",
    [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]],
)


def point(lon: float, lat: float) -> object:
    return parse_geometry("Point", [lon, lat])


def test_distance_of_one_degree_of_latitude() -> None:
    assert distance_m((-5.57, 42.0), (-5.57, 43.0)) == pytest.approx(111_195, rel=1e-3)
    # León cathedral to San Isidoro: about 370 m (336 m east-west, 145 m north-south).
    assert distance_m((-5.5667, 42.5994), (-5.5708, 42.6007)) == pytest.approx(365, abs=30)


def test_point_in_polygon_edges_and_holes() -> None:
    assert within(point(1, 1), SQUARE)
    assert within(point(2, 1), SQUARE), "a point on an edge is inside"
    assert not within(point(3, 1), SQUARE)
    assert within(point(0.5, 0.5), HOLED)
    assert not within(point(2, 2), HOLED), "inside the hole is outside"


def test_polygons_intersect_by_crossing_edges_or_containment() -> None:
    crossing = parse_geometry("Polygon", [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]])
    inner = parse_geometry("Polygon", [[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 0.5]]])
    far = parse_geometry("Polygon", [[[5, 5], [6, 5], [6, 6], [5, 5]]])
    assert intersects(SQUARE, crossing)
    assert intersects(SQUARE, inner)
    assert intersects(inner, SQUARE)
    assert not intersects(SQUARE, far)


def test_overlapping_polygons_share_some_but_not_all_of_their_area() -> None:
    crossing = parse_geometry("Polygon", [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]])
    inner = parse_geometry("Polygon", [[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 0.5]]])
    far = parse_geometry("Polygon", [[[5, 5], [6, 5], [6, 6], [5, 5]]])
    overlapping = GeoFilter("overlaps", crossing)
    assert matches(SQUARE, overlapping)
    assert not matches(far, overlapping), "apart"
    assert not matches(SQUARE, GeoFilter("overlaps", inner)), "inside is no overlap"
    assert not matches(point(2, 2), overlapping), "a point and a polygon differ in dimension"


def test_near_with_min_and_max_distance() -> None:
    here = point(-5.57, 42.6)
    f = GeoFilter("near", here, max_distance_m=1000)  # type: ignore[arg-type]
    assert matches(point(-5.57, 42.605), f)  # 556 m
    assert not matches(point(-5.57, 42.61), f)  # 1.1 km
    ring = GeoFilter("near", here, max_distance_m=1000, min_distance_m=600)  # type: ignore[arg-type]
    assert not matches(point(-5.57, 42.605), ring)


@pytest.mark.parametrize(
    ("kind", "coordinates"),
    [
        ("Point", [200, 0]),
        ("Point", "x"),
        ("Polygon", [[[0, 0], [1, 0], [0, 0]]]),
        ("Polygon", [[[0, 0], [1, 0], [1, 1], [0, 1]]]),
        ("LineString", [[0, 0], [1, 1]]),
    ],
)
def test_malformed_geometries_are_refused(kind: str, coordinates: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_geometry(kind, coordinates)
