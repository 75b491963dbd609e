"""Parking, lighting and the KPI board over the API, on data with known answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from acquisition import Batch, EntityRecord, Reading, ValueType
from ciudad.database import open_store_at
from services.energy.lighting import firmware_steps, night_schedule
from support.times import iso_utc
from tests.helpers.api_client import open_api
from tests.helpers.databases import fresh_database

pytestmark = pytest.mark.integration
LEON = {"NGSILD-Tenant": "leon"}
NOW = datetime.now(UTC)
H0 = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
NIGHT = datetime.combine(NOW.date() - timedelta(days=2), datetime.min.time(), UTC)
MADRID = ZoneInfo("Europe/Madrid")


def point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def bay(name: str, zone: str, lat: float, lon: float) -> EntityRecord:
    static = {
        "location": point(lat, lon),
        "refParkingSite": {"type": "Relationship", "object": f"urn:ngsi-ld:OnStreetParking:{zone}"},
    }
    return EntityRecord("leon", f"urn:ngsi-ld:ParkingSpot:leon:{name}", "ParkingSpot", static)


def status(name: str, at: datetime, value: str) -> Reading:
    entity_id = f"urn:ngsi-ld:ParkingSpot:leon:{name}"
    return Reading("leon", entity_id, "ParkingSpot", "status", at, value, ValueType.TEXT)


def lamp_reading(name: str, at: datetime, attr: str, value: float | str) -> Reading:
    kind = ValueType.TEXT if isinstance(value, str) else ValueType.NUMBER
    entity_id = f"urn:ngsi-ld:Streetlight:leon:{name}"
    return Reading("leon", entity_id, "Streetlight", attr, at, value, kind)


def lamp(name: str, located: bool = True) -> EntityRecord:
    static: dict[str, Any] = {"powerRating": {"type": "Property", "value": 100}}
    if located:
        static["location"] = point(42.5987, -5.5671)
    return EntityRecord("leon", f"urn:ngsi-ld:Streetlight:leon:{name}", "Streetlight", static)


def daytime_pattern(hours: int) -> list[Reading]:
    """Bay f1 occupied from 08:00 to 18:00 Madrid time, free otherwise, every hour."""
    start = H0 - timedelta(hours=hours)
    return [
        status("f1", at, "occupied" if 8 <= at.astimezone(MADRID).hour < 18 else "free")
        for at in (start + timedelta(hours=h) for h in range(hours + 2))
    ]


async def fill(database_url: str) -> None:
    store = await open_store_at(database_url, max_size=2)
    bays = (bay("b1", "z1", 42.600, -5.570), bay("b2", "z1", 42.601, -5.570),
            bay("b3", "z1", 42.602, -5.571), bay("b4", "z2", 42.610, -5.560),
            bay("f1", "zf", 42.620, -5.550))  # fmt: skip
    statuses = (
        status("b1", H0, "occupied"), status("b1", H0 + timedelta(minutes=30), "free"),
        status("b2", H0 - timedelta(minutes=10), "occupied"), status("b3", H0, "free"),
        status("b4", H0, "free"),
    )  # fmt: skip
    # l1: 2 h at its full 100 W, then 2 h dimmed to 50 W
    power = [
        lamp_reading("l1", NIGHT + timedelta(minutes=15 * i), "powerConsumption", watts)
        for i, watts in enumerate([100.0] * 9 + [50.0] * 8)
    ]
    power += [
        lamp_reading("l1", NIGHT + timedelta(hours=4), "powerState", "on"),
        lamp_reading("l2", NIGHT, "powerState", "on"),
        lamp_reading("l2", NIGHT, "powerConsumption", 1.0),
        lamp_reading("l3", NIGHT + timedelta(hours=12), "powerConsumption", 100.0),
    ]
    await store.write_batch(
        Batch(
            (*statuses, *daytime_pattern(8 * 24), *power),
            (*bays, lamp("l1"), lamp("l2", located=False), lamp("l3")),
        )
    )
    await store.close()


async def get(http: Any, path: str, **params: Any) -> Any:
    answer = await http.get(path, params=params, headers=LEON)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_parking_availability_history_forecast_and_nearest(database_url: str) -> None:
    await fill(database_url)
    z1 = "urn:ngsi-ld:OnStreetParking:z1"
    async with open_api(database_url) as http:
        zones = await get(http, "/ciudad/v1/services/parking/zones")
        history = await get(
            http, "/ciudad/v1/services/parking/occupancy", zone=z1,
            timeAt=H0.isoformat(), endTimeAt=(H0 + timedelta(hours=2)).isoformat(),
        )  # fmt: skip
        nearest = await get(
            http, "/ciudad/v1/services/parking/nearest", lat=42.6021, lon=-5.571, limit=2
        )
        forecast = await get(
            http,
            "/ciudad/v1/services/parking/forecast",
            zone="urn:ngsi-ld:OnStreetParking:zf",
            hours=6,
        )
        bad_zone = await http.get(
            "/ciudad/v1/services/parking/forecast",
            params={"zone": "x", "timezone": "Nowhere/X"},
            headers=LEON,
        )
    z1_row = next(z for z in zones if z["zone"] == z1)
    assert (z1_row["free"], z1_row["occupied"], z1_row["occupancy"]) == (
        2,
        1,
        pytest.approx(0.3333),
    )
    # b1 half the first hour, b2 all of it, b3 none: 0.5; then b2 alone: 1/3
    assert [round(h["occupancy"], 4) for h in history] == [0.5, 0.3333]
    assert [b["id"].rsplit(":", 1)[1] for b in nearest] == ["b3", "b1"]
    assert nearest[0]["distanceM"] < 20
    expected = [
        1.0 if 8 <= datetime.fromisoformat(f["at"]).astimezone(MADRID).hour < 18 else 0.0
        for f in forecast["forecast"]
    ]
    assert [f["occupancy"] for f in forecast["forecast"]] == expected
    assert forecast["learntFromHours"] >= 8 * 24
    assert bad_zone.status_code == 400


async def test_lighting_energy_faults_schedules_and_the_kpi_board(database_url: str) -> None:
    await fill(database_url)
    window = {"timeAt": NIGHT.isoformat(), "endTimeAt": (NIGHT + timedelta(hours=6)).isoformat()}
    device = {"device_id": "lamp-1", "apikey": "leon-sensors", "entity_type": "Streetlight",
              "entity_id": "urn:ngsi-ld:Streetlight:leon:l1"}  # fmt: skip
    async with open_api(database_url) as http:
        energy = await get(http, "/ciudad/v1/services/lighting/energy", **window)
        faults = await get(http, "/ciudad/v1/services/lighting/faults")
        group = {"apikey": "leon-sensors", "tenant": "leon"}
        assert (
            await http.post("/ciudad/v1/service-groups", json=group, headers=LEON)
        ).status_code == 201
        assert (
            await http.post("/ciudad/v1/devices", json=[device], headers=LEON)
        ).status_code == 201
        sent = await http.post(
            "/ciudad/v1/services/lighting/schedule/send", params={"day": "2026-11-22"}, headers=LEON
        )
        command = await get(http, f"/ciudad/v1/commands/{sent.json()[0]['command']}")
        raised = await http.post("/ciudad/v1/services/alerts/evaluate", params=window, headers=LEON)
        alerts = await get(http, "/ciudad/v1/services/alerts")
        kpi = await get(http, "/ciudad/v1/services/kpi", hours=72)
        then = await get(http, "/ciudad/v1/services/kpi", hours=6, endTimeAt=window["endTimeAt"])
    assert (energy["kWh"], energy["baselineKWh"]) == (
        pytest.approx(0.30625, abs=1e-4),
        pytest.approx(0.4),
    )
    assert energy["savedKWh"] == pytest.approx(0.09375, abs=1e-4)
    assert {f["id"].rsplit(":", 1)[1]: f["faults"] for f in faults} == {
        "l2": ["no-power-when-on"],
        "l3": ["burning-by-day"],
    }
    assert sent.status_code == 202
    assert [(s["id"], s["device"]) for s in sent.json()] == [(device["entity_id"], "lamp-1")]
    steps = night_schedule(date(2026, 11, 22), 42.5987, -5.5671)
    assert steps is not None
    assert (command["name"], command["value"], command["device"]) == (
        "schedule",
        firmware_steps(steps),
        "leon-sensors/lamp-1",
    )
    assert raised.json() == {"raised": 2}
    assert sorted((a["rule"], a["source"].rsplit(":", 1)[1]) for a in alerts) == [
        ("lamp-burning-by-day", "l3"), ("lamp-no-power-when-on", "l2"),
    ]  # fmt: skip
    assert kpi["energy"]["savedKWh"] == pytest.approx(0.09375, abs=1e-4)
    assert then["window"] == {"start": iso_utc(NIGHT), "end": iso_utc(NIGHT + timedelta(hours=6))}
    assert then["energy"]["kWh"] == pytest.approx(0.30625, abs=1e-4)
    assert kpi["alerts"]["raised"] == 2
    assert kpi["alerts"]["bySubCategory"] == {"lampFault": 2}
    assert kpi["sensorsOnline"]["ParkingSpot"]["sensors"] == 5
    assert kpi["sensorsOnline"]["Streetlight"] == {
        "domain": "energy", "sensors": 3, "online": 0, "onlineShare": 0.0
    }  # fmt: skip
    assert kpi["parking"]["occupancy"] == pytest.approx(
        sum(z["occupied"] for z in kpi["parking"]["zones"])
        / sum(z["occupied"] + z["free"] for z in kpi["parking"]["zones"])
    )
    assert kpi["completeness"]["sensors"] == 1  # the one provisioned device


async def test_the_services_read_where_the_api_reads(postgres_uri: str, database_url: str) -> None:
    """With CIUDAD_DATABASE_READ_URL (a standby under Patroni), the services' GETs read
    there too; here it is another database, filled where the primary is empty."""
    with fresh_database(postgres_uri) as replica:
        await fill(replica)
        async with open_api(database_url, database_read_url=replica) as http:
            zones = await get(http, "/ciudad/v1/services/parking/zones")
            lamps = await get(http, "/ciudad/v1/services/dashboard/map")
        async with open_api(database_url) as http:
            assert await get(http, "/ciudad/v1/services/parking/zones") == []
    assert {z["zone"].rsplit(":", 1)[1] for z in zones} == {"z1", "z2", "zf"}
    assert any("Streetlight" in feature["id"] for feature in lamps)
