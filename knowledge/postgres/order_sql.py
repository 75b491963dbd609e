"""Orderings (NGSI-LD ``orderBy``) translated to an ``ORDER BY`` over ``ciudad_entities e``.

An attribute sorts by its value: numbers before texts, each in their own order. Its value
is looked up as ``filter_sql`` does (the current state, then the static attributes); a
sub-attribute or a time member (``createdAt``, ``modifiedAt``, ``observedAt``) is read from
the static attribute (its default instance, for one with several). Entities lacking a key
sort after those having it, in either direction, and ties are broken by id so that pages
of the same query never overlap.
"""

from __future__ import annotations

from psycopg import sql

from knowledge.postgres.filter_sql import Bound
from knowledge.query.filters import OrderKey

ENTITY_COLUMNS = {
    "id": "entity_id",
    "type": "entity_type",
    "createdAt": "created_at",
    "modifiedAt": "modified_at",
}
# An entity is modified when its row is and when one of its readings is (the gateway
# writes a device's entity row only when its static attributes change).
ENTITY_MODIFIED_AT = (
    "greatest(e.modified_at, (SELECT max(s.modified_at) FROM ciudad_attr_state s "
    "WHERE s.tenant = e.tenant AND s.entity_id = e.entity_id))"
)
TIME_MEMBERS = frozenset({"createdAt", "modifiedAt", "observedAt"})
# The text form of a time, as iso_utc writes it (milliseconds only when there are any),
# made sortable as text: "...:05Z" would otherwise sort after "...:05.250Z".
_SORTABLE_TIME = (
    "(SELECT CASE WHEN t ~ '^\\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' "
    "THEN left(t, 19) || '.000Z' ELSE t END FROM (SELECT {} AS t) AS time_text)"
)


def _instance(attr: str, p: Bound) -> sql.Composable:
    """The attribute's instance in the static attributes: its default one if it has
    several (the first without a datasetId)."""
    return sql.SQL(
        "(CASE WHEN jsonb_typeof(e.static -> {}) = 'array' THEN (SELECT i FROM "
        "jsonb_array_elements(e.static -> {}) AS i WHERE NOT i ? 'datasetId' LIMIT 1) "
        "ELSE e.static -> {} END)"
    ).format(p(attr), p(attr), p(attr))


def _node(path: tuple[str, ...], p: Bound) -> sql.Composable:
    """The static instance at ``path``: an attribute, then sub-attributes inside it."""
    node = _instance(path[0], p)
    for name in path[1:]:
        node = sql.SQL("({} -> {})").format(node, p(name))
    return node


def _state(attr: str, column: str, p: Bound) -> sql.Composable:
    return sql.SQL(
        "(SELECT {} FROM ciudad_attr_state s WHERE s.tenant = e.tenant "
        "AND s.entity_id = e.entity_id AND s.attr = {})"
    ).format(sql.SQL(column), p(attr))


def _values(path: tuple[str, ...], p: Bound) -> list[sql.Composable]:
    """A value's two sort keys: as a number, then as text."""
    number = sql.SQL(
        "CASE WHEN jsonb_typeof({} -> 'value') = 'number' THEN ({} ->> 'value')::float8 END"
    )
    text = sql.SQL("coalesce({} ->> 'value', {} ->> 'object')")
    if len(path) > 1:
        return [
            number.format(_node(path, p), _node(path, p)),
            text.format(_node(path, p), _node(path, p)),
        ]
    # the current state first, as filter_sql looks values up
    num = _state(path[0], "num", p)
    num_static = number.format(_node(path, p), _node(path, p))
    txt = _state(path[0], "txt", p)
    txt_static = text.format(_node(path, p), _node(path, p))
    return [
        sql.SQL("coalesce({}, {})").format(num, num_static),
        sql.SQL("coalesce({}, {})").format(txt, txt_static),
    ]


def _time(path: tuple[str, ...], p: Bound) -> sql.Composable:
    """A member time of an attribute (or sub-attribute), as sortable text; a reading's
    observedAt from the current state first. Built in the order of its placeholders."""
    reading = None
    if path[-1] == "observedAt" and len(path) == 2:
        reading = sql.SQL(
            "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        ).format(_state(path[0], "observed_at", p))
    stated = sql.SQL(_SORTABLE_TIME).format(
        sql.SQL("({} ->> {})").format(_node(path[:-1], p), p(path[-1]))
    )
    # byte order: a locale's collation may skip the punctuation of the times
    both = stated if reading is None else sql.SQL("coalesce({}, {})").format(reading, stated)
    return sql.SQL('({}) COLLATE "C"').format(both)


def _expressions(key: OrderKey, p: Bound) -> list[sql.Composable]:
    if key.path == ("modifiedAt",):
        return [sql.SQL(ENTITY_MODIFIED_AT)]
    if len(key.path) == 1 and key.path[0] in ENTITY_COLUMNS:
        return [sql.SQL("e.{}").format(sql.Identifier(ENTITY_COLUMNS[key.path[0]]))]
    if len(key.path) > 1 and key.path[-1] in TIME_MEMBERS:
        return [_time(key.path, p)]
    return _values(key.path, p)


def order_sql(keys: tuple[OrderKey, ...], p: Bound) -> sql.Composable:
    """`` ORDER BY ...`` for ``keys`` then the id; its values go to ``p`` in order."""
    terms: list[sql.Composable] = []
    for key in keys:
        direction = sql.SQL(" DESC NULLS LAST" if key.descending else " ASC NULLS LAST")
        terms += [sql.Composed([expression, direction]) for expression in _expressions(key, p)]
    terms.append(sql.SQL("e.entity_id"))
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(terms))
