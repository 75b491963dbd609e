"""Baseline of acquisition's tables (device registry, command queue), as main had them at
97d1110.

Revision ID: acquisition_0001
"""

from support.store import run_sql

revision = "acquisition_0001"
down_revision = None
branch_labels = ("acquisition",)
depends_on = None

REGISTRY_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_service_groups (
    apikey     text PRIMARY KEY,
    tenant     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ciudad_devices (
    apikey            text NOT NULL REFERENCES ciudad_service_groups ON DELETE RESTRICT,
    device_id         text NOT NULL,
    entity_type       text NOT NULL,
    entity_id         text,
    period_s          double precision,
    attributes        jsonb,
    static_attributes jsonb NOT NULL DEFAULT '{}',
    password_hash     text,
    revoked           boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (apikey, device_id)
);
"""
COMMANDS_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_commands (
    id          bigserial   PRIMARY KEY,
    tenant      text        NOT NULL,
    apikey      text        NOT NULL,
    device_id   text        NOT NULL,
    name        text        NOT NULL,
    value       jsonb,
    status      text        NOT NULL DEFAULT 'PENDING',
    result      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    done_at     timestamptz,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ciudad_commands_open ON ciudad_commands (status, device_id)
    WHERE status IN ('PENDING', 'SENT');
"""


def upgrade() -> None:
    run_sql(REGISTRY_DDL, COMMANDS_DDL)
