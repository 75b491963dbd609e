"""OTA protocol v1 messages (docs/firmware.md, "Updates over the air"): pure codec.

Platform -> node on the command topic ``/<apikey>/<device_id>/cmd``: ``ota`` (start),
``otachunk`` and ``otaabort``. Node -> platform on ``/json/<apikey>/<device_id>/ota``:
one report object with the update id and the node's state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from acquisition.ota.bundle import Bundle
from support import PayloadError

OTA_FILTERS = ("/json/+/+/ota",)
_REPORT_TOPIC = re.compile(r"^/json/([^/]+)/([^/]+)/ota$")
_ID = re.compile(r"^[0-9a-z-]{1,40}$")
_REASON = re.compile(r"^[a-z_]{1,32}$")
MAX_REPORT_BYTES = 1024


class DeviceState(StrEnum):
    PENDING = "pending"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    INSTALLED = "installed"
    CONFIRMED = "confirmed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in (DeviceState.CONFIRMED, DeviceState.ROLLED_BACK, DeviceState.FAILED)


REPORTED = frozenset(DeviceState) - {DeviceState.PENDING}


@dataclass(frozen=True, slots=True)
class Report:
    """One node report on its ota topic."""

    apikey: str
    device_id: str
    update_id: str
    state: DeviceState
    file_index: int | None = None  # downloading: the chunk asked for
    offset: int | None = None
    version: str | None = None
    reason: str | None = None


def command_topic(apikey: str, device_id: str) -> str:
    return f"/{apikey}/{device_id}/cmd"


def _command(name: str, value: dict[str, Any]) -> bytes:
    return json.dumps({name: value}, separators=(",", ":")).encode()


def start_payload(update_id: str, bundle: Bundle) -> bytes:
    return _command(
        "ota",
        {
            "id": update_id,
            "manifest": base64.b64encode(bundle.manifest_bytes).decode(),
            "sig": base64.b64encode(bundle.signature).decode(),
        },
    )


def chunk_payload(update_id: str, file_index: int, offset: int, data: bytes) -> bytes:
    return _command(
        "otachunk",
        {
            "id": update_id,
            "f": file_index,
            "o": offset,
            "h": hashlib.sha256(data).hexdigest(),
            "d": base64.b64encode(data).decode(),
        },
    )


def abort_payload(update_id: str) -> bytes:
    return _command("otaabort", {"id": update_id})


def parse_report(topic: str, payload: bytes) -> Report:
    """``/json/<apikey>/<device>/ota`` and its JSON object; PayloadError if either is bad."""
    match = _REPORT_TOPIC.match(topic)
    if match is None:
        raise PayloadError("bad_topic", f"not an ota topic: {topic!r:.80}")
    if len(payload) > MAX_REPORT_BYTES:
        raise PayloadError("too_large", "an ota report is at most 1 KB")
    try:
        body = json.loads(payload)
    except ValueError:
        raise PayloadError("bad_json", "an ota report is not JSON") from None
    if not isinstance(body, dict):
        raise PayloadError("bad_shape", "an ota report is a JSON object")
    update_id, state = body.get("id"), body.get("state")
    if not isinstance(update_id, str) or not _ID.match(update_id):
        raise PayloadError("bad_id", "an ota report needs the update id")
    if state not in REPORTED:
        raise PayloadError("bad_state", f"unknown ota state {state!r:.30}")
    apikey, device_id = match.groups()
    report = Report(apikey, device_id, update_id, DeviceState(state))
    if report.state is DeviceState.DOWNLOADING:
        f, o = body.get("f"), body.get("o")
        if type(f) is not int or type(o) is not int or f < 0 or o < 0:
            raise PayloadError("bad_chunk", "downloading needs integer f and o")
        return Report(apikey, device_id, update_id, report.state, f, o)
    version = body.get("version")
    reason = body.get("reason")
    return Report(
        apikey,
        device_id,
        update_id,
        report.state,
        version=version[:32] if isinstance(version, str) else None,
        reason=reason if isinstance(reason, str) and _REASON.match(reason) else None,
    )
