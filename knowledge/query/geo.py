"""Geo-queries on GeoJSON Points and Polygons (NGSI-LD ``georel``), without PostGIS.

Distances are great-circle (haversine, mean Earth radius); containment and
intersection treat longitude/latitude as planar, which is exact enough inside a
municipality (no shape here spans the antimeridian or a pole).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

EARTH_RADIUS_M = 6_371_008.8
Position = tuple[float, float]  # (longitude, latitude)
Relation = Literal["near", "within", "contains", "intersects", "disjoint", "equals", "overlaps"]


@dataclass(frozen=True, slots=True)
class Geometry:
    kind: Literal["Point", "Polygon"]
    rings: tuple[tuple[Position, ...], ...]  # a Point is one ring of one position

    @property
    def points(self) -> tuple[Position, ...]:
        return self.rings[0]


@dataclass(frozen=True, slots=True)
class GeoFilter:
    relation: Relation
    geometry: Geometry
    max_distance_m: float | None = None
    min_distance_m: float | None = None
    geoproperty: str = "location"


def parse_geometry(kind: str, coordinates: Any) -> Geometry:
    """GeoJSON Point or Polygon coordinates -> Geometry; ValueError when malformed."""
    if kind == "Point":
        return Geometry("Point", ((_position(coordinates),),))
    if kind == "Polygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise ValueError("a Polygon needs at least one ring")
        rings = tuple(tuple(_position(p) for p in ring) for ring in coordinates)
        if any(len(ring) < 4 or ring[0] != ring[-1] for ring in rings):
            raise ValueError("a Polygon ring needs 4+ positions and must be closed")
        return Geometry("Polygon", rings)
    raise ValueError(f"geometry {kind!r:.40} is not supported (Point, Polygon)")


def _position(value: Any) -> Position:
    if (
        not isinstance(value, list)
        or len(value) < 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:2])
    ):
        raise ValueError("a position is [longitude, latitude]")
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError("longitude must be within ±180 and latitude within ±90")
    return lon, lat


def distance_m(a: Position, b: Position) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def _inside_ring(p: Position, ring: Sequence[Position]) -> bool:
    """Ray casting (points on an edge count as inside)."""
    x, y = p
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if _on_segment(p, (x1, y1), (x2, y2)):
            return True
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _inside_polygon(p: Position, polygon: Geometry) -> bool:
    outer, *holes = polygon.rings
    return _inside_ring(p, outer) and not any(_inside_ring(p, h) for h in holes)


def _cross(o: Position, a: Position, b: Position) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Position, a: Position, b: Position) -> bool:
    return (
        abs(_cross(a, b, p)) < 1e-12
        and min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
        and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])
    )


def _segments_cross(a: Position, b: Position, c: Position, d: Position) -> bool:
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)):
        return True
    return any(_on_segment(p, s, e) for p, s, e in ((a, c, d), (b, c, d), (c, a, b), (d, a, b)))


def _edges(g: Geometry) -> list[tuple[Position, Position]]:
    return [(r[i], r[i + 1]) for r in g.rings for i in range(len(r) - 1)]


def within(inner: Geometry, outer: Geometry) -> bool:
    if outer.kind == "Point":
        return inner.kind == "Point" and inner.points[0] == outer.points[0]
    return all(_inside_polygon(p, outer) for p in inner.points)


def intersects(a: Geometry, b: Geometry) -> bool:
    if a.kind == "Point" and b.kind == "Point":
        return a.points[0] == b.points[0]
    if a.kind == "Point":
        return _inside_polygon(a.points[0], b)
    if b.kind == "Point":
        return _inside_polygon(b.points[0], a)
    if any(_segments_cross(*e, *f) for e in _edges(a) for f in _edges(b)):
        return True
    return within(a, b) or within(b, a)


def _nearest_m(entity: Geometry, point: Position) -> float:
    if entity.kind == "Polygon" and _inside_polygon(point, entity):
        return 0.0
    return min(distance_m(p, point) for p in entity.points)


def matches(entity: Geometry, f: GeoFilter) -> bool:
    """Whether an entity's geometry satisfies the filter."""
    if f.relation == "near":
        if f.geometry.kind != "Point":
            raise ValueError("near needs a Point")
        d = _nearest_m(entity, f.geometry.points[0])
        return (f.max_distance_m is None or d <= f.max_distance_m) and (
            f.min_distance_m is None or d >= f.min_distance_m
        )
    relations = {
        "within": lambda: within(entity, f.geometry),
        "contains": lambda: within(f.geometry, entity),
        "intersects": lambda: intersects(entity, f.geometry),
        "disjoint": lambda: not intersects(entity, f.geometry),
        "equals": lambda: entity == f.geometry,
        # OGC: of one dimension, sharing some but not all of their points
        "overlaps": lambda: (
            entity.kind == f.geometry.kind
            and intersects(entity, f.geometry)
            and not within(entity, f.geometry)
            and not within(f.geometry, entity)
        ),
    }
    return bool(relations[f.relation]())


def entity_geometry(static: dict[str, Any], geoproperty: str) -> Geometry | None:
    """The entity's GeoProperty as a Geometry, or None (absent or unsupported)."""
    fragment = static.get(geoproperty)
    value = fragment.get("value") if isinstance(fragment, dict) else None
    if not isinstance(value, dict):
        return None
    try:
        return parse_geometry(str(value.get("type")), value.get("coordinates"))
    except ValueError:
        return None
