"""The European Air Quality Index from known hourly concentrations."""

from __future__ import annotations

import pytest

from services.environment.air_quality import air_quality_index, band_of


@pytest.mark.parametrize(
    ("pollutant", "value", "band"),
    [
        ("pm25", 0.0, "good"),
        ("pm25", 10.0, "good"),
        ("pm25", 10.1, "fair"),
        ("pm25", 25.0, "moderate"),
        ("pm25", 60.0, "very poor"),
        ("pm25", 90.0, "extremely poor"),
        ("pm10", 45.0, "moderate"),
        ("pm10", 150.0, "very poor"),
        ("pm10", 151.0, "extremely poor"),
        ("no2", 40.0, "good"),
        ("no2", 200.0, "poor"),
        ("no2", 341.0, "extremely poor"),
        ("o3", 101.0, "moderate"),
        ("o3", 240.0, "poor"),
        ("o3", 380.5, "extremely poor"),
    ],
)
def test_each_pollutant_falls_in_its_eea_band(pollutant: str, value: float, band: str) -> None:
    bands = ("good", "fair", "moderate", "poor", "very poor", "extremely poor")
    assert bands[band_of(pollutant, value)] == band


def test_the_worst_pollutant_sets_the_index_and_is_dominant() -> None:
    index = air_quality_index({"pm25": 8.0, "pm10": 30.0, "no2": 130.0, "o3": 60.0})
    assert index is not None
    assert (index.label, index.dominant) == ("poor", "no2")
    assert index.per_pollutant == {"pm25": 0, "pm10": 1, "no2": 3, "o3": 1}


def test_ties_go_to_particles_and_nothing_measured_gives_no_index() -> None:
    index = air_quality_index({"o3": 110.0, "pm25": 22.0})  # both moderate
    assert index is not None
    assert (index.label, index.dominant) == ("moderate", "pm25")
    assert air_quality_index({"temperature": 20.0}) is None
