"""`ciudad backup` then `ciudad restore` into a fresh database: the API serves the same."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from ciudad.cli import main
from ciudad.database import open_store_at
from interoperability import create_app
from support import Settings
from tests.helpers.api_client import open_api
from tests.helpers.batches import _noise_batch
from tests.helpers.databases import create_database, database_at

pytestmark = [pytest.mark.integration, pytest.mark.slow]
NOISE = "urn:ngsi-ld:NoiseLevelObserved:leon:n1"
LEON = {"NGSILD-Tenant": "leon"}
HOURLY = {
    "options": "aggregatedValues",
    "aggrMethods": "avg,max,totalCount",
    "aggrPeriodDuration": "PT1H",
}


async def snapshot(http: httpx.AsyncClient) -> dict[str, Any]:
    async def get(path: str, **params: str) -> Any:
        answer = await http.get(path, params=params, headers=LEON)
        assert answer.status_code == 200, answer.text
        return answer.json()

    return {
        "entities": await get("/ngsi-ld/v1/entities", type="NoiseLevelObserved"),
        "history": await get(f"/ngsi-ld/v1/temporal/entities/{NOISE}"),
        "hourly": await get(f"/ngsi-ld/v1/temporal/entities/{NOISE}", **HOURLY),
        "subscriptions": await get("/ngsi-ld/v1/subscriptions"),
    }


async def test_a_restored_database_serves_the_same_history(
    database_url: str,
    postgres_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = await open_store_at(database_url, max_size=2)
    await store.write_batch(_noise_batch("leon", "n1", [60.0, 70.0, 60.0, 70.0, 60.0]))
    await store.close()
    async with open_api(database_url) as http:
        made = await http.post(
            "/ngsi-ld/v1/subscriptions",
            headers=LEON,
            json={
                "entities": [{"type": "NoiseLevelObserved"}],
                "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
            },
        )
        assert made.status_code == 201
        before = await snapshot(http)
    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)
    assert (
        await asyncio.to_thread(
            main, ["apikey", "create", "--tenant", "leon", "--scope", "read", "--name", "b"]
        )
        == 0
    )
    key = json.loads(capsys.readouterr().out)["key"]
    dump = tmp_path / "ciudad.dump"
    assert await asyncio.to_thread(main, ["backup", "--output", str(dump)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["restore", str(dump)]) == 1  # never over a live database
    assert "empty database" in capsys.readouterr().err

    fresh = create_database(postgres_uri)
    monkeypatch.setenv("CIUDAD_DATABASE_URL", fresh)
    assert await asyncio.to_thread(main, ["restore", str(dump)]) == 0
    async with open_api(fresh) as http:
        assert await snapshot(http) == before
    assert before["hourly"]["LAeq"]["totalCount"][0][0] == 5
    keys = Settings(database_url=fresh)  # type: ignore[arg-type]
    app = create_app(keys, database=database_at(fresh))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        answer = await http.get(
            f"/ngsi-ld/v1/entities/{NOISE}", headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200  # keys survive as digests
