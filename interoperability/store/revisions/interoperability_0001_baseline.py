"""Baseline of the API's tables (keys, request counts, subscriptions and their queue), as
main had them at 97d1110.

Revision ID: interoperability_0001
"""

from support.store import run_sql

revision = "interoperability_0001"
down_revision = None
branch_labels = ("interoperability",)
depends_on = None

API_KEYS_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_api_keys (
    key_id      text PRIMARY KEY,
    tenant      text NOT NULL,
    scope       text NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    name        text NOT NULL,
    secret_hash text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
"""
API_STATS_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_api_stats (
    tenant   text        NOT NULL,
    minute   timestamptz NOT NULL,
    requests bigint      NOT NULL,
    errors   bigint      NOT NULL,
    PRIMARY KEY (tenant, minute)
);
"""
SUBSCRIPTIONS_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_subscriptions (
    tenant              text        NOT NULL,
    id                  text        NOT NULL,
    body                jsonb       NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    modified_at         timestamptz NOT NULL DEFAULT now(),
    times_sent          bigint      NOT NULL DEFAULT 0,
    dropped             bigint      NOT NULL DEFAULT 0,
    last_notification   timestamptz,
    last_success        timestamptz,
    last_failure        timestamptz,
    last_failure_reason text,
    last_periodic       timestamptz,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS ciudad_notifications (
    id              bigserial   PRIMARY KEY,
    tenant          text        NOT NULL,
    subscription_id text        NOT NULL,
    data            jsonb       NOT NULL,
    due_at          timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    FOREIGN KEY (tenant, subscription_id) REFERENCES ciudad_subscriptions ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ciudad_notifications_due ON ciudad_notifications (due_at);
CREATE INDEX IF NOT EXISTS ciudad_notifications_subscription
    ON ciudad_notifications (tenant, subscription_id, id);
"""


def upgrade() -> None:
    run_sql(API_KEYS_DDL, API_STATS_DDL, SUBSCRIPTIONS_DDL)
