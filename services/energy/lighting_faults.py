"""Energy vertical, lighting: lamp faults from the current state, energy and savings.

Faults, judged on each lamp's latest report: no power when on (below 5 % of
its rating while switched on), burning by day (drawing power more than
30 minutes after sunrise and before sunset at its coordinates), power above
rating (over 110 %), and whatever fault the node itself reports. Energy is
the integral of the reported power; the baseline is the same lamp at full
rating whenever it was on, so the saving is what dimming spared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from knowledge import EntityState, KnowledgeStore, TimeRange, energy_kwh
from services.alerts.evaluation import AlertDraft
from services.energy.sun import sun_times
from services.entity_state import coordinates

LAMP_TYPE = "Streetlight"
DEFAULT_RATING_W = 70.0
NODE_FAULTS = {"no_current": "no-power-when-on", "current_when_off": "power-when-off"}
DAYLIGHT_MARGIN = timedelta(minutes=30)
MAX_LAMPS = 10_000


@dataclass(frozen=True, slots=True)
class LampState:
    entity_id: str
    latitude: float | None
    longitude: float | None
    rating_w: float
    on: bool
    watts: float | None
    node_fault: str | None
    observed_at: datetime | None


def rating_of(static: Any) -> float:
    rating = static.get("powerRating") if isinstance(static, dict) else None
    value = rating.get("value") if isinstance(rating, dict) else None
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_RATING_W


def lamp_state(entity: EntityState) -> LampState:
    latest = {a.name: a for a in entity.attributes}
    power = latest.get("powerConsumption")
    state = latest.get("powerState")
    level = latest.get("illuminanceLevel")
    on = (state is not None and state.value in ("on", "low")) or (
        level is not None and isinstance(level.value, float) and level.value > 0
    )
    point = coordinates(entity.static)
    fault = latest.get("lampFault")
    return LampState(
        entity_id=entity.entity_id,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        rating_w=rating_of(entity.static),
        on=on,
        watts=float(power.value) if power and isinstance(power.value, float) else None,
        node_fault=str(fault.value) if fault and fault.value != "ok" else None,
        observed_at=power.observed_at if power else None,
    )


def is_daytime(lamp: LampState, moment: datetime) -> bool:
    if lamp.latitude is None or lamp.longitude is None:
        return False
    sun = sun_times(moment.astimezone(UTC).date(), lamp.latitude, lamp.longitude)
    if sun.sunrise is None or sun.sunset is None:
        return False
    return sun.sunrise + DAYLIGHT_MARGIN < moment < sun.sunset - DAYLIGHT_MARGIN


def lamp_faults(lamp: LampState) -> list[str]:
    """The fault names of one lamp's latest report (empty when it is healthy)."""
    faults = []
    if lamp.watts is not None:
        if lamp.on and lamp.watts < 0.05 * lamp.rating_w:
            faults.append("no-power-when-on")
        if (
            lamp.observed_at
            and lamp.watts > 0.05 * lamp.rating_w
            and is_daytime(lamp, lamp.observed_at)
        ):
            faults.append("burning-by-day")
        if lamp.watts > 1.1 * lamp.rating_w:
            faults.append("power-above-rating")
    if lamp.node_fault:
        # The node's own diagnosis, under the name of the fault it means.
        faults.append(NODE_FAULTS.get(lamp.node_fault, f"node-{lamp.node_fault}"))
    return list(dict.fromkeys(faults))


async def lamp_states(store: KnowledgeStore, tenant: str) -> list[LampState]:
    return [lamp_state(e) for e in await store.list_entities(tenant, LAMP_TYPE, MAX_LAMPS, 0)]


async def fault_drafts(store: KnowledgeStore, tenant: str, now: datetime) -> list[AlertDraft]:
    """One alert per lamp, fault and UTC day (an ongoing fault is not raised again)."""
    day_start = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    drafts = []
    for lamp in await lamp_states(store, tenant):
        for fault in lamp_faults(lamp):
            drafts.append(
                AlertDraft(
                    rule=f"lamp-{fault}",
                    source_id=lamp.entity_id,
                    window_start=day_start,
                    window_end=day_start + timedelta(days=1),
                    category="lighting",
                    sub_category="lampFault",
                    severity="medium",
                    description=f"Lamp fault: {fault.replace('-', ' ')} "
                    f"({lamp.watts if lamp.watts is not None else '?'} W, "
                    f"rating {lamp.rating_w:g} W)",
                )
            )
    return drafts


@dataclass(frozen=True, slots=True)
class LampEnergy:
    entity_id: str
    kwh: float
    baseline_kwh: float

    @property
    def saved_kwh(self) -> float:
        return self.baseline_kwh - self.kwh


def energy_and_baseline(
    times_us: np.ndarray, watts: np.ndarray, rating_w: float
) -> tuple[float, float]:
    """kWh drawn, and kWh the lamp would have drawn at full rating while it was on."""
    full = np.where(watts > 0.05 * rating_w, rating_w, 0.0)
    return energy_kwh(times_us, watts), energy_kwh(times_us, full)


async def lamp_energy(store: KnowledgeStore, tenant: str, window: TimeRange) -> list[LampEnergy]:
    ratings = {
        e.entity_id: rating_of(e.static)
        for e in await store.list_entities(tenant, LAMP_TYPE, MAX_LAMPS, 0)
    }
    out = []
    for series in await store.numeric_series(tenant, LAMP_TYPE, "powerConsumption", window):
        times_us = series.times.astype("datetime64[us]").astype(np.int64)
        rating = ratings.get(series.entity_id, DEFAULT_RATING_W)
        kwh, baseline = energy_and_baseline(times_us, series.values, rating)
        out.append(LampEnergy(series.entity_id, kwh, baseline))
    return sorted(out, key=lambda e: e.entity_id)


def energy_summary(lamps: list[LampEnergy]) -> dict[str, Any]:
    kwh, baseline = sum(e.kwh for e in lamps), sum(e.baseline_kwh for e in lamps)
    return {
        "kWh": round(kwh, 4),
        "baselineKWh": round(baseline, 4),
        "savedKWh": round(baseline - kwh, 4),
        "savedShare": round((baseline - kwh) / baseline, 4) if baseline else None,
    }
