"""Entity filters (NGSI-LD ``id``, ``idPattern``, ``type`` lists and the ``q`` language) as
data, and their translation to SQL over ``ciudad_entities e``.

An attribute's value is looked up in the current state first (``ciudad_attr_state``:
numbers and text from devices and the API) and then in the static attributes
(``value`` of a Property, ``object`` of a Relationship).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from psycopg import sql

from knowledge.geo import GeoFilter

Scalar = float | str
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "~=", "!~=", "exists"]


@dataclass(frozen=True, slots=True)
class ValueRange:
    low: Scalar
    high: Scalar


@dataclass(frozen=True, slots=True)
class Comparison:
    attr: str
    op: Operator
    value: Scalar | tuple[Scalar, ...] | ValueRange | None = None


@dataclass(frozen=True, slots=True)
class Logical:
    op: Literal["and", "or"]
    terms: tuple[Filter, ...]


Filter = Comparison | Logical


@dataclass(frozen=True, slots=True)
class EntityQuery:
    types: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    q: Filter | None = None
    geo: GeoFilter | None = None  # applied after SQL (see knowledge.geo)


def _state(attr: str, column: str) -> sql.Composable:
    return sql.SQL(
        "(SELECT {} FROM ciudad_attr_state s WHERE s.tenant = e.tenant "
        "AND s.entity_id = e.entity_id AND s.attr = {})"
    ).format(sql.Identifier(column), attr)


def _number(attr: str) -> sql.Composable:
    static = sql.SQL(
        "CASE WHEN jsonb_typeof(e.static -> {0} -> 'value') = 'number' "
        "THEN (e.static -> {0} ->> 'value')::float8 END"
    ).format(attr)
    return sql.SQL("coalesce({}, {})").format(_state(attr, "num"), static)


def _text(attr: str) -> sql.Composable:
    static = sql.SQL("coalesce(e.static -> {0} ->> 'value', e.static -> {0} ->> 'object')").format(
        attr
    )
    return sql.SQL("coalesce({}, {})").format(_state(attr, "txt"), static)


def _compare(column: sql.Composable, op: str, value: Scalar) -> sql.Composable:
    sql_op = {"==": "=", "!=": "<>"}.get(op, op)
    return sql.SQL("{} {} {}").format(column, sql.SQL(sql_op), value)


def _column(attr: str, sample: Scalar) -> sql.Composable:
    return _number(attr) if isinstance(sample, float) else _text(attr)


def _comparison(c: Comparison) -> sql.Composable:
    if c.op == "exists":
        return sql.SQL("({} IS NOT NULL OR {} IS NOT NULL)").format(_number(c.attr), _text(c.attr))
    if c.op in ("~=", "!~="):
        negate = sql.SQL("NOT ") if c.op == "!~=" else sql.SQL("")
        return sql.SQL("{}coalesce({} ~ {}, false)").format(negate, _text(c.attr), str(c.value))
    value = c.value
    if isinstance(value, ValueRange):
        column = _column(c.attr, value.low)
        inside = sql.SQL("{} BETWEEN {} AND {}").format(column, value.low, value.high)
        return sql.SQL("NOT coalesce({}, false)").format(inside) if c.op == "!=" else inside
    if isinstance(value, tuple):
        column = _column(c.attr, value[0])
        member = sql.SQL("{} = ANY({})").format(column, list(value))
        return sql.SQL("NOT coalesce({}, false)").format(member) if c.op == "!=" else member
    assert value is not None  # only "exists" has no value
    return _compare(_column(c.attr, value), c.op, value)


def filter_sql(f: Filter) -> sql.Composable:
    if isinstance(f, Comparison):
        return _comparison(f)
    joiner = sql.SQL(" AND ") if f.op == "and" else sql.SQL(" OR ")
    return sql.SQL("({})").format(joiner.join(filter_sql(t) for t in f.terms))


def query_sql(query: EntityQuery) -> sql.Composable:
    """``AND ...`` conditions for a query over ``ciudad_entities e`` (empty for none)."""
    parts: list[sql.Composable] = []
    if query.types:
        parts.append(sql.SQL("e.entity_type = ANY({})").format(list(query.types)))
    if query.ids:
        parts.append(sql.SQL("e.entity_id = ANY({})").format(list(query.ids)))
    if query.id_pattern is not None:
        parts.append(sql.SQL("e.entity_id ~ {}").format(query.id_pattern))
    if query.q is not None:
        parts.append(filter_sql(query.q))
    return sql.Composed([sql.SQL(" AND {}").format(p) for p in parts])
