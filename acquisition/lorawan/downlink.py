"""Commands as the network server's downlink messages (pure: a command in, topic and bytes out).

ChirpStack: ``application/<app>/device/<devEUI>/command/down`` with ``devEui``,
``fPort``, ``confirmed`` and base64 ``data`` (or ``object`` for the device
profile's codec to encode), and an ``id`` we choose so that its ``ack``/``txack``
events name the command. The Things Stack: ``v3/<app>@<tenant>/devices/<id>/down/push``
with ``downlinks[]`` whose ``correlation_ids`` come back in ``down/ack`` and co.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from acquisition.lorawan import chirpstack, things_stack
from acquisition.lorawan.codecs import CodecError, encode_layout
from acquisition.lorawan.events import COMMAND_CORRELATION, command_queue_id
from acquisition.lorawan.profile import LorawanEntry

DEFAULT_F_PORT = 10


def _body(lorawan: LorawanEntry, name: str, value: Any) -> tuple[int, bytes | None, Any]:
    """(fPort, payload bytes or None, object for the server's codec) of one command."""
    layout = lorawan.commands.get(name)
    if layout is not None:
        return layout.f_port, encode_layout(value, layout.fields), None
    if lorawan.codec != "network":
        raise CodecError(0, f"no downlink layout for command {name!r:.40}")
    return DEFAULT_F_PORT, None, {name: value}  # the device profile's codec encodes it


def downlink(lorawan: LorawanEntry, command_id: int, name: str, value: Any) -> tuple[str, bytes]:
    """(topic, JSON payload); CodecError when the command cannot be encoded for the device."""
    if lorawan.application is None:
        raise CodecError(0, "the device's registry entry names no application for downlinks")
    f_port, data, obj = _body(lorawan, name, value)
    if lorawan.network == "things_stack":
        item: dict[str, Any] = {
            "f_port": f_port,
            "confirmed": lorawan.confirmed,
            "priority": "NORMAL",
            "correlation_ids": [f"{COMMAND_CORRELATION}{command_id}"],
        }
        if data is not None:
            item["frm_payload"] = base64.b64encode(data).decode()
        else:
            item["decoded_payload"] = obj
        device_id = lorawan.ttn_device_id or lorawan.dev_eui
        topic = things_stack.downlink_topic(lorawan.application, device_id)
        return topic, json.dumps({"downlinks": [item]}).encode()
    message: dict[str, Any] = {
        "id": command_queue_id(command_id),
        "devEui": lorawan.dev_eui,
        "confirmed": lorawan.confirmed,
        "fPort": f_port,
    }
    if data is not None:
        message["data"] = base64.b64encode(data).decode()
    else:
        message["object"] = obj
    topic = chirpstack.downlink_topic(lorawan.application, lorawan.dev_eui)
    return topic, json.dumps(message).encode()
