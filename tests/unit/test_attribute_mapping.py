"""Attribute specs check types, ranges and allowed values, and scale units."""

from __future__ import annotations

import pytest

from acquisition import ENTITY_TYPES, AttributeSpec, ValueType
from support import PayloadError

LAEQ = ENTITY_TYPES["NoiseLevelObserved"].by_object_id["laeq"]
RH = ENTITY_TYPES["AirQualityObserved"].by_object_id["rh"]
STATUS = ENTITY_TYPES["ParkingSpot"].by_object_id["st"]


def test_numbers_are_stored_as_floats() -> None:
    assert LAEQ.convert(55) == 55.0
    assert isinstance(LAEQ.convert(55), float)


def test_percent_humidity_becomes_the_fraction_the_model_wants() -> None:
    assert RH.convert(64.0) == pytest.approx(0.64)


@pytest.mark.parametrize("raw", [-1, 140.01, 1e9])
def test_physically_impossible_levels_are_out_of_range(raw: float) -> None:
    with pytest.raises(PayloadError) as caught:
        LAEQ.convert(raw)
    assert caught.value.reason == "out_of_range"


@pytest.mark.parametrize("raw", ["55", True, None, float("nan"), float("inf"), [55]])
def test_non_numbers_are_bad_values(raw: object) -> None:
    with pytest.raises(PayloadError) as caught:
        LAEQ.convert(raw)
    assert caught.value.reason == "bad_value"


def test_text_attributes_accept_only_their_allowed_values() -> None:
    assert STATUS.convert("occupied") == "occupied"
    for raw in ("parked", "", 1):
        with pytest.raises(PayloadError) as caught:
            STATUS.convert(raw)
        assert caught.value.reason == "bad_value"


def test_registry_names_each_smart_data_model_once() -> None:
    assert set(ENTITY_TYPES) == {
        "NoiseLevelObserved",
        "AirQualityObserved",
        "ParkingSpot",
        "Streetlight",
    }
    for entity_type in ENTITY_TYPES.values():
        object_ids = [a.object_id for a in entity_type.attributes]
        assert len(object_ids) == len(set(object_ids))


def test_free_text_spec_without_allowed_values_takes_any_non_empty_string() -> None:
    spec = AttributeSpec("n", "name", value_type=ValueType.TEXT)
    assert spec.convert("anything") == "anything"
