"""The simulator speaks the gateway's protocol and produces realistic daily profiles."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from acquisition import MeasurePipeline
from capture import (
    DEFAULT_COUNTS,
    DeviceSpec,
    NodeKind,
    ReadingGenerator,
    build_fleet,
    encode_measures,
    measure_topic,
)
from support import LEON_LATITUDE, LEON_LONGITUDE


def _local_noon_and_night(day: datetime) -> tuple[float, float]:
    # León is UTC+1 in winter: 13:00 UTC is early afternoon, 02:00 UTC is deep night.
    return day.replace(hour=13).timestamp(), day.replace(hour=2).timestamp()


def number(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def test_fleet_has_every_kind_near_the_centre(fleet: tuple[DeviceSpec, ...]) -> None:
    kinds = {d.kind for d in fleet}
    assert kinds == set(NodeKind)
    assert len(fleet) == sum(DEFAULT_COUNTS.values())
    for device in fleet:
        assert abs(device.latitude - LEON_LATITUDE) < 0.02
        assert abs(device.longitude - LEON_LONGITUDE) < 0.03


def test_fleet_is_reproducible_from_its_seed() -> None:
    assert build_fleet(1.0, 2.0, "k", seed=3) == build_fleet(1.0, 2.0, "k", seed=3)
    assert build_fleet(1.0, 2.0, "k", seed=3) != build_fleet(1.0, 2.0, "k", seed=4)


def test_noise_is_louder_by_day_than_at_night(fleet: tuple[DeviceSpec, ...]) -> None:
    noise = next(d for d in fleet if d.kind is NodeKind.NOISE)
    day = datetime(2026, 11, 18, tzinfo=UTC)
    noon, night = _local_noon_and_night(day)
    generator = ReadingGenerator(noise)
    by_day = [generator.measure(noon + 60 * k)["laeq"] for k in range(30)]
    by_night = [generator.measure(night + 60 * k)["laeq"] for k in range(30)]
    assert sum(by_day) / 30 > sum(by_night) / 30 + 10  # type: ignore[operator]


def test_one_noise_sensor_stands_where_the_busiest_hours_pass_70_db(
    fleet: tuple[DeviceSpec, ...],
) -> None:
    noon, night = _local_noon_and_night(datetime(2026, 11, 18, tzinfo=UTC))

    def hourly_leq(device: DeviceSpec, start: float) -> float:
        generator = ReadingGenerator(device)
        levels = [number(generator.measure(start + 60 * k)["laeq"]) for k in range(60)]
        return 10 * math.log10(sum(10 ** (v / 10) for v in levels) / len(levels))

    noise = [d for d in fleet if d.kind is NodeKind.NOISE]
    loud = [d for d in noise if hourly_leq(d, noon) > 70]
    assert [d.device_id for d in loud] == ["noise-006"]
    assert hourly_leq(loud[0], night) < 70


def test_one_lamp_has_failed_and_its_node_says_so(fleet: tuple[DeviceSpec, ...]) -> None:
    _, night = _local_noon_and_night(datetime(2026, 11, 18, tzinfo=UTC))
    reports = {
        d.device_id: ReadingGenerator(d).measure(night)
        for d in fleet
        if d.kind is NodeKind.STREETLIGHT
    }
    failed = {name: r for name, r in reports.items() if r["flt"] != "ok"}
    assert list(failed) == ["streetlight-003"]
    assert failed["streetlight-003"]["on"] == "on"
    assert number(failed["streetlight-003"]["w"]) < 1
    assert all(number(r["w"]) > 30 for name, r in reports.items() if name not in failed)


def test_streetlights_burn_at_night_and_are_off_by_day(fleet: tuple[DeviceSpec, ...]) -> None:
    lamp = next(d for d in fleet if d.kind is NodeKind.STREETLIGHT)
    noon, night = _local_noon_and_night(datetime(2026, 11, 18, tzinfo=UTC))
    generator = ReadingGenerator(lamp)
    assert generator.measure(noon)["on"] == "off"
    assert generator.measure(noon)["w"] == 0.0
    at_night = generator.measure(night)
    assert at_night["on"] == "on"
    assert at_night["w"] > 0  # type: ignore[operator]


@settings(max_examples=40, deadline=None)
@given(offset_s=st.integers(min_value=0, max_value=7 * 86400))
def test_every_simulated_measure_is_accepted_by_the_gateway(
    fleet: tuple[DeviceSpec, ...], pipeline: MeasurePipeline, offset_s: int
) -> None:
    when = datetime(2026, 11, 15, tzinfo=UTC) + timedelta(seconds=offset_s)
    for device in fleet:
        measure = ReadingGenerator(device).measure(when.timestamp())
        outcome = pipeline.process(
            measure_topic(device.apikey, device.device_id), encode_measures(measure), when
        )
        assert outcome.dead_letters == (), outcome.dead_letters
        assert outcome.readings
