"""The q language evaluated in Python (subscriptions) agrees with its SQL form (queries)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acquisition import Batch, EntityRecord, Reading, ValueType
from interoperability.entities.q_language import parse_q
from knowledge import PostgresStore
from knowledge.query.filter_eval import matches
from knowledge.query.filters import EntityQuery

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ENTITIES: dict[str, dict[str, float | str]] = {
    "a": {"level": 40.0, "state": "free", "zone": "centro"},
    "b": {"level": 65.5, "state": "occupied"},
    "c": {"level": 80.0, "zone": "norte"},
    "d": {"state": "closed", "zone": "centro"},
    "e": {"level": -3.0, "state": "free", "zone": "sur"},
}
QUERIES = [
    "level",
    "level>50",
    "level<=40",
    "level==65.5",
    "level!=40",
    "level==30..70",
    "level!=30..70",
    'state=="free"',
    'state!="free"',
    'state=="free","closed"',
    'state!="free","closed"',
    'zone~="^c"',
    'zone!~="^c"',
    "level>50;zone",
    'level>50|state=="closed"',
    '(level<0|level>70);zone!="norte"',
    "missing",
    "missing==1",
    "missing!=1",
    'state>"f"',
    'level>"a"',
    'zone=="a".."d"',
]


def _batch() -> Batch:
    readings, records = [], []
    for name, values in ENTITIES.items():
        entity_id = f"urn:ngsi-ld:Thing:q:{name}"
        records.append(EntityRecord("q", entity_id, "Thing", {}))
        for attr, value in values.items():
            kind = ValueType.NUMBER if isinstance(value, float) else ValueType.TEXT
            readings.append(Reading("q", entity_id, "Thing", attr, AT, value, kind))
    return Batch(tuple(readings), tuple(records))


@pytest.mark.parametrize("q", QUERIES)
async def test_python_and_sql_select_the_same_entities(store: PostgresStore, q: str) -> None:
    await store.write_batch(_batch())
    parsed = parse_q(q)
    in_sql = await store.list_entities("q", "Thing", 100, 0, EntityQuery(q=parsed))
    in_python = [f"urn:ngsi-ld:Thing:q:{n}" for n, v in ENTITIES.items() if matches(parsed, v)]
    assert [e.entity_id for e in in_sql] == in_python
