"""The real open-data samples replayed through the platform give what the files say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capture.samples import SAMPLE_DIR, read_aarhus_parking, read_beijing_air
from ciudad.cli import main
from ciudad.samples_import import import_samples
from services.environment.air_quality import air_quality_index
from support import ConfigurationError, Settings
from tests.helpers.api_client import open_api

pytestmark = pytest.mark.integration
SAMPLES = SAMPLE_DIR
DONGSI = SAMPLES / "air_quality" / "beijing_PRSA_Dongsi_2013-03.csv"


def headers(tenant: str) -> dict[str, str]:
    return {"NGSILD-Tenant": tenant}


async def get(http: Any, path: str, tenant: str, **params: Any) -> Any:
    answer = await http.get(path, params=params, headers=headers(tenant))
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
async def imported(database_url: str) -> str:
    settings = Settings(database_url=database_url)  # type: ignore[arg-type]
    done = await import_samples(settings, SAMPLES, ["beijing", "madrid", "valencia", "aarhus"])
    assert {d.sample: d.entities for d in done} == {
        "beijing": 2, "madrid": 30, "valencia": 16, "aarhus": 8
    }  # fmt: skip
    again = await import_samples(settings, SAMPLES, ["aarhus"])  # a replay adds nothing
    assert again[0].readings == done[3].readings
    return database_url


def no2_hours_above(limit: float) -> int:
    return sum(1 for o in read_beijing_air(DONGSI) if o.values.get("no2", 0) > limit)


async def test_beijing_gives_the_index_and_alerts_the_rows_imply(imported: str) -> None:
    march = {"timeAt": "2013-02-28T16:00:00Z", "endTimeAt": "2013-03-31T16:00:00Z"}
    async with open_api(imported) as http:
        hours = await get(http, "/ciudad/v1/services/air/aqi", "beijing", **march)
        raised = await http.post(
            "/ciudad/v1/services/alerts/evaluate", params=march, headers=headers("beijing")
        )
        alerts = await get(http, "/ciudad/v1/services/alerts", "beijing", limit=1000)
    dongsi = {h["hour"]: h for h in hours if h["id"].endswith(":Dongsi")}
    rows = read_beijing_air(DONGSI)
    assert len(dongsi) == sum(1 for r in rows if set(r.values) & {"pm25", "pm10", "no2", "o3"})
    for row in rows[:48]:
        expected = air_quality_index(
            {k: v for k, v in row.values.items() if k in ("pm25", "pm10", "no2", "o3")}
        )
        assert expected is not None
        got = dongsi[row.at.astimezone(UTC).isoformat().replace("+00:00", "Z")]
        assert (got["band"], got["dominant"]) == (expected.band + 1, expected.dominant)
    assert raised.status_code == 200
    dongsi_no2 = [
        a for a in alerts if a["rule"] == "no2-hourly-limit" and a["source"].endswith(":Dongsi")
    ]
    assert len(dongsi_no2) == no2_hours_above(200)


VALENCIA_METER = "urn:ngsi-ld:NoiseLevelObserved:valencia:T248669-daily"
SOL = {"georel": "near;maxDistance==1500", "geometry": "Point", "coordinates": "[-3.7038,40.4168]"}


def full_garage_hours() -> int:
    """UTC hours in which every count of a garage left no space (the file's own view)."""
    path = SAMPLES / "parking" / "aarhus_parking_2014-05-22_to_28.csv"
    hours: dict[tuple[str, datetime], bool] = {}
    for count in read_aarhus_parking(path):
        hour = count.at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        hours[count.garage, hour] = hours.get((count.garage, hour), True) and (
            count.occupied >= count.total
        )
    return sum(hours.values())


def last_counts_occupancy() -> float:
    """Occupied over total spaces in each garage's last count, counts past capacity clipped."""
    path = SAMPLES / "parking" / "aarhus_parking_2014-05-22_to_28.csv"
    last = {c.garage: c for c in sorted(read_aarhus_parking(path), key=lambda c: c.at)}
    taken = sum(min(c.occupied, c.total) for c in last.values())
    return taken / sum(c.total for c in last.values())


async def test_aarhus_full_car_parks_raise_alerts(imported: str) -> None:
    week = {"timeAt": "2014-05-21T00:00:00Z", "endTimeAt": "2014-05-30T00:00:00Z"}
    async with open_api(imported) as http:
        aarhus = headers("aarhus")
        raised = await http.post("/ciudad/v1/services/alerts/evaluate", params=week, headers=aarhus)
        alerts = await get(http, "/ciudad/v1/services/alerts", "aarhus", limit=1000)
        kpi = await get(http, "/ciudad/v1/services/kpi", "aarhus", hours=9 * 24,
                        endTimeAt=week["endTimeAt"])  # fmt: skip
    assert raised.json() == {"raised": full_garage_hours()}
    assert {a["source"].rsplit(":", 1)[1] for a in alerts} == {"BUSGADEHUSET"}
    assert {a["rule"] for a in alerts} == {"parking-full-hour"}
    assert kpi["parking"]["occupancy"] == pytest.approx(last_counts_occupancy(), abs=1e-4)
    assert kpi["sensorsOnline"]["OffStreetParking"]["sensors"] == 8
    assert kpi["alerts"]["byRule"] == {"parking-full-hour": full_garage_hours()}


async def test_madrid_valencia_and_aarhus_read_back_as_published(imported: str) -> None:
    noise, parking = {"type": "NoiseLevelObserved"}, {"type": "OffStreetParking"}
    one_day = {"timerel": "between", "timeAt": "2020-11-16T23:00:00Z",
               "endTimeAt": "2020-11-17T23:00:00Z", "attrs": "LAeq_den"}  # fmt: skip
    async with open_api(imported) as http:
        stations = await get(http, "/ngsi-ld/v1/entities", "madrid", limit=100, **noise)
        near_sol = await get(http, "/ngsi-ld/v1/entities", "madrid", **noise, **SOL)
        meter = await get(
            http, f"/ngsi-ld/v1/temporal/entities/{VALENCIA_METER}", "valencia", **one_day
        )
        garages = await get(http, "/ngsi-ld/v1/entities", "aarhus", limit=100, **parking)
        catalogue = await get(http, "/ciudad/v1/opendata", "aarhus")
    assert len(stations) == 30
    assert all("location" in s for s in stations)
    assert 0 < len(near_sol) < 30
    (instance,) = meter["LAeq_den"] if isinstance(meter["LAeq_den"], list) else [meter["LAeq_den"]]
    assert instance["value"] == 63.5  # the file's row for T248669 on 2020-11-17
    assert len(garages) == 8
    assert all(g["availableSpotNumber"]["value"] >= 0 for g in garages)
    assert [(e["entityType"], e["entities"]) for e in catalogue] == [("OffStreetParking", 8)]


def test_the_command_names_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["samples", "import", "--dir", str(tmp_path / "nowhere")]) == 1
    assert "sample directory" in capsys.readouterr().err


async def test_an_unknown_sample_is_refused(database_url: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown samples"):
        await import_samples(Settings(database_url=database_url), SAMPLES, ["lisbon"])  # type: ignore[arg-type]
