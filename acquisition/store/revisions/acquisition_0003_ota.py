"""Firmware updates over the air: release bundles, roll-outs, and each target device's state.

Revision ID: acquisition_0003
"""

from support.store import run_sql

revision = "acquisition_0003"
down_revision = "acquisition_0002"
branch_labels = None
depends_on = None

OTA_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_ota_bundles (
    id          bigserial   PRIMARY KEY,
    tenant      text        NOT NULL,
    node        text        NOT NULL,
    version     text        NOT NULL,
    min_boot    integer     NOT NULL,
    sha256      text        NOT NULL,
    size        integer     NOT NULL,
    data        bytea       NOT NULL CHECK (octet_length(data) <= 2097152),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, sha256)
);
CREATE TABLE IF NOT EXISTS ciudad_ota_rollouts (
    id          bigserial   PRIMARY KEY,
    tenant      text        NOT NULL,
    bundle_id   bigint      NOT NULL REFERENCES ciudad_ota_bundles ON DELETE RESTRICT,
    update_id   text        NOT NULL UNIQUE,
    target      jsonb       NOT NULL,
    state       text        NOT NULL DEFAULT 'active',
    reason      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ciudad_ota_devices (
    rollout_id    bigint      NOT NULL REFERENCES ciudad_ota_rollouts ON DELETE CASCADE,
    apikey        text        NOT NULL,
    device_id     text        NOT NULL,
    state         text        NOT NULL DEFAULT 'pending',
    reason        text,
    progress      real        NOT NULL DEFAULT 0,
    version       text,
    start_sent_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rollout_id, apikey, device_id)
);
CREATE INDEX IF NOT EXISTS ciudad_ota_devices_device ON ciudad_ota_devices (apikey, device_id);
"""


def upgrade() -> None:
    run_sql(OTA_DDL)
