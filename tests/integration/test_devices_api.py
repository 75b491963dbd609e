"""Device registry over HTTP: tenant scoping, CSV bulk import, credentials, revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from interoperability import create_app
from support import Settings
from tests.helpers.databases import database_at

pytestmark = pytest.mark.integration
LEON = {"NGSILD-Tenant": "leon"}
ASTORGA = {"NGSILD-Tenant": "astorga"}
CSV = (
    "device_id,apikey,entity_type,entity_id,period_s,longitude,latitude,attributes,"
    "static_attributes\n"
    'p1,leon-key,ParkingSpot,,60,-5.57,42.6,,"{""category"": {""type"": ""Property"", '
    '""value"": [""onStreet""]}, ""refParkingSite"": {""type"": ""Relationship"", '
    '""object"": ""urn:ngsi-ld:OnStreetParking:z1""}}"\n'
)


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, api_auth="off")  # type: ignore[arg-type]

    app = create_app(settings, database_at(database_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        yield http


async def test_csv_import_and_tenant_scoping(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/ciudad/v1/service-groups", headers=LEON, json={"apikey": "leon-key", "tenant": "leon"}
    )
    assert created.status_code == 201
    imported = await client.post(
        "/ciudad/v1/devices", content=CSV, headers={**LEON, "Content-Type": "text/csv"}
    )
    assert imported.json() == {"count": 1}
    device = (await client.get("/ciudad/v1/devices/leon-key/p1", headers=LEON)).json()
    assert device["static_attributes"]["location"]["value"]["coordinates"] == [-5.57, 42.6]
    assert device["tenant"] == "leon"
    assert not device["revoked"]
    assert (await client.get("/ciudad/v1/devices", headers=ASTORGA)).json() == []
    hidden = await client.get("/ciudad/v1/devices/leon-key/p1", headers=ASTORGA)
    assert hidden.status_code == 404
    stolen = await client.post(
        "/ciudad/v1/devices",
        headers=ASTORGA,
        json=[{"device_id": "x", "apikey": "leon-key", "entity_type": "ParkingSpot"}],
    )
    assert stolen.status_code == 400
    exported = await client.get("/ciudad/v1/devices", params={"format": "csv"}, headers=LEON)
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[1].startswith("p1,leon-key,ParkingSpot")


async def test_credentials_are_shown_once_and_revocation_sticks(
    client: httpx.AsyncClient,
) -> None:
    await client.post(
        "/ciudad/v1/service-groups", headers=LEON, json={"apikey": "leon-key", "tenant": "leon"}
    )
    await client.post(
        "/ciudad/v1/devices",
        headers=LEON,
        json=[{"device_id": "n1", "apikey": "leon-key", "entity_type": "NoiseLevelObserved"}],
    )
    issued = await client.post("/ciudad/v1/devices/leon-key/n1/credentials", headers=LEON)
    assert issued.status_code == 201
    assert issued.json()["username"] == "leon-key.n1"
    listed = (await client.get("/ciudad/v1/devices/leon-key/n1", headers=LEON)).json()
    assert listed["has_credentials"]
    assert "password" not in str(listed)
    assert (
        await client.post("/ciudad/v1/devices/leon-key/n1/revoke", headers=LEON)
    ).status_code == 204
    after = (await client.get("/ciudad/v1/devices/leon-key/n1", headers=LEON)).json()
    assert after["revoked"]
    assert not after["has_credentials"]


async def test_invalid_devices_are_400_with_the_reason(client: httpx.AsyncClient) -> None:
    await client.post(
        "/ciudad/v1/service-groups", headers=LEON, json={"apikey": "leon-key", "tenant": "leon"}
    )
    response = await client.post(
        "/ciudad/v1/devices",
        headers=LEON,
        json=[{"device_id": "s1", "apikey": "leon-key", "entity_type": "Spaceship"}],
    )
    assert response.status_code == 400
    assert "Spaceship" in response.json()["detail"]
    bad_csv = await client.post(
        "/ciudad/v1/devices",
        content="device_id,apikey\nx,y\n",
        headers={**LEON, "Content-Type": "text/csv"},
    )
    assert bad_csv.status_code == 400
    assert "entity_type" in bad_csv.json()["detail"]
