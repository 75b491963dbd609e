"""Builds the configured knowledge store: where its database is (embedded or by DSN) and
whether InfluxDB mirrors it."""

from __future__ import annotations

import asyncio

from knowledge.embedded import start_embedded_postgres
from knowledge.influx import InfluxMirror, InfluxV1Writer, InfluxV2Writer, InfluxWriter
from knowledge.postgres.retention import RetentionPolicy
from knowledge.postgres.store import PostgresStore
from support import ConfigurationError, Settings
from support.store import Database


async def resolve_dsn(settings: Settings) -> str:
    """The configured DSN, or the embedded PostgreSQL's (started if needed)."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return await asyncio.to_thread(start_embedded_postgres, settings.embedded_db_dir)


async def open_store(db: Database, settings: Settings) -> PostgresStore:
    """The store over the platform's database, mirrored to InfluxDB when ``influx_url`` is
    set."""
    if settings.influx_url is None:
        return await PostgresStore.open(db)
    return await PostgresStore.open(db, mirror=InfluxMirror(influx_writer(settings)))


async def open_read_store(db: Database) -> PostgresStore:
    """The store over a database that is only read (a standby): no mirror, nothing staged."""
    return await PostgresStore.open(db)


def influx_writer(settings: Settings) -> InfluxWriter:
    if settings.influx_url is None:
        raise ConfigurationError("CIUDAD_INFLUX_URL is not set")
    if settings.influx_api == "v1":
        return InfluxV1Writer(settings.influx_url, settings.influx_database)
    if settings.influx_token is None:
        raise ConfigurationError("CIUDAD_INFLUX_TOKEN is required with CIUDAD_INFLUX_API=v2")
    return InfluxV2Writer(
        settings.influx_url,
        settings.influx_database,
        settings.influx_org,
        settings.influx_token.get_secret_value(),
    )


def retention_policy(settings: Settings) -> RetentionPolicy:
    """The configured retention; 0 days means forever."""

    def days(value: int) -> int | None:
        return value or None

    return RetentionPolicy(
        raw_days=days(settings.retention_raw_days),
        rollup_days={
            60: days(settings.retention_minute_days),
            900: days(settings.retention_quarter_hour_days),
            3600: days(settings.retention_hour_days),
            86_400: days(settings.retention_day_days),
        },
        dead_letter_days=days(settings.retention_dead_letter_days),
    )
