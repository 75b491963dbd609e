"""The gateway accepts exactly what the firmware sends (shared golden payload vectors)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from acquisition import MeasurePipeline, Provisioning, parse_observation_time
from acquisition.provisioning.model import ENTITY_TYPE_OF_KIND
from capture import NodeKind, measure_topic
from tests.helpers.fleet import APIKEY

GOLDEN = json.loads(
    (Path(__file__).resolve().parents[2] / "firmware" / "golden_vectors.json").read_text()
)
DEVICE_OF_KIND = {
    "noise": "noise-001",
    "air": "air-001",
    "parking": "parking-001",
    "streetlight": "streetlight-001",
}


def _round(value: Any, decimals: int) -> Any:
    if isinstance(value, str):
        return value
    return round(value) if decimals == 0 else float(f"{value:.{decimals}f}")


@pytest.mark.parametrize("vector", GOLDEN["vectors"], ids=lambda v: v["name"])
def test_gateway_decodes_each_golden_payload(
    vector: dict[str, Any], pipeline: MeasurePipeline, provisioning: Provisioning
) -> None:
    device = provisioning.lookup(APIKEY, DEVICE_OF_KIND[vector["kind"]])
    assert device.entity_type.type_name == ENTITY_TYPE_OF_KIND[NodeKind(vector["kind"])]
    observed = parse_observation_time(vector["time"])
    outcome = pipeline.process(
        measure_topic(APIKEY, device.device_id),
        vector["payload"].encode(),
        observed + timedelta(seconds=1),
    )
    assert outcome.dead_letters == ()
    got = {r.attr: r.value for r in outcome.readings}
    for key, value, decimals in vector["fields"]:
        spec = device.attributes[key]
        expected = _round(value, decimals)
        if isinstance(expected, str):
            assert got[spec.name] == expected
        else:
            assert got[spec.name] == pytest.approx(expected * spec.scale)
    assert {r.observed_at for r in outcome.readings} == {observed}


def test_gateway_decodes_the_golden_backlog(
    pipeline: MeasurePipeline, provisioning: Provisioning
) -> None:
    last = parse_observation_time(GOLDEN["vectors"][1]["time"])
    outcome = pipeline.process(
        measure_topic(APIKEY, "noise-001"),
        GOLDEN["backlog"]["payload"].encode(),
        last + timedelta(seconds=1),
    )
    assert outcome.dead_letters == ()
    times = sorted({r.observed_at for r in outcome.readings if r.attr == "LAeq"})
    assert [t.isoformat() for t in times] == [
        datetime.fromisoformat(v["time"]).isoformat() for v in GOLDEN["vectors"][:2]
    ]
