"""The audit log: administrative actions recorded with their actor, per tenant, append-only."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from ciudad.cli import main
from tests.helpers.keys import Keys, bearer

pytestmark = pytest.mark.integration


async def test_admin_actions_are_audited_per_tenant(
    keyed: tuple[httpx.AsyncClient, Keys],
    database_url: str,
) -> None:
    http, keys = keyed
    admin = bearer(keys.admin)
    made = await http.post("/ciudad/v1/apikeys", json={"scope": "read", "name": "x"}, headers=admin)
    key_id = made.json()["id"]
    assert (await http.delete(f"/ciudad/v1/apikeys/{key_id}", headers=admin)).status_code == 204
    group = await http.post(
        "/ciudad/v1/service-groups", headers=admin, json={"apikey": "leon-audit", "tenant": "leon"}
    )
    assert group.status_code == 201, group.text
    subscription = await http.post(
        "/ngsi-ld/v1/subscriptions",
        headers=bearer(keys.write),
        json={
            "entities": [{"type": "NoiseLevelObserved"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
        },
    )
    assert subscription.status_code == 201
    sub_id = subscription.headers["location"].rsplit("/", 1)[1]
    assert (
        await http.delete(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=bearer(keys.write))
    ).status_code == 204
    entries = (await http.get("/ciudad/v1/audit", headers=admin)).json()
    assert [(e["action"], e["target"]) for e in entries] == [
        ("subscription.delete", sub_id),
        ("subscription.create", sub_id),
        ("group.put", "leon-audit"),
        ("apikey.revoke", key_id),
        ("apikey.create", key_id),
    ]
    admin_id = keys.admin.split("_")[1]
    write_id = keys.write.split("_")[1]
    assert [e["actor"] for e in entries] == [f"key:{write_id}"] * 2 + [f"key:{admin_id}"] * 3
    assert entries[-1]["detail"] == {"scope": "read", "name": "x"}
    other = await http.get("/ciudad/v1/audit", headers=bearer(keys.ponferrada_admin))
    assert other.json() == []
    assert (await http.get("/ciudad/v1/audit", headers=bearer(keys.write))).status_code == 403
    with psycopg.connect(database_url) as conn:
        for change in (
            "UPDATE ciudad_audit SET actor = 'me'",
            "DELETE FROM ciudad_audit",
            "TRUNCATE ciudad_audit",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(change)
            conn.rollback()


def test_command_line_actions_are_audited(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)
    assert main(["apikey", "create", "--tenant", "lugo", "--scope", "admin", "--name", "ops"]) == 0
    key_id = json.loads(capsys.readouterr().out)["id"]
    assert main(["groups", "add", "lugo-sensors", "lugo"]) == 0
    capsys.readouterr()
    assert main(["audit", "--tenant", "lugo"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["action"], e["target"]) for e in lines] == [
        ("group.put", "lugo-sensors"),
        ("apikey.create", key_id),
    ]
    assert all(e["actor"].startswith("cli") for e in lines)
