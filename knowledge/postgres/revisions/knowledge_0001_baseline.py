"""Baseline of the knowledge store's tables, as main had them at 97d1110.

Observations are partitioned by day: natively (PARTITION BY RANGE, a table per day
made on demand by the store) or, where the TimescaleDB extension is available, as a
hypertable with one-day chunks compressed after a week. A database that already has
``ciudad_observations`` keeps the kind it has.

Revision ID: knowledge_0001
"""

from support.store import run_sql, upgrade_connection

revision = "knowledge_0001"
down_revision = None
branch_labels = ("knowledge",)
depends_on = None

COMMON_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_entities (
    tenant      text        NOT NULL,
    entity_id   text        NOT NULL,
    entity_type text        NOT NULL,
    static      jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, entity_id)
);
CREATE INDEX IF NOT EXISTS ciudad_entities_type
    ON ciudad_entities (tenant, entity_type, entity_id);
CREATE TABLE IF NOT EXISTS ciudad_attr_state (
    tenant      text        NOT NULL,
    entity_id   text        NOT NULL,
    attr        text        NOT NULL,
    observed_at timestamptz NOT NULL,
    num         double precision,
    txt         text,
    value_type  text        NOT NULL,
    unit_code   text,
    PRIMARY KEY (tenant, entity_id, attr)
);
CREATE TABLE IF NOT EXISTS ciudad_dead_letters (
    id          bigserial   PRIMARY KEY,
    received_at timestamptz NOT NULL,
    topic       text        NOT NULL,
    payload     text        NOT NULL,
    reason      text        NOT NULL,
    detail      text        NOT NULL,
    tenant      text,
    device_id   text
);
CREATE INDEX IF NOT EXISTS ciudad_dead_letters_tenant ON ciudad_dead_letters (tenant, id);
"""
ROLLUP_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_series (
    series_id serial  PRIMARY KEY,
    tenant    text    NOT NULL,
    entity_id text    NOT NULL,
    attr      text    NOT NULL,
    energetic boolean NOT NULL,
    UNIQUE (tenant, entity_id, attr)
);
CREATE TABLE IF NOT EXISTS ciudad_rollups (
    series_id    integer          NOT NULL,
    resolution_s integer          NOT NULL,
    bucket       timestamptz      NOT NULL,
    n            bigint           NOT NULL,
    total        double precision NOT NULL,
    total_sq     double precision NOT NULL,
    vmin         double precision NOT NULL,
    vmax         double precision NOT NULL,
    first_at     timestamptz      NOT NULL,
    first_v      double precision NOT NULL,
    last_at      timestamptz      NOT NULL,
    last_v       double precision NOT NULL,
    energy       double precision NOT NULL,
    packed       bytea GENERATED ALWAYS AS (
        int4send(series_id) || timestamptz_send(bucket) || int8send(n) || float8send(total)
        || float8send(total_sq) || float8send(vmin) || float8send(vmax)
        || timestamptz_send(first_at) || float8send(first_v) || timestamptz_send(last_at)
        || float8send(last_v) || float8send(energy)
    ) STORED,
    PRIMARY KEY (series_id, resolution_s, bucket)
);
CREATE INDEX IF NOT EXISTS ciudad_rollups_age ON ciudad_rollups USING brin (bucket);
CREATE TABLE IF NOT EXISTS ciudad_rollup_hist (
    series_id    integer     NOT NULL,
    resolution_s integer     NOT NULL,
    bucket       timestamptz NOT NULL,
    bin          integer     NOT NULL,
    n            bigint      NOT NULL,
    PRIMARY KEY (series_id, resolution_s, bucket, bin)
);
CREATE INDEX IF NOT EXISTS ciudad_rollup_hist_age ON ciudad_rollup_hist USING brin (bucket);
"""
CHANGE_FEED_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_changes (
    seq         bigserial   PRIMARY KEY,
    tenant      text        NOT NULL,
    entity_id   text        NOT NULL,
    entity_type text        NOT NULL,
    attrs       jsonb       NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ciudad_change_watch (
    tenant      text NOT NULL,
    entity_type text NOT NULL,
    PRIMARY KEY (tenant, entity_type)
);
"""
INGEST_STATS_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_ingest_stats (
    tenant   text        NOT NULL,
    minute   timestamptz NOT NULL,
    readings bigint      NOT NULL,
    buckets  bigint[]    NOT NULL,
    PRIMARY KEY (tenant, minute)
);
"""
OBSERVATIONS = """
CREATE TABLE IF NOT EXISTS ciudad_observations (
    tenant      text             NOT NULL,
    entity_id   text             NOT NULL,
    attr        text             NOT NULL,
    observed_at timestamptz      NOT NULL,
    num         double precision,
    txt         text,
    PRIMARY KEY (tenant, entity_id, attr, observed_at)
)"""
NATIVE_DDL = OBSERVATIONS + " PARTITION BY RANGE (observed_at)"
TIMESCALE_DDL = f"""
CREATE EXTENSION IF NOT EXISTS timescaledb;
{OBSERVATIONS};
SELECT create_hypertable('ciudad_observations', 'observed_at',
                         chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE);
"""
TIMESCALE_COMPRESSION = """
ALTER TABLE ciudad_observations SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'tenant, entity_id, attr',
    timescaledb.compress_orderby = 'observed_at'
);
SELECT add_compression_policy('ciudad_observations', INTERVAL '7 days', if_not_exists => TRUE);
"""


def _exists(query: str) -> bool:
    return upgrade_connection().execute(query.encode()).fetchone() is not None


def upgrade() -> None:
    run_sql(COMMON_DDL, ROLLUP_DDL, CHANGE_FEED_DDL, INGEST_STATS_DDL)
    if _exists("SELECT 1 FROM pg_class WHERE oid = to_regclass('ciudad_observations')"):
        return
    if not _exists("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"):
        run_sql(NATIVE_DDL)
        return
    run_sql(TIMESCALE_DDL, TIMESCALE_COMPRESSION)
