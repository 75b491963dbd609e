"""Revisions are frozen SQL; what code derives from the same facts must still match them."""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.postgres.bulk import packed_expression
from knowledge.postgres.rollups import READ_COLUMNS

BASELINE = Path(__file__).resolve().parents[2] / "knowledge/postgres/revisions"


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_rollups_packed_column_is_what_aggregate_queries_decode() -> None:
    """Aggregate queries read ``packed`` as READ_COLUMNS in order: a change to those columns
    needs a revision that redefines the generated column."""
    sql = (BASELINE / "knowledge_0001_baseline.py").read_text()
    generated = re.search(r"packed\s+bytea GENERATED ALWAYS AS \((.*?)\) STORED", sql, re.S)
    assert generated is not None
    assert _squeezed(generated.group(1)) == _squeezed(packed_expression(READ_COLUMNS))
