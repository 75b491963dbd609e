"""The device registry on a real PostgreSQL, and a running gateway following it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acquisition import (
    DeviceEntry,
    DeviceRegistry,
    MeasurePipeline,
    ProvisioningFile,
    ServiceGroupEntry,
    devices_to_csv,
    follow_registry,
    parse_devices_csv,
    provisioning_document,
)
from capture import DeviceSpec
from ciudad.database import open_database
from knowledge import PostgresStore
from support import ConfigurationError, NotFoundError
from support.mosquitto import MosquittoBroker
from tests.helpers.databases import registry_at
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.gateway import noise_message, publish, running_gateway
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry(database_url: str) -> AsyncIterator[DeviceRegistry]:
    async with registry_at(database_url) as opened:
        yield opened


@pytest.fixture
def fleet_document(fleet: tuple[DeviceSpec, ...]) -> ProvisioningFile:
    return ProvisioningFile.model_validate(provisioning_document(fleet, TENANT, period_s=60))


async def test_import_then_provisioning_has_every_device(
    registry: DeviceRegistry, fleet_document: ProvisioningFile
) -> None:
    assert await registry.import_document(fleet_document) == len(fleet_document.devices)
    provisioning = await registry.provisioning()
    assert len(provisioning) == len(fleet_document.devices)
    assert provisioning.lookup(APIKEY, "parking-003").tenant == TENANT


async def test_csv_export_imports_back_to_the_same_devices(
    registry: DeviceRegistry, fleet_document: ProvisioningFile
) -> None:
    await registry.import_document(fleet_document)
    exported = devices_to_csv(r.entry for r in await registry.devices())
    entries = parse_devices_csv(exported)
    assert entries == [r.entry for r in await registry.devices()]
    assert exported.splitlines()[0].startswith("device_id,apikey,entity_type")


async def test_revoked_devices_leave_the_provisioning_but_stay_listed(
    registry: DeviceRegistry, fleet_document: ProvisioningFile
) -> None:
    await registry.import_document(fleet_document)
    await registry.set_password_hash(APIKEY, "noise-001", "$7$101$x$y")
    assert [c.device_id for c in await registry.credentials()] == ["noise-001"]
    await registry.revoke(APIKEY, "noise-001")
    assert await registry.credentials() == []
    assert (await registry.device(APIKEY, "noise-001")).revoked
    with pytest.raises(Exception, match="not provisioned"):
        (await registry.provisioning()).lookup(APIKEY, "noise-001")


async def test_bad_devices_are_refused_whole(registry: DeviceRegistry) -> None:
    await registry.put_group(ServiceGroupEntry(apikey="k1", tenant="t1"))
    good = DeviceEntry(device_id="a", apikey="k1", entity_type="ParkingSpot")
    bad = DeviceEntry(device_id="b", apikey="nokey", entity_type="ParkingSpot")
    with pytest.raises(ConfigurationError, match="nokey"):
        await registry.put_devices([good, bad])
    assert await registry.devices() == []
    with pytest.raises(NotFoundError):
        await registry.revoke("k1", "ghost")
    await registry.put_devices([good])
    with pytest.raises(ConfigurationError, match="still has 1 devices"):
        await registry.delete_group("k1")


async def test_running_gateway_picks_up_a_new_device_without_restart(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    registry: DeviceRegistry,
    database_url: str,
    fleet_document: ProvisioningFile,
) -> None:
    newcomer = "noise-777"
    await registry.import_document(fleet_document)
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
        db = await open_database(database_url, max_size=1)
        follower = asyncio.create_task(follow_registry(registry, pipeline, db))
        try:
            topic, payload = noise_message(50.0)
            topic = topic.replace("noise-001", newcomer)
            await asyncio.to_thread(publish, mosquitto, [(topic, payload)])

            async def refused() -> bool:
                return any(d.reason == "unknown_device" for d in await store.dead_letters(None, 5))

            await wait_until(refused)
            await registry.put_devices(
                [
                    DeviceEntry(
                        device_id=newcomer,
                        apikey=APIKEY,
                        entity_type="NoiseLevelObserved",
                        static_attributes=fleet_document.devices[0].static_attributes,
                    )
                ]
            )

            async def accepted() -> bool:
                await asyncio.to_thread(publish, mosquitto, [noise_message(51.0)])
                await asyncio.to_thread(publish, mosquitto, [(topic, payload)])
                try:
                    await store.get_entity(
                        TENANT, f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:{newcomer}"
                    )
                except NotFoundError:
                    return False
                return True

            await wait_until(accepted)
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            await db.close()


def test_devices_cli_imports_lists_exports_and_revokes(
    database_url: str, fleet_document: ProvisioningFile, tmp_path: Path
) -> None:
    source = tmp_path / "fleet.json"
    source.write_text(fleet_document.model_dump_json())
    env = dict(os.environ, CIUDAD_DATABASE_URL=database_url, CIUDAD_DATA_DIR=str(tmp_path))

    def ciudad(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "ciudad", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "imported 29 devices" in ciudad("devices", "import", str(source))
    csv_text = ciudad("devices", "export", "--format", "csv")
    assert len(csv_text.strip().splitlines()) == 30
    (tmp_path / "fleet.csv").write_text(csv_text)
    assert "imported 29 devices" in ciudad("devices", "import", str(tmp_path / "fleet.csv"))
    credentials = json.loads(ciudad("devices", "credentials", APIKEY, "air-001"))
    assert credentials["username"] == f"{APIKEY}.air-001"
    assert len(credentials["password"]) >= 20
    ciudad("devices", "revoke", APIKEY, "air-001")
    listed = ciudad("devices", "list", "--tenant", TENANT)
    assert f"{APIKEY}\tair-001\tAirQualityObserved\t{TENANT}\trevoked" in listed
    bad = subprocess.run(
        [sys.executable, "-m", "ciudad", "devices", "import", "/nope.json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "does not exist" in bad.stderr
