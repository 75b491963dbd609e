"""Entity filters translated to SQL over ``ciudad_entities e``.

An attribute's value is looked up in the current state first (``ciudad_attr_state``:
numbers and text from devices and the API) and then in the static attributes
(``value`` of a Property, ``object`` of a Relationship).
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from knowledge.query.filters import Comparison, EntityQuery, Filter, Scalar, ValueRange


class Bound:
    """The values of one statement: each one a parameter, never text inlined into the SQL
    (a ``%s`` inside a user's value would otherwise be taken for a placeholder)."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> sql.Composable:
        self.values.append(value)
        return sql.Placeholder()


def _state(attr: str, column: str, p: Bound) -> sql.Composable:
    return sql.SQL(
        "(SELECT {} FROM ciudad_attr_state s WHERE s.tenant = e.tenant "
        "AND s.entity_id = e.entity_id AND s.attr = {})"
    ).format(sql.Identifier(column), p(attr))


def _number(attr: str, p: Bound) -> sql.Composable:
    state = _state(attr, "num", p)
    static = sql.SQL(
        "CASE WHEN jsonb_typeof(e.static -> {0} -> 'value') = 'number' "
        "THEN (e.static -> {1} ->> 'value')::float8 END"
    ).format(p(attr), p(attr))
    return sql.SQL("coalesce({}, {})").format(state, static)


def _text(attr: str, p: Bound) -> sql.Composable:
    state = _state(attr, "txt", p)
    static = sql.SQL("coalesce(e.static -> {} ->> 'value', e.static -> {} ->> 'object')").format(
        p(attr), p(attr)
    )
    return sql.SQL("coalesce({}, {})").format(state, static)


def _compare(column: sql.Composable, op: str, value: Scalar, p: Bound) -> sql.Composable:
    sql_op = {"==": "=", "!=": "<>"}.get(op, op)
    return sql.SQL("{} {} {}").format(column, sql.SQL(sql_op), p(value))


def _column(attr: str, sample: Scalar, p: Bound) -> sql.Composable:
    return _number(attr, p) if isinstance(sample, float) else _text(attr, p)


def _comparison(c: Comparison, p: Bound) -> sql.Composable:
    if c.op == "exists":
        return sql.SQL("({} IS NOT NULL OR {} IS NOT NULL)").format(
            _number(c.attr, p), _text(c.attr, p)
        )
    if c.op in ("~=", "!~="):
        negate = sql.SQL("NOT ") if c.op == "!~=" else sql.SQL("")
        text = _text(c.attr, p)
        return sql.SQL("{}coalesce({} ~ {}, false)").format(negate, text, p(str(c.value)))
    value = c.value
    if isinstance(value, ValueRange):
        column = _column(c.attr, value.low, p)
        inside = sql.SQL("{} BETWEEN {} AND {}").format(column, p(value.low), p(value.high))
        return sql.SQL("NOT coalesce({}, false)").format(inside) if c.op == "!=" else inside
    if isinstance(value, tuple):
        column = _column(c.attr, value[0], p)
        member = sql.SQL("{} = ANY({})").format(column, p(list(value)))
        return sql.SQL("NOT coalesce({}, false)").format(member) if c.op == "!=" else member
    assert value is not None  # only "exists" has no value
    return _compare(_column(c.attr, value, p), c.op, value, p)


def filter_sql(f: Filter, p: Bound) -> sql.Composable:
    if isinstance(f, Comparison):
        return _comparison(f, p)
    joiner = sql.SQL(" AND ") if f.op == "and" else sql.SQL(" OR ")
    return sql.SQL("({})").format(joiner.join(filter_sql(t, p) for t in f.terms))


def query_sql(query: EntityQuery, p: Bound) -> sql.Composable:
    """``AND ...`` conditions for a query over ``ciudad_entities e`` (empty for none); their
    values go to ``p`` in the order of their placeholders."""
    parts: list[sql.Composable] = []
    if query.types:
        parts.append(
            sql.SQL("(e.entity_type = ANY({}) OR e.other_types && {})").format(
                p(list(query.types)), p(list(query.types))
            )
        )
    if query.type_groups:
        every = sql.SQL("(array[e.entity_type] || e.other_types) @> {}")
        groups = [every.format(p(list(group))) for group in query.type_groups]
        parts.append(sql.SQL("({})").format(sql.SQL(" OR ").join(groups)))
    if query.scope_groups:
        scopes = sql.SQL(
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(e.static->'scope') "
            "WHEN 'array' THEN e.static->'scope' WHEN 'string' THEN jsonb_build_array("
            "e.static->'scope') ELSE '[]'::jsonb END) AS s WHERE s ~ {})"
        )
        groups = [
            sql.SQL("({})").format(sql.SQL(" AND ").join(scopes.format(p(rx)) for rx in group))
            for group in query.scope_groups
        ]
        parts.append(sql.SQL("({})").format(sql.SQL(" OR ").join(groups)))
    if query.ids:
        parts.append(sql.SQL("e.entity_id = ANY({})").format(p(list(query.ids))))
    if query.id_pattern is not None:
        parts.append(sql.SQL("e.entity_id ~ {}").format(p(query.id_pattern)))
    if query.having_any:
        parts.append(sql.SQL(
            "(e.static ?| {} OR EXISTS (SELECT 1 FROM ciudad_attr_state s WHERE "
            "s.tenant = e.tenant AND s.entity_id = e.entity_id AND s.attr = ANY({})))"
        ).format(p(list(query.having_any)), p(list(query.having_any))))  # fmt: skip
    if query.q is not None:
        parts.append(filter_sql(query.q, p))
    return sql.Composed([sql.SQL(" AND {}").format(part) for part in parts])
