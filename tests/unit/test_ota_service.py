"""The OTA service's answers to node reports, with its store and MQTT link replaced by
in-memory fakes (the real ones: tests/integration/test_ota_service.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from acquisition import (
    DeviceState,
    InboundMessage,
    OtaService,
    Provisioning,
    RolloutState,
    encode_bundle,
    sign_bundle,
)
from acquisition.ota.protocol import Report
from acquisition.store.ota import Delivery
from tests.helpers.fleet import APIKEY

BUNDLE = sign_bundle(bytes(32), "noise", "2.0.0", [("node.mpy", b"n" * 1500)])
DELIVERY = Delivery(7, RolloutState.ACTIVE, 1, "abc123", APIKEY, "noise-001", DeviceState.PENDING)


class FakeStore:
    def __init__(self, delivery: Delivery | None) -> None:
        self.delivery_ = delivery
        self.recorded: list[tuple[Report, float | None]] = []

    async def delivery(self, update_id: str, apikey: str, device_id: str) -> Delivery | None:
        return self.delivery_

    async def bundle_data(self, bundle_id: int) -> bytes:
        return encode_bundle(BUNDLE)

    async def record(self, rollout_id: int, report: Report, progress: float | None) -> None:
        self.recorded.append((report, progress))


class FakeLink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def next_batch(self, max_messages: int, max_wait_s: float) -> list[InboundMessage]:
        raise NotImplementedError

    def ack(self, messages: Sequence[InboundMessage]) -> None:
        pass

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        self.sent.append((topic, json.loads(payload)))


def _message(device: str, body: dict[str, Any]) -> InboundMessage:
    topic = f"/json/{APIKEY}/{device}/ota"
    return InboundMessage(topic, json.dumps(body).encode(), 1, 1, datetime.now(UTC))


async def _answer(
    delivery: Delivery | None, body: dict[str, Any], provisioning: Provisioning, device: str
) -> tuple[FakeStore, FakeLink]:
    store, link = FakeStore(delivery), FakeLink()
    service = OtaService(store, link, lambda: provisioning)  # type: ignore[arg-type]
    await service.handle(_message(device, body))
    return store, link


async def test_a_request_is_answered_with_exactly_that_chunk_and_recorded(
    provisioning: Provisioning,
) -> None:
    request = {"id": "abc123", "state": "downloading", "f": 0, "o": 1024}
    store, link = await _answer(DELIVERY, request, provisioning, "noise-001")
    ((topic, body),) = link.sent
    assert topic == f"/{APIKEY}/noise-001/cmd"
    assert (body["otachunk"]["f"], body["otachunk"]["o"]) == (0, 1024)
    ((report, progress),) = store.recorded
    assert report.state is DeviceState.DOWNLOADING
    assert progress == 1024 / 1500


async def test_paused_or_halted_roll_outs_record_but_send_nothing(
    provisioning: Provisioning,
) -> None:
    request = {"id": "abc123", "state": "downloading", "f": 0, "o": 0}
    for state in (RolloutState.PAUSED, RolloutState.HALTED):
        store, link = await _answer(
            replace(DELIVERY, rollout_state=state), request, provisioning, "noise-001"
        )
        assert link.sent == []
        assert len(store.recorded) == 1


async def test_an_aborted_roll_out_answers_with_otaabort_and_a_bad_offset_with_nothing(
    provisioning: Provisioning,
) -> None:
    aborted = replace(DELIVERY, rollout_state=RolloutState.ABORTED, state=DeviceState.FAILED)
    request = {"id": "abc123", "state": "downloading", "f": 0, "o": 0}
    store, link = await _answer(aborted, request, provisioning, "noise-001")
    assert link.sent == [(f"/{APIKEY}/noise-001/cmd", {"otaabort": {"id": "abc123"}})]
    assert store.recorded == []
    odd = {"id": "abc123", "state": "downloading", "f": 0, "o": 100}
    store, link = await _answer(DELIVERY, odd, provisioning, "noise-001")
    assert link.sent == []  # not a chunk boundary: the node's request is not served


async def test_unknown_updates_are_aborted_only_for_provisioned_nodes(
    provisioning: Provisioning,
) -> None:
    request = {"id": "zzz999", "state": "downloading", "f": 0, "o": 0}
    _, link = await _answer(None, request, provisioning, "noise-001")
    assert link.sent == [(f"/{APIKEY}/noise-001/cmd", {"otaabort": {"id": "zzz999"}})]
    _, link = await _answer(None, request, provisioning, "nobody-here")
    assert link.sent == []


async def test_reports_after_a_final_state_and_malformed_ones_change_nothing(
    provisioning: Provisioning,
) -> None:
    done = replace(DELIVERY, state=DeviceState.CONFIRMED)
    store, link = await _answer(
        done, {"id": "abc123", "state": "downloading", "f": 0, "o": 0}, provisioning, "noise-001"
    )
    assert (store.recorded, link.sent) == ([], [])
    store, link = await _answer(DELIVERY, {"state": "nonsense"}, provisioning, "noise-001")
    assert (store.recorded, link.sent) == ([], [])
