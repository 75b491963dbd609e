"""The Device entity of each field device: liveness, last report, battery, signal, firmware.

Every device gets ``urn:ngsi-ld:Device:<tenant>:<device_id>`` (FIWARE Smart Data
Model "Device"), with ``controlledAsset`` pointing at the entity it observes.
Its ``deviceState`` comes from the MQTT status topic (``online`` when the node
connects, ``offline`` from its last will); ``dateLastValueReported`` moves with
every accepted measure (the heartbeat).
"""

from __future__ import annotations

from datetime import datetime

from acquisition.entities.base import iso
from acquisition.provisioning.model import Device
from acquisition.records import EntityRecord, Reading, ValueType
from support import PayloadError

DEVICE_TYPE = "Device"
STATES = ("online", "offline")
_ACTUATORS = {"Streetlight"}


def device_entity_id(device: Device) -> str:
    return f"urn:ngsi-ld:{DEVICE_TYPE}:{device.tenant}:{device.device_id}"


def device_record(device: Device) -> EntityRecord:
    category = ["actuator", "sensor"] if device.entity_type.type_name in _ACTUATORS else ["sensor"]
    return EntityRecord(
        device.tenant,
        device_entity_id(device),
        DEVICE_TYPE,
        {
            "category": {"type": "Property", "value": category},
            "controlledAsset": {"type": "Relationship", "object": device.entity_id},
            **({"location": device.static["location"]} if "location" in device.static else {}),
        },
    )


def device_reading(
    device: Device,
    attr: str,
    at: datetime,
    value: float | str,
    value_type: ValueType,
    unit: str | None = None,
) -> Reading:
    return Reading(
        device.tenant, device_entity_id(device), DEVICE_TYPE, attr, at, value, value_type, unit
    )


def last_reported(device: Device, at: datetime) -> Reading:
    return device_reading(device, "dateLastValueReported", at, iso(at), ValueType.DATETIME)


def state_reading(device: Device, payload: bytes, received_at: datetime) -> Reading:
    """``online``/``offline`` from the status topic; anything else is refused."""
    state = payload.decode("utf-8", "replace").strip().lower()
    if state not in STATES:
        raise PayloadError("bad_status", f"status must be online or offline, got {state!r:.30}")
    return device_reading(device, "deviceState", received_at, state, ValueType.TEXT)
