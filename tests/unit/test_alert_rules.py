"""Alert rules: known window statistics in, the expected exceedances out; the rules file."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from knowledge import SeriesAggregates, summarise
from services.alerts.evaluation import alert_id, draft_from
from services.alerts.rules import DEFAULT_RULES, AlertRule, exceedances, load_rules
from support import ConfigurationError

HOUR_US = 3600 * 10**6
T0 = 1_700_000_000 // 3600 * 3600 * 10**6  # an hour boundary


def rule(name: str) -> AlertRule:
    return next(r for r in DEFAULT_RULES if r.name == name)


def aggregates(attr: str, values: dict[str, list[float]], db: bool = False) -> SeriesAggregates:
    """One hour of readings per entity, ten minutes apart, starting at T0."""
    ids = tuple(values)
    series = np.concatenate([np.full(len(v), i, np.int64) for i, v in enumerate(values.values())])
    times = np.concatenate(
        [T0 + np.arange(len(v), dtype=np.int64) * 600 * 10**6 for v in values.values()]
    )
    flat = np.concatenate([np.asarray(v, np.float64) for v in values.values()])
    partials = summarise(series, times, flat, HOUR_US, np.full(flat.size, db))
    return SeriesAggregates(attr, 3600, ids, (db,) * len(ids), partials, None)


def test_an_hourly_mean_above_the_limit_is_an_exceedance_and_one_at_it_is_not() -> None:
    found = exceedances(
        rule("no2-hourly-limit"),
        aggregates("no2", {"above": [190, 230, 250], "at": [199, 201], "below": [100, 150]}),
    )
    assert [(e.entity_id, round(e.value, 2)) for e in found] == [("above", 223.33)]
    assert found[0].window_start == datetime.fromtimestamp(T0 / 1e6, UTC)


def test_noise_is_averaged_energetically() -> None:
    # 60 and 80 dB: arithmetic mean 70 (not above 70), energetic mean 77.0 (above)
    (found,) = exceedances(rule("noise-hourly-high"), aggregates("LAeq", {"n": [60, 80]}, db=True))
    assert found.value == pytest.approx(10 * np.log10((1e6 + 1e8) / 2))


def test_a_max_rule_looks_at_the_peak() -> None:
    peak = AlertRule(
        name="o3-peak", entity_type="AirQualityObserved", attribute="o3", period_s=3600,
        statistic="max", threshold=240, category="environment", sub_category="airPollution",
        severity="high", description="O3 peak",
    )  # fmt: skip
    (found,) = exceedances(peak, aggregates("o3", {"a": [100, 250, 90], "b": [200, 239]}))
    assert (found.entity_id, found.value) == ("a", 250)


def test_alert_ids_are_stable_per_rule_source_and_window() -> None:
    (found,) = exceedances(rule("no2-hourly-limit"), aggregates("no2", {"s": [300]}))
    draft = draft_from(found)
    assert alert_id(draft) == alert_id(draft_from(found))
    assert alert_id(replace(draft, source_id="t")) != alert_id(draft)
    later = replace(draft, window_start=draft.window_start + timedelta(hours=1))
    assert alert_id(later) != alert_id(draft)
    assert draft.description.startswith("NO2 hourly mean above the EU limit value")
    assert "300.0 ug/m3 > 200 ug/m3" in draft.description


def test_a_rules_file_replaces_the_table(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([rule("no2-hourly-limit").model_dump() | {"threshold": 150}]))
    (loaded,) = load_rules(path)
    assert loaded.threshold == 150
    assert load_rules(None) == DEFAULT_RULES


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "rules.json"),
        (json.dumps([{"name": "x"}]), "entity_type"),
        (json.dumps([rule("no2-hourly-limit").model_dump() | {"period_s": 7000}]), "divide a day"),
        (json.dumps([rule("no2-hourly-limit").model_dump()] * 2), "unique"),
    ],
)
def test_a_bad_rules_file_is_refused_with_the_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        load_rules(path)


def test_a_car_park_full_for_a_whole_hour_is_a_below_rule() -> None:
    full = rule("parking-full-hour")
    found = exceedances(
        full,
        aggregates("availableSpotNumber", {"full": [0, 0, 0], "one-left": [0, 1, 0], "ok": [9]}),
    )
    assert [(e.entity_id, e.value) for e in found] == [("full", 0.0)]
    assert draft_from(found[0]).description.endswith("0.0 spaces < 1 spaces")


def test_a_min_rule_looks_at_the_trough() -> None:
    low = AlertRule(
        name="rh-low", entity_type="AirQualityObserved", attribute="relativeHumidity",
        period_s=3600, statistic="min", direction="below", threshold=20,
        category="environment", sub_category="weather", severity="low", description="Dry air",
    )  # fmt: skip
    found = exceedances(low, aggregates("relativeHumidity", {"a": [40, 15, 50], "b": [20, 30]}))
    assert [(e.entity_id, e.value) for e in found] == [("a", 15.0)]
