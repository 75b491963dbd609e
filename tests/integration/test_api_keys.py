"""API keys over the running API: scopes, tenant isolation, revocation, hashed storage, CLI."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest
from pydantic import ValidationError

from ciudad.cli import main as ciudad_main
from support import Settings
from tests.helpers.keys import Keys, bearer

pytestmark = pytest.mark.integration
LEON_N1 = "urn:ngsi-ld:NoiseLevelObserved:leon:n1"
PONFE_P1 = "urn:ngsi-ld:NoiseLevelObserved:ponferrada:p1"


async def test_requests_without_a_valid_key_get_401_with_a_hint(
    keyed: tuple[httpx.AsyncClient, Keys],
) -> None:
    http, keys = keyed
    missing = await http.get("/ngsi-ld/v1/entities", params={"type": "NoiseLevelObserved"})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["type"] == "urn:ciudad:errors:Unauthorized"
    assert "ciudad apikey create" in missing.json()["detail"]
    forged = keys.read[:-4] + "AAAA"
    for wrong in (forged, "not-a-key", "ck_short_x"):
        answer = await http.get("/ngsi-ld/v1/entities/" + LEON_N1, headers=bearer(wrong))
        assert answer.status_code == 401, wrong
    assert (await http.get("/health")).status_code == 200


async def test_each_scope_allows_its_operations_and_refuses_the_others(
    keyed: tuple[httpx.AsyncClient, Keys],
) -> None:
    http, keys = keyed
    new_entity = {
        "id": "urn:ngsi-ld:Thing:leon:t1",
        "type": "Thing",
        "name": {"type": "Property", "value": "one"},
    }
    # X-Api-Key works like the Authorization header.
    read = await http.get("/ngsi-ld/v1/entities/" + LEON_N1, headers={"X-Api-Key": keys.read})
    assert read.status_code == 200
    refused = await http.post("/ngsi-ld/v1/entities", json=new_entity, headers=bearer(keys.read))
    assert refused.status_code == 403
    assert "write scope" in refused.json()["detail"]
    created = await http.post("/ngsi-ld/v1/entities", json=new_entity, headers=bearer(keys.write))
    assert created.status_code == 201
    for admin_only in ("/ciudad/v1/apikeys", "/ciudad/v1/devices", "/ciudad/v1/dead-letters"):
        assert (await http.get(admin_only, headers=bearer(keys.write))).status_code == 403
        assert (await http.get(admin_only, headers=bearer(keys.admin))).status_code == 200
    deleted = await http.delete(
        "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:leon:t1", headers=bearer(keys.admin)
    )
    assert deleted.status_code == 204


async def test_a_key_sees_only_its_tenant(keyed: tuple[httpx.AsyncClient, Keys]) -> None:
    http, keys = keyed
    leon = await http.get(
        "/ngsi-ld/v1/entities", params={"type": "NoiseLevelObserved"}, headers=bearer(keys.read)
    )
    assert [e["id"] for e in leon.json()] == [LEON_N1]
    ponfe = await http.get(
        "/ngsi-ld/v1/entities",
        params={"type": "NoiseLevelObserved"},
        headers=bearer(keys.ponferrada_admin),
    )
    assert [e["id"] for e in ponfe.json()] == [PONFE_P1]
    # Naming the other tenant is refused, not silently answered from the key's tenant.
    crossing = await http.get(
        "/ngsi-ld/v1/entities/" + PONFE_P1,
        headers=bearer(keys.admin) | {"NGSILD-Tenant": "ponferrada"},
    )
    assert crossing.status_code == 403
    for path in (f"/ngsi-ld/v1/entities/{PONFE_P1}", f"/ngsi-ld/v1/temporal/entities/{PONFE_P1}"):
        assert (await http.get(path, headers=bearer(keys.admin))).status_code == 404
    assert (
        await http.delete(f"/ngsi-ld/v1/entities/{PONFE_P1}", headers=bearer(keys.admin))
    ).status_code == 404
    still = await http.get(
        f"/ngsi-ld/v1/entities/{PONFE_P1}", headers=bearer(keys.ponferrada_admin)
    )
    assert still.status_code == 200
    catalogue = await http.get("/ciudad/v1/opendata", headers=bearer(keys.read))
    assert catalogue.status_code == 200
    assert "ponferrada" not in catalogue.text
    same_tenant = await http.get(
        "/ngsi-ld/v1/entities/" + LEON_N1, headers=bearer(keys.read) | {"NGSILD-Tenant": "leon"}
    )
    assert same_tenant.status_code == 200


async def test_admins_create_list_and_revoke_keys_of_their_tenant(
    keyed: tuple[httpx.AsyncClient, Keys],
    database_url: str,
) -> None:
    http, keys = keyed
    made = await http.post(
        "/ciudad/v1/apikeys",
        json={"scope": "read", "name": "dashboard"},
        headers=bearer(keys.admin),
    )
    assert made.status_code == 201, made.text
    new_key = made.json()["key"]
    assert made.json()["tenant"] == "leon"
    assert (
        await http.get("/ngsi-ld/v1/entities/" + LEON_N1, headers=bearer(new_key))
    ).status_code == 200
    listed = (await http.get("/ciudad/v1/apikeys", headers=bearer(keys.admin))).json()
    assert {k["name"] for k in listed} == {"leon-read", "leon-write", "leon-admin", "dashboard"}
    assert all("key" not in k for k in listed)
    other_tenant = await http.delete(
        f"/ciudad/v1/apikeys/{made.json()['id']}", headers=bearer(keys.ponferrada_admin)
    )
    assert other_tenant.status_code == 404
    revoked = await http.delete(
        f"/ciudad/v1/apikeys/{made.json()['id']}", headers=bearer(keys.admin)
    )
    assert revoked.status_code == 204
    assert (
        await http.get("/ngsi-ld/v1/entities/" + LEON_N1, headers=bearer(new_key))
    ).status_code == 401
    bad_scope = await http.post(
        "/ciudad/v1/apikeys", json={"scope": "root", "name": "x"}, headers=bearer(keys.admin)
    )
    assert bad_scope.status_code == 400
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT * FROM ciudad_api_keys").fetchall()
    everything_stored = json.dumps(stored, default=str)
    for clear in (new_key, keys.read, keys.admin):
        assert clear.split("_", 2)[2] not in everything_stored


def test_the_cli_creates_lists_and_revokes_keys(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)
    assert (
        ciudad_main(["apikey", "create", "--tenant", "lugo", "--scope", "write", "--name", "etl"])
        == 0
    )
    created = json.loads(capsys.readouterr().out)
    assert (created["tenant"], created["scope"]) == ("lugo", "write")
    assert created["key"].startswith("ck_" + created["id"] + "_")
    assert ciudad_main(["apikey", "list", "--tenant", "lugo"]) == 0
    assert f"{created['id']}\tlugo\twrite\tlive\tetl" in capsys.readouterr().out
    assert ciudad_main(["apikey", "revoke", created["id"]]) == 0
    assert ciudad_main(["apikey", "list"]) == 0
    assert f"{created['id']}\tlugo\twrite\trevoked" in capsys.readouterr().out
    assert (
        ciudad_main(
            ["apikey", "create", "--tenant", "Bad Tenant", "--scope", "read", "--name", "x"]
        )
        == 1
    )
    assert "invalid tenant" in capsys.readouterr().err


def test_an_open_api_is_refused_off_loopback() -> None:
    assert Settings(api_auth="off", api_host="127.0.0.1").api_auth == "off"
    with pytest.raises(ValidationError, match="CIUDAD_API_AUTH=keys"):
        Settings(api_auth="off", api_host="0.0.0.0")
