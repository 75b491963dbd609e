"""Service levels from the platform's own data: ingest latency, API availability and
completeness per sensor, over the API and the CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from acquisition import (
    Batch,
    EntityRecord,
    ProvisioningFile,
    Reading,
    ValueType,
)
from ciudad.cli import main
from ciudad.database import open_store_at
from interoperability import create_app
from services import service_routers
from support import Settings
from tests.helpers.databases import database_at, registry_at

pytestmark = pytest.mark.integration
LEON = {"NGSILD-Tenant": "leon"}


def noise(sensor: str, at: datetime, level: float) -> Batch:
    entity_id = f"urn:ngsi-ld:NoiseLevelObserved:leon:{sensor}"
    reading = Reading(
        "leon", entity_id, "NoiseLevelObserved", "LAeq", at, level, ValueType.NUMBER, "2N"
    )
    return Batch((reading,), (EntityRecord("leon", entity_id, "NoiseLevelObserved", {}),))


async def provision(database_url: str) -> None:
    async with registry_at(database_url) as registry:
        await registry.import_document(
            ProvisioningFile.model_validate(
                {
                    "service_groups": [{"apikey": "leon-sensors", "tenant": "leon"}],
                    "devices": [
                        {
                            "device_id": d,
                            "apikey": "leon-sensors",
                            "entity_type": "NoiseLevelObserved",
                            "period_s": 60,
                        }
                        for d in ("n1", "n2")
                    ],
                }
            )
        )


async def slo_over_http(database_url: str, requests: int) -> dict[str, Any]:
    settings = Settings(
        database_url=database_url,
        api_auth="off",  # type: ignore[arg-type]
        notifier_enabled=False,
    )

    def build() -> Any:
        return create_app(
            settings,
            routers=service_routers(),
            database=database_at(database_url),
        )

    app = build()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        for _ in range(requests):
            assert (
                await http.get("/ngsi-ld/v1/entities", params={"type": "T"}, headers=LEON)
            ).status_code == 200
    app = build()  # the first one saved its counts when it stopped
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        answer = await http.get("/ciudad/v1/slo", params={"hours": 1}, headers=LEON)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


async def test_service_levels_come_from_what_the_platform_recorded(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await provision(database_url)
    store = await open_store_at(database_url, max_size=2)
    now = datetime.now(UTC)
    for i in range(18):  # fresh readings of n1, each in its own batch
        await store.write_batch(noise("n1", now - timedelta(seconds=1, minutes=i), 60.0 + i))
    await store.write_batch(noise("n1", now - timedelta(minutes=40), 70.0))  # a late one
    await store.write_batch(noise("n1", now - timedelta(minutes=41), 70.0))
    await store.write_batch(noise("n1", now - timedelta(minutes=41), 70.0))  # a replay
    await store.close()

    report = await slo_over_http(database_url, requests=5)
    latency = report["ingest_latency"]
    # Readings 1 s to 41 min old when stored: only the freshest met the 5 s objective.
    assert latency["readings"] == 20
    assert latency["within"] == 1
    assert latency["met"] is False
    assert report["api_availability"]["requests"] >= 5
    assert report["api_availability"]["server_errors"] == 0
    assert report["api_availability"]["met"] is True
    completeness = report["completeness"]
    assert (completeness["sensors"], completeness["meeting"]) == (2, 0)
    assert completeness["worst"] == [
        {"entity_id": "urn:ngsi-ld:NoiseLevelObserved:leon:n2", "completeness": 0.0},
        {"entity_id": "urn:ngsi-ld:NoiseLevelObserved:leon:n1", "completeness": 0.33333},
    ]

    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)
    assert await asyncio.to_thread(main, ["slo", "--tenant", "leon", "--hours", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["completeness"] == completeness
    assert printed["ingest_latency"]["readings"] == 20
