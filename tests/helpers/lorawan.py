"""LoRaWAN network-server events for tests, shaped as the servers document them.

ChirpStack v4, JSON marshaler: event shapes from
https://www.chirpstack.io/docs/chirpstack/integrations/events.html (``up``,
``status``, ``join``, ``ack``, ``txack``), topics from
https://www.chirpstack.io/docs/chirpstack/integrations/mqtt.html.
The Things Stack v3: message shapes from
https://www.thethingsindustries.com/docs/integrations/data-formats/ (uplink
message, join accept, downlink ack/nack/sent/failed), topics from
https://www.thethingsindustries.com/docs/integrations/other-integrations/mqtt/.
The values are our own (a León deployment); the fields and their nesting follow
those pages, including protobuf JSON's habit of leaving zero values out.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

TENANT = "leon"
APIKEY = "leon-lora"
CS_APP = "17c82e96-be03-4f38-aef3-f83d48582d97"  # ChirpStack application id (UUID)
TTN_APP = "leon-noise@ttn"
PARKING_EUI = "70b3d57ed0050001"
NOISE_EUI = "70b3d57ed0050002"
CAYENNE_EUI = "70b3d57ed0050003"
TTN_EUI = "70b3d57ed0050004"
TTN_DEVICE = "eui-70b3d57ed0050004"
LAMP_EUI = "70b3d57ed0050005"
TTN_LAMP_EUI = "70b3d57ed0050006"
TTN_LAMP = "lamp-ttn-001"
LEON = [-5.5671, 42.5987]


def recent(seconds_ago: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds_ago)


def _device_info(dev_eui: str, name: str) -> dict[str, Any]:
    return {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "Ayuntamiento de León",
        "applicationId": CS_APP,
        "applicationName": "sensores-ciudad",
        "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
        "deviceProfileName": "EU868 class A",
        "deviceName": name,
        "devEui": dev_eui,
        "deviceClassEnabled": "CLASS_A",
        "tags": {"barrio": "centro"},
    }


def _rx(gateway_id: str, rssi: int, snr: float) -> dict[str, Any]:
    return {
        "gatewayId": gateway_id,
        "uplinkId": 4217106,
        "nsTime": "2026-12-05T18:00:00.120Z",
        "rssi": rssi,
        "snr": snr,
        "channel": 5,
        "location": {"latitude": 42.5987, "longitude": -5.5671},
        "context": "EFwMtA==",
        "metadata": {"region_config_id": "eu868", "region_common_name": "EU868"},
        "crcStatus": "CRC_OK",
    }


def cs_topic(dev_eui: str, event: str) -> str:
    return f"application/{CS_APP}/device/{dev_eui}/event/{event}"


def cs_up(
    dev_eui: str,
    f_cnt: int,
    at: datetime,
    *,
    obj: dict[str, Any] | None = None,
    data: bytes | None = None,
    dedup: str | None = None,
    dev_addr: str = "00189440",
    signal: tuple[tuple[int, float], ...] = ((-97, 7.5), (-112, -3.2)),
) -> tuple[str, bytes]:
    """An ``up`` event as heard by several gateways (one rxInfo each)."""
    body: dict[str, Any] = {
        "deduplicationId": dedup or str(uuid.uuid4()),
        "time": at.isoformat().replace("+00:00", "Z"),
        "deviceInfo": _device_info(dev_eui, f"lora-{dev_eui[-4:]}"),
        "devAddr": dev_addr,
        "adr": True,
        "dr": 5,
        "fCnt": f_cnt,
        "fPort": 2,
        "confirmed": False,
        "rxInfo": [_rx(f"0016c001ff10d3f{i}", r, s) for i, (r, s) in enumerate(signal)],
        "txInfo": {
            "frequency": 868300000,
            "modulation": {
                "lora": {"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}
            },
        },
    }
    if f_cnt == 0:
        del body["fCnt"]  # protobuf JSON leaves zeros out
    if data is not None:
        body["data"] = base64.b64encode(data).decode()
    if obj is not None:
        body["object"] = obj
    return cs_topic(dev_eui, "up"), json.dumps(body).encode()


def cs_status(dev_eui: str, at: datetime, battery: float, margin: int) -> tuple[str, bytes]:
    body = {
        "deduplicationId": str(uuid.uuid4()),
        "time": at.isoformat(),
        "deviceInfo": _device_info(dev_eui, "status"),
        "margin": margin,
        "batteryLevel": battery,
    }
    return cs_topic(dev_eui, "status"), json.dumps(body).encode()


def cs_join(dev_eui: str, at: datetime, dev_addr: str) -> tuple[str, bytes]:
    body = {
        "deduplicationId": str(uuid.uuid4()),
        "time": at.isoformat(),
        "deviceInfo": _device_info(dev_eui, "join"),
        "devAddr": dev_addr,
    }
    return cs_topic(dev_eui, "join"), json.dumps(body).encode()


def cs_ack(dev_eui: str, queue_item_id: str, acknowledged: bool) -> tuple[str, bytes]:
    body: dict[str, Any] = {
        "deduplicationId": str(uuid.uuid4()),
        "time": datetime.now(UTC).isoformat(),
        "deviceInfo": _device_info(dev_eui, "ack"),
        "queueItemId": queue_item_id,
        "fCntDown": 7,
    }
    if acknowledged:
        body["acknowledged"] = True
    return cs_topic(dev_eui, "ack"), json.dumps(body).encode()


def cs_txack(dev_eui: str, queue_item_id: str) -> tuple[str, bytes]:
    body = {
        "downlinkId": 3202714,
        "time": datetime.now(UTC).isoformat(),
        "deviceInfo": _device_info(dev_eui, "txack"),
        "queueItemId": queue_item_id,
        "fCntDown": 7,
        "gatewayId": "0016c001ff10d3f0",
        "txInfo": {"frequency": 869525000, "power": 14},
    }
    return cs_topic(dev_eui, "txack"), json.dumps(body).encode()


def _ids(device_id: str, dev_eui: str) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "application_ids": {"application_id": TTN_APP.split("@", maxsplit=1)[0]},
        "dev_eui": dev_eui.upper(),
        "join_eui": "0000000000000000",
        "dev_addr": "260B1C2D",
    }


def tts_up(
    f_cnt: int,
    at: datetime,
    *,
    decoded: dict[str, Any] | None = None,
    frm: bytes | None = None,
) -> tuple[str, bytes]:
    message: dict[str, Any] = {
        "session_key_id": "AYxIY1Ae0z5pcnJsd3n2Zw==",
        "f_port": 2,
        "f_cnt": f_cnt,
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": "leon-gw-01", "eui": "B827EBFFFE61CAF4"},
                "time": at.isoformat(),
                "rssi": -88,
                "channel_rssi": -88,
                "snr": 9.75,
                "uplink_token": "ChgKFgoKbGVvbi1ndy0wMRII...",
            }
        ],
        "settings": {
            "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}},
            "frequency": "868100000",
        },
        "received_at": at.isoformat(),
        "consumed_airtime": "0.061696s",
        "network_ids": {"net_id": "000013", "tenant_id": "ttn", "cluster_id": "eu1"},
    }
    if frm is not None:
        message["frm_payload"] = base64.b64encode(frm).decode()
    if decoded is not None:
        message["decoded_payload"] = decoded
    body = {
        "end_device_ids": _ids(TTN_DEVICE, TTN_EUI),
        "correlation_ids": [f"as:up:{uuid.uuid4().hex.upper()}", "rpc:/ttn.lorawan.v3.AppAs/..."],
        "received_at": at.isoformat(),
        "uplink_message": message,
    }
    return f"v3/{TTN_APP}/devices/{TTN_DEVICE}/up", json.dumps(body).encode()


def tts_down(
    kind: str, correlation_ids: list[str], device_id: str = TTN_DEVICE, dev_eui: str = TTN_EUI
) -> tuple[str, bytes]:
    """``down/ack``, ``down/nack``, ``down/sent`` or ``down/failed``."""
    key = "downlink_" + kind.split("/")[1]
    downlink = {
        "session_key_id": "AYxIY1Ae0z5pcnJsd3n2Zw==",
        "f_port": 10,
        "f_cnt": 3,
        "frm_payload": "KA==",
        "confirmed": True,
        "priority": "NORMAL",
        "correlation_ids": correlation_ids,
    }
    inner: dict[str, Any] = (
        {"downlink": downlink, "error": {"namespace": "pkg/networkserver"}}
        if key == "downlink_failed"
        else downlink
    )
    body = {
        "end_device_ids": _ids(device_id, dev_eui),
        "correlation_ids": ["as:downlink:01HBZ...", *correlation_ids],
        "received_at": datetime.now(UTC).isoformat(),
        key: inner,
    }
    return f"v3/{TTN_APP}/devices/{device_id}/{kind}", json.dumps(body).encode()


def _point() -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": LEON}}


def lorawan_document() -> dict[str, Any]:
    """A parking sensor (byte layout), two noise meters (ChirpStack's codec, Cayenne LPP),
    a TTN noise meter and a dimmable lamp, provisioned by devEUI."""
    noise_attrs = [{"object_id": "analog_in_1", "name": "LAeq", "unit_code": "2N",
                    "minimum": 0, "maximum": 140}]  # fmt: skip
    lamp_commands = {"dim": {"f_port": 10, "fields": [{"name": "dim", "offset": 0}]}}
    return {
        "service_groups": [{"apikey": APIKEY, "tenant": TENANT}],
        "devices": [
            {
                "device_id": "parking-lora-001",
                "apikey": APIKEY,
                "entity_type": "ParkingSpot",
                "static_attributes": {
                    "location": _point(),
                    "category": {"type": "Property", "value": ["onStreet"]},
                    "refParkingSite": {
                        "type": "Relationship",
                        "object": "urn:ngsi-ld:OnStreetParking:leon:zone-01",
                    },
                },
                "lorawan": {
                    "dev_eui": PARKING_EUI.upper(),
                    "codec": "layout",
                    "layout": [
                        {"name": "st", "offset": 0, "values": ["free", "occupied"]},
                        {"name": "bat", "offset": 1},
                    ],
                },
            },
            {
                "device_id": "noise-lora-001",
                "apikey": APIKEY,
                "entity_type": "NoiseLevelObserved",
                "static_attributes": {"location": _point()},
                "lorawan": {"dev_eui": NOISE_EUI, "application": CS_APP},
            },
            {
                "device_id": "noise-lora-002",
                "apikey": APIKEY,
                "entity_type": "NoiseLevelObserved",
                "attributes": noise_attrs,
                "static_attributes": {"location": _point()},
                "lorawan": {"dev_eui": CAYENNE_EUI, "codec": "cayenne"},
            },
            {
                "device_id": "noise-ttn-001",
                "apikey": APIKEY,
                "entity_type": "NoiseLevelObserved",
                "static_attributes": {"location": _point()},
                "lorawan": {
                    "dev_eui": TTN_EUI,
                    "network": "things_stack",
                    "ttn_device_id": TTN_DEVICE,
                    "application": TTN_APP,
                },
            },
            {
                "device_id": "lamp-lora-001",
                "apikey": APIKEY,
                "entity_type": "Streetlight",
                "static_attributes": {
                    "location": _point(),
                    "status": {"type": "Property", "value": "ok"},
                    "powerRating": {"type": "Property", "value": 70.0, "unitCode": "WTT"},
                },
                "lorawan": {"dev_eui": LAMP_EUI, "application": CS_APP, "commands": lamp_commands},
            },
            {
                "device_id": TTN_LAMP,
                "apikey": APIKEY,
                "entity_type": "Streetlight",
                "static_attributes": {
                    "location": _point(),
                    "status": {"type": "Property", "value": "ok"},
                    "powerRating": {"type": "Property", "value": 70.0, "unitCode": "WTT"},
                },
                "lorawan": {
                    "dev_eui": TTN_LAMP_EUI,
                    "network": "things_stack",
                    "ttn_device_id": TTN_LAMP,
                    "application": TTN_APP,
                    "confirmed": False,
                    "commands": lamp_commands,
                },
            },
        ],
    }
