"""Room on each page for the tables every batch updates in place: the roll-ups, their
histograms and the current state. With a fill factor of 50 an updated row can stay on its
page (a HOT update: no new index entry), which halves the cost of merging a batch from a
thousand distinct devices (docs/benchmarks.md). It applies to pages written from now on;
``VACUUM FULL`` (a lock, at a quiet time) rewrites older ones.

Revision ID: knowledge_0009
"""

from support.store import run_sql

revision = "knowledge_0009"
down_revision = "knowledge_0008"
branch_labels = None
depends_on = None

_TABLES = ("ciudad_rollups", "ciudad_rollup_hist", "ciudad_attr_state")


def upgrade() -> None:
    run_sql("".join(f"ALTER TABLE {table} SET (fillfactor = 50);\n" for table in _TABLES))


def downgrade() -> None:
    run_sql("".join(f"ALTER TABLE {table} RESET (fillfactor);\n" for table in _TABLES))
