"""Alert rules: a window statistic of one attribute above (or below) a threshold, per entity.

The default table holds the EU air-quality limit and threshold values
(Directive 2008/50/EC: NO2 hourly limit 200 ug/m3, PM10 daily limit 50 ug/m3,
O3 information 180 and alert 240 ug/m3 as hourly means), the WHO 2021 daily
PM2.5 guideline (15 ug/m3), a noise rule (an hour's LAeq above 70 dB(A)) and a
parking rule (a car park without a free space for a whole hour).
A city replaces it with its own table (``CIUDAD_ALERT_RULES_FILE``, JSON).
Windows are aligned to the epoch, so daily rules use UTC days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from knowledge import SeriesAggregates
from services.config_files import load_json_table
from support import ConfigurationError
from support.times import from_epoch_us

Severity = Literal["informational", "low", "medium", "high", "critical"]


class AlertRule(BaseModel):
    """Raise an alert when ``statistic`` of ``attribute`` over a window is above (or, with
    ``direction="below"``, below) ``threshold``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    entity_type: str
    attribute: str
    period_s: int = Field(gt=0, le=86_400, description="Window length; divides a day")
    statistic: Literal["mean", "max", "min"] = "mean"
    direction: Literal["above", "below"] = "above"
    threshold: float
    unit: str = ""
    category: str
    sub_category: str
    severity: Severity
    description: str


DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        name="no2-hourly-limit", entity_type="AirQualityObserved", attribute="no2",
        period_s=3600, threshold=200, unit="ug/m3", category="environment",
        sub_category="airPollution", severity="high",
        description="NO2 hourly mean above the EU limit value (Directive 2008/50/EC)",
    ),
    AlertRule(
        name="pm10-daily-limit", entity_type="AirQualityObserved", attribute="pm10",
        period_s=86_400, threshold=50, unit="ug/m3", category="environment",
        sub_category="airPollution", severity="medium",
        description="PM10 daily mean above the EU limit value (Directive 2008/50/EC)",
    ),
    AlertRule(
        name="pm25-daily-guideline", entity_type="AirQualityObserved", attribute="pm25",
        period_s=86_400, threshold=15, unit="ug/m3", category="environment",
        sub_category="airPollution", severity="low",
        description="PM2.5 daily mean above the WHO 2021 guideline",
    ),
    AlertRule(
        name="o3-information-threshold", entity_type="AirQualityObserved", attribute="o3",
        period_s=3600, threshold=180, unit="ug/m3", category="environment",
        sub_category="airPollution", severity="medium",
        description="O3 hourly mean above the EU information threshold",
    ),
    AlertRule(
        name="o3-alert-threshold", entity_type="AirQualityObserved", attribute="o3",
        period_s=3600, threshold=240, unit="ug/m3", category="environment",
        sub_category="airPollution", severity="critical",
        description="O3 hourly mean above the EU alert threshold",
    ),
    AlertRule(
        name="noise-hourly-high", entity_type="NoiseLevelObserved", attribute="LAeq",
        period_s=3600, threshold=70, unit="dB(A)", category="environment",
        sub_category="noisePollution", severity="low",
        description="An hour's LAeq above 70 dB(A)",
    ),
    AlertRule(
        name="parking-full-hour", entity_type="OffStreetParking",
        attribute="availableSpotNumber", period_s=3600, statistic="max", direction="below",
        threshold=1, unit="spaces", category="traffic", sub_category="carParkFull",
        severity="informational", description="A car park without a free space for an hour",
    ),
)  # fmt: skip

_RULES = TypeAdapter(tuple[AlertRule, ...])


def load_rules(path: Path | None) -> tuple[AlertRule, ...]:
    """The rules table from a JSON list (the defaults without a file); ConfigurationError
    naming the file and the fault otherwise."""
    if path is None:
        return DEFAULT_RULES
    rules = load_json_table(path, _RULES, "alert rules")
    if any(86_400 % r.period_s for r in rules):
        raise ConfigurationError(f"alert rules file {path}: every period_s must divide a day")
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"alert rules file {path}: rule names must be unique")
    return rules


@dataclass(frozen=True, slots=True)
class Exceedance:
    """One entity's window where a rule's statistic crossed its threshold."""

    rule: AlertRule
    entity_id: str
    window_start: datetime
    value: float


def exceedances(rule: AlertRule, aggregates: SeriesAggregates) -> list[Exceedance]:
    """The rule's exceedances among ``aggregates`` (one window per partial row); dB
    attributes are averaged energetically."""
    p = aggregates.partials
    values: list[float]
    if rule.statistic == "max":
        values = p.maximum.tolist()
    elif rule.statistic == "min":
        values = p.minimum.tolist()
    else:
        arithmetic = p.total / p.count.clip(min=1)
        energetic = [aggregates.energetic[s] for s in p.series.tolist()]
        values = [
            float(db) if is_db else float(mean)
            for db, mean, is_db in zip(p.energetic_mean_db(), arithmetic, energetic, strict=True)
        ]
    found = []
    for series, bucket, count, value in zip(
        p.series.tolist(), p.bucket.tolist(), p.count.tolist(), values, strict=True
    ):
        crossed = value > rule.threshold if rule.direction == "above" else value < rule.threshold
        if count and not math.isnan(value) and crossed:
            found.append(
                Exceedance(rule, aggregates.entity_ids[series], from_epoch_us(bucket), value)
            )
    return found
