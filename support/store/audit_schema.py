"""The audit table's schema: append-only, hash-chained, owned by a role the application
does not log in as.

Triggers alone do not make a table append-only: its owner may disable them. So the
table, its head row and its functions belong to ``ciudad_audit_owner`` (NOLOGIN), and
the application gets INSERT and SELECT through ``ciudad_audit_writer`` (NOLOGIN,
granted to the application's login role, docs/operations.md).

Each row carries ``hash = sha256(previous row's hash || its canonical content)``, set by
a SECURITY DEFINER trigger of the owner under the head row's lock, so ids and hashes
follow one order and the application cannot choose either. A superuser can still do
anything, but can no longer change or remove a row without breaking the chain unless
it recomputes every later hash (which an externally kept last hash reveals).

Set-up, idempotent, three ways depending on who connects:

* a superuser creates or upgrades the table, creates the two roles if missing, hands
  everything to the owner and grants the writer;
* a role that cannot act as the table's owner (the application, once set up) changes
  nothing and only checks that it may insert;
* any other role (the application on a database nobody set up) creates or upgrades a
  table of its own, with the chain and triggers, and a warning that it could erase it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection

from support.errors import ConfigurationError
from support.store.migrations import SCHEMA_LOCK

log = logging.getLogger(__name__)

OWNER_ROLE = "ciudad_audit_owner"
WRITER_ROLE = "ciudad_audit_writer"

# Every name below is qualified with the table's schema (@s@) and the functions run with
# search_path = pg_catalog, pg_temp: a SECURITY DEFINER function must not find objects a
# caller created (a temporary ciudad_audit_head would otherwise forge the previous hash).
_TABLES = """
CREATE TABLE IF NOT EXISTS @s@.ciudad_audit (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    tenant text,
    actor  text        NOT NULL,
    action text        NOT NULL,
    target text        NOT NULL,
    detail jsonb       NOT NULL DEFAULT '{}',
    hash   bytea
);
ALTER TABLE @s@.ciudad_audit ADD COLUMN IF NOT EXISTS hash bytea;
CREATE INDEX IF NOT EXISTS ciudad_audit_tenant ON @s@.ciudad_audit (tenant, id);
CREATE TABLE IF NOT EXISTS @s@.ciudad_audit_head (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id bigint  NOT NULL,
    hash    bytea   NOT NULL
);
"""
# The content is a JSON array (jsonb's text form is canonical) with the time in UTC, so
# the hash does not depend on the session's TimeZone or DateStyle. NULL prev: the first.
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION @s@.ciudad_audit_hash(
    p_prev bytea, p_id bigint, p_at timestamptz, p_tenant text, p_actor text,
    p_action text, p_target text, p_detail jsonb
) RETURNS bytea LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT sha256(coalesce(p_prev, decode(repeat('00', 32), 'hex')) || convert_to(
        jsonb_build_array(
            p_id, to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            p_tenant, p_actor, p_action, p_target, p_detail
        )::text, 'UTF8'))
$$;
CREATE OR REPLACE FUNCTION @s@.ciudad_audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    previous bytea;
BEGIN
    -- The head row's lock serialises writers until they commit; the id is drawn under it
    -- so that id order is chain order. Under READ COMMITTED FOR UPDATE returns the row as
    -- the previous writer left it; stricter isolation fails instead of forking the chain.
    SELECT hash INTO STRICT previous FROM @s@.ciudad_audit_head FOR UPDATE;
    NEW.id := nextval('@s@.ciudad_audit_id_seq');
    NEW.hash := @s@.ciudad_audit_hash(previous, NEW.id, NEW.at, NEW.tenant, NEW.actor,
                                      NEW.action, NEW.target, NEW.detail);
    UPDATE @s@.ciudad_audit_head SET last_id = NEW.id, hash = NEW.hash;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION @s@.ciudad_audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'ciudad_audit is append-only';
END $$;
"""
# Rows written before the chain existed get their hashes in id order, once (the column
# becomes NOT NULL); the old UPDATE trigger is dropped first and recreated after.
_UPGRADE = """
DROP TRIGGER IF EXISTS ciudad_audit_no_change ON @s@.ciudad_audit;
DROP TRIGGER IF EXISTS ciudad_audit_no_truncate ON @s@.ciudad_audit;
DROP TRIGGER IF EXISTS ciudad_audit_chain ON @s@.ciudad_audit;
DO $$
DECLARE
    r record;
    previous bytea;
BEGIN
    IF NOT (SELECT attnotnull FROM pg_attribute
            WHERE attrelid = '@s@.ciudad_audit'::regclass AND attname = 'hash') THEN
        FOR r IN SELECT * FROM @s@.ciudad_audit ORDER BY id LOOP
            previous := coalesce(r.hash, @s@.ciudad_audit_hash(
                previous, r.id, r.at, r.tenant, r.actor, r.action, r.target, r.detail));
            UPDATE @s@.ciudad_audit SET hash = previous WHERE id = r.id;
        END LOOP;
        ALTER TABLE @s@.ciudad_audit ALTER COLUMN hash SET NOT NULL;
    END IF;
END $$;
INSERT INTO @s@.ciudad_audit_head (one, last_id, hash)
SELECT true, coalesce(max(id), 0), coalesce(
    (SELECT hash FROM @s@.ciudad_audit ORDER BY id DESC LIMIT 1),
    decode(repeat('00', 32), 'hex'))
FROM @s@.ciudad_audit
ON CONFLICT (one) DO NOTHING;
ALTER TABLE @s@.ciudad_audit ALTER COLUMN id DROP DEFAULT;
CREATE TRIGGER ciudad_audit_chain BEFORE INSERT ON @s@.ciudad_audit
    FOR EACH ROW EXECUTE FUNCTION @s@.ciudad_audit_chain();
CREATE TRIGGER ciudad_audit_no_change BEFORE UPDATE OR DELETE ON @s@.ciudad_audit
    FOR EACH ROW EXECUTE FUNCTION @s@.ciudad_audit_append_only();
CREATE TRIGGER ciudad_audit_no_truncate BEFORE TRUNCATE ON @s@.ciudad_audit
    FOR EACH STATEMENT EXECUTE FUNCTION @s@.ciudad_audit_append_only();
"""
# Roles are cluster-wide: two databases set up at once may race to create them.
_HAND_OVER = f"""
DO $$
BEGIN
    CREATE ROLE {OWNER_ROLE} NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE {WRITER_ROLE} NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
ALTER TABLE @s@.ciudad_audit OWNER TO {OWNER_ROLE};
ALTER TABLE @s@.ciudad_audit_head OWNER TO {OWNER_ROLE};
ALTER FUNCTION @s@.ciudad_audit_hash(bytea, bigint, timestamptz, text, text, text, text, jsonb)
    OWNER TO {OWNER_ROLE};
ALTER FUNCTION @s@.ciudad_audit_chain() OWNER TO {OWNER_ROLE};
ALTER FUNCTION @s@.ciudad_audit_append_only() OWNER TO {OWNER_ROLE};
GRANT SELECT, INSERT ON @s@.ciudad_audit TO {WRITER_ROLE};
GRANT SELECT ON @s@.ciudad_audit_head TO {WRITER_ROLE};
GRANT SELECT ON SEQUENCE @s@.ciudad_audit_id_seq TO {WRITER_ROLE};
"""
# The schema is quoted by the server (quote_ident, regnamespace's text form).
_INSPECT = """
SELECT current_user, current_setting('is_superuser') = 'on',
       coalesce(c.relnamespace::regnamespace::text, quote_ident(current_schema())),
       c.relowner::regrole::text, pg_has_role(c.relowner, 'USAGE'),
       has_table_privilege(c.oid, 'INSERT'),
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = 'hash' AND NOT a.attisdropped)
FROM (SELECT 1) AS one LEFT JOIN pg_class c ON c.oid = to_regclass('ciudad_audit')
"""


@dataclass(frozen=True, slots=True)
class AuditTableState:
    """Who this session is, and the audit table as it finds it (owner None: no table)."""

    user: str
    superuser: bool
    schema: str
    owner: str | None
    acts_as_owner: bool | None
    may_insert: bool | None
    chained: bool | None

    @property
    def set_up_by_another_role(self) -> bool:
        return self.owner is not None and not self.acts_as_owner


def audit_table_state(conn: psycopg.Connection[Any]) -> AuditTableState:
    row = conn.execute(_INSPECT).fetchone()
    assert row is not None  # one row by construction (a left join on one row)
    return AuditTableState(*row)


def _check_usable(state: AuditTableState) -> None:
    """The application's side of a table set up by a superuser: nothing to create."""
    if not state.chained:
        raise ConfigurationError(
            f"ciudad_audit (owner {state.owner}) has no hash chain yet: run `ciudad audit "
            "setup` once as a superuser (docs/operations.md)"
        )
    if not state.may_insert:
        raise ConfigurationError(
            f"role {state.user} may not insert into ciudad_audit (owner {state.owner}): "
            f"GRANT {WRITER_ROLE} TO {state.user} (docs/operations.md)"
        )


def _warn_if_erasable(state: AuditTableState) -> None:
    if not state.superuser and not state.set_up_by_another_role:
        log.warning(
            "the audit log is owned by a role this one (%s) can act as: it could disable its "
            "triggers and erase it. Log in as a role that does not own it (docs/operations.md)",
            state.user,
        )


def prepare_audit_table(conn: psycopg.Connection[Any]) -> AuditTableState:
    """Creates, upgrades and hands over the audit table as far as this role may, in the
    connection's transaction; returns the state it found. Run by the audit log's
    revisions and by `ciudad audit setup`."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
    state = audit_table_state(conn)
    if state.set_up_by_another_role:
        _check_usable(state)
        return state
    for ddl in (_TABLES, _FUNCTIONS, _UPGRADE) + ((_HAND_OVER,) if state.superuser else ()):
        conn.execute(ddl.replace("@s@", state.schema).encode())
    _warn_if_erasable(state)
    return state


def set_up_audit_table(dsn: str) -> AuditTableState:
    """`ciudad audit setup`: prepare_audit_table in a transaction of its own."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        return prepare_audit_table(conn)


async def check_audit_table(conn: AsyncConnection[Any]) -> AuditTableState:
    """At a process's start: whether this role may write the log, and whether it could
    erase it (a warning)."""
    row = await (await conn.execute(_INSPECT)).fetchone()
    assert row is not None  # one row by construction (a left join on one row)
    state = AuditTableState(*row)
    if state.owner is None:
        raise ConfigurationError("ciudad_audit is missing: run `ciudad db upgrade`")
    if state.set_up_by_another_role:
        _check_usable(state)
    _warn_if_erasable(state)
    return state
