"""Device provisioning: service groups (tenant + apikey) and devices with attribute mappings.

For now provisioning comes from a JSON file (docs/provisioning.md shows the
format); it is validated when loaded and turned into frozen records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from acquisition.entities import ENTITY_TYPES, AttributeSpec, EntityType
from acquisition.lorawan.profile import LorawanEntry
from acquisition.normalise.validation import flatten_normalized
from acquisition.records import ValueType
from capture import DeviceSpec, NodeKind
from support import ConfigurationError, PayloadError

ENTITY_TYPE_OF_KIND = {
    NodeKind.NOISE: "NoiseLevelObserved",
    NodeKind.AIR: "AirQualityObserved",
    NodeKind.PARKING: "ParkingSpot",
    NodeKind.STREETLIGHT: "Streetlight",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributeEntry(_Strict):
    object_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: ValueType = ValueType.NUMBER
    unit_code: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    scale: float = 1.0
    allowed: list[str] = Field(default_factory=list)


class ServiceGroupEntry(_Strict):
    apikey: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    tenant: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")


class DeviceEntry(_Strict):
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    apikey: str
    entity_type: str
    entity_id: str | None = None
    period_s: float | None = Field(None, gt=0)
    attributes: list[AttributeEntry] | None = None
    static_attributes: dict[str, Any] = Field(default_factory=dict)
    lorawan: LorawanEntry | None = None  # a LoRaWAN device behind a network server


class ProvisioningFile(_Strict):
    service_groups: list[ServiceGroupEntry]
    devices: list[DeviceEntry]


@dataclass(frozen=True, slots=True)
class Device:
    """A provisioned device, resolved against its service group and entity type."""

    device_id: str
    apikey: str
    tenant: str
    entity_id: str
    entity_type: EntityType
    period_s: float
    attributes: Mapping[str, AttributeSpec]
    static: Mapping[str, Any]
    static_key_values: Mapping[str, Any]
    lorawan: LorawanEntry | None = None


class Provisioning:
    """Look-up of devices by (apikey, device id), and of LoRaWAN devices by devEUI or
    The Things Stack device id."""

    def __init__(self, devices: Iterable[Device], tenants: Mapping[str, str]) -> None:
        self._devices = {(d.apikey, d.device_id): d for d in devices}
        self._tenants = dict(tenants)
        self._by_eui: dict[str, Device] = {}
        self._by_ttn_id: dict[str, Device] = {}
        for device in self._devices.values():
            if device.lorawan is not None:
                self._index(device, device.lorawan)

    def _index(self, device: Device, lorawan: LorawanEntry) -> None:
        # A devEUI names one device world-wide: two entries for it are a provisioning error.
        other = self._by_eui.setdefault(lorawan.dev_eui, device)
        if other is not device:
            raise ConfigurationError(
                f"devEUI {lorawan.dev_eui} is both {other.device_id} and {device.device_id}"
            )
        if lorawan.ttn_device_id is not None:
            other = self._by_ttn_id.setdefault(lorawan.ttn_device_id, device)
            if other is not device:
                raise ConfigurationError(
                    f"TTN device id {lorawan.ttn_device_id} is both {other.device_id} "
                    f"and {device.device_id}"
                )

    def lorawan_device(self, dev_eui: str | None, ttn_device_id: str | None = None) -> Device:
        """The device a network server's event names; PayloadError when none is provisioned."""
        device = self._by_eui.get(dev_eui.lower()) if dev_eui else None
        if device is None and ttn_device_id:
            device = self._by_ttn_id.get(ttn_device_id)
        if device is None:
            name = dev_eui or ttn_device_id
            raise PayloadError("unknown_device", f"LoRaWAN device {name!r:.60} is not provisioned")
        return device

    def __len__(self) -> int:
        return len(self._devices)

    def devices(self) -> list[Device]:
        return list(self._devices.values())

    def tenant_of(self, apikey: str) -> str | None:
        """The tenant of the service group ``apikey`` names (None: no such group)."""
        return self._tenants.get(apikey)

    def lookup(self, apikey: str, device_id: str) -> Device:
        device = self._devices.get((apikey, device_id))
        if device is not None:
            return device
        if apikey not in self._tenants:
            raise PayloadError("unknown_apikey", f"no service group for apikey {apikey!r:.40}")
        raise PayloadError("unknown_device", f"device {device_id!r:.60} is not provisioned")


def _attribute_spec(entry: AttributeEntry) -> AttributeSpec:
    return AttributeSpec(
        object_id=entry.object_id,
        name=entry.name,
        value_type=entry.type,
        unit_code=entry.unit_code,
        minimum=entry.minimum,
        maximum=entry.maximum,
        scale=entry.scale,
        allowed=frozenset(entry.allowed),
    )


def _resolve_device(entry: DeviceEntry, tenants: Mapping[str, str]) -> Device:
    tenant = tenants.get(entry.apikey)
    if tenant is None:
        raise ConfigurationError(f"device {entry.device_id}: unknown apikey {entry.apikey!r}")
    entity_type = ENTITY_TYPES.get(entry.entity_type)
    if entity_type is None:
        known = ", ".join(sorted(ENTITY_TYPES))
        raise ConfigurationError(
            f"device {entry.device_id}: entity_type {entry.entity_type!r} not one of {known}"
        )
    specs = (
        [_attribute_spec(a) for a in entry.attributes]
        if entry.attributes is not None
        else list(entity_type.attributes)
    )
    return Device(
        device_id=entry.device_id,
        apikey=entry.apikey,
        tenant=tenant,
        entity_id=entry.entity_id
        or f"urn:ngsi-ld:{entity_type.type_name}:{tenant}:{entry.device_id}",
        entity_type=entity_type,
        period_s=entry.period_s or entity_type.default_period_s,
        attributes={s.object_id: s for s in specs},
        static=entry.static_attributes,
        static_key_values=flatten_normalized(entry.static_attributes),
        lorawan=entry.lorawan,
    )


def parse_provisioning(document: Mapping[str, Any]) -> Provisioning:
    """Validates a provisioning document; raises ConfigurationError with every problem."""
    try:
        parsed = ProvisioningFile.model_validate(document)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid provisioning: {exc}") from None
    tenants = {g.apikey: g.tenant for g in parsed.service_groups}
    return Provisioning((_resolve_device(d, tenants) for d in parsed.devices), tenants)


def read_provisioning_document(text: str, source: str) -> ProvisioningFile:
    """A provisioning document (JSON text) checked in full; ConfigurationError names problems."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{source} is not JSON: {exc}") from None
    parse_provisioning(document)  # types, apikeys and attribute maps, as the gateway uses them
    return ProvisioningFile.model_validate(document)


def _fleet_static(device: DeviceSpec, tenant: str) -> dict[str, Any]:
    static: dict[str, Any] = {
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [device.longitude, device.latitude]},
        }
    }
    if device.kind is NodeKind.PARKING:
        site = f"urn:ngsi-ld:OnStreetParking:{tenant}:{device.static.get('zone', 'zone-01')}"
        static["category"] = {"type": "Property", "value": ["onStreet"]}
        static["refParkingSite"] = {"type": "Relationship", "object": site}
    elif device.kind is NodeKind.STREETLIGHT:
        static["status"] = {"type": "Property", "value": "ok"}
        static["powerRating"] = {
            "type": "Property",
            "value": device.static.get("power_rating_w", 70.0),
            "unitCode": "WTT",
        }
    elif device.kind is NodeKind.AIR:
        static["typeofLocation"] = {"type": "Property", "value": "outdoor"}
    return static


def provisioning_document(
    fleet: Iterable[DeviceSpec], tenant: str, period_s: float
) -> dict[str, Any]:
    """The provisioning file for a simulated fleet (one service group per apikey)."""
    fleet = list(fleet)
    apikeys = sorted({d.apikey for d in fleet})
    return {
        "service_groups": [{"apikey": k, "tenant": tenant} for k in apikeys],
        "devices": [
            {
                "device_id": d.device_id,
                "apikey": d.apikey,
                "entity_type": ENTITY_TYPE_OF_KIND[d.kind],
                "period_s": period_s,
                "static_attributes": _fleet_static(d, tenant),
            }
            for d in fleet
        ],
    }
