"""Fleet simulator: publishes the fleet's measures to MQTT exactly as the firmware does."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from capture.fleet import DeviceSpec
from capture.protocol import encode_measures, measure_topic
from capture.readings import ReadingGenerator
from support import CiudadError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimulationPlan:
    """How long and how often to publish."""

    interval_s: float = 5.0
    duration_s: float | None = None
    backfill_s: float = 0.0
    seed: int = 7


class Simulator:
    """Publishes one QoS 1 measure per device per interval; optionally a backlog first."""

    def __init__(self, client: mqtt.Client, fleet: Sequence[DeviceSpec], plan: SimulationPlan):
        self._client = client
        self._plan = plan
        self._generators = [ReadingGenerator(d, seed=plan.seed) for d in fleet]
        self.published = 0

    def publish_backlog(self, now: float) -> None:
        """Each device sends its history as one array message (the buffered-backlog form)."""
        plan = self._plan
        steps = int(plan.backfill_s // plan.interval_s)
        if steps <= 0:
            return
        for gen in self._generators:
            times = [now - plan.interval_s * k for k in range(steps, 0, -1)]
            self._publish(gen.device, [gen.measure(t) for t in times])
        log.info("backlog published", extra={"devices": len(self._generators), "steps": steps})

    def publish_tick(self, now: float) -> None:
        for gen in self._generators:
            self._publish(gen.device, [gen.measure(now)])

    def run(self, stop: threading.Event) -> int:
        """Publish until ``stop`` is set or the planned duration ends; returns readings sent."""
        plan = self._plan
        started = time.time()
        self.publish_backlog(started)
        next_tick = started
        while not stop.is_set():
            now = time.time()
            if plan.duration_s is not None and now - started >= plan.duration_s:
                break
            if now >= next_tick:
                self.publish_tick(now)
                next_tick += plan.interval_s
                log.info("tick published", extra={"readings_total": self.published})
            stop.wait(max(0.0, min(next_tick - time.time(), 0.5)))
        return self.published

    def _publish(self, device: DeviceSpec, measures: list[dict[str, object]]) -> None:
        payload = encode_measures(measures if len(measures) > 1 else measures[0])
        info = self._client.publish(measure_topic(device.apikey, device.device_id), payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise CiudadError(
                f"publish failed for {device.device_id}: {mqtt.error_string(info.rc)}"
            )
        self.published += len(measures)


def connect_publisher(host: str, port: int, client_id: str) -> mqtt.Client:
    """A paho client connected and looping on its own thread, with a bounded in-flight window."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(host, port, keepalive=30)
    client.loop_start()
    return client


def drain_and_close(client: mqtt.Client, timeout_s: float = 10.0) -> None:
    """Wait for outstanding QoS 1 publishes to be acknowledged, then disconnect."""
    deadline = time.monotonic() + timeout_s
    # paho keeps unacknowledged QoS>0 messages in _out_messages; no public accessor exists.
    while client._out_messages and time.monotonic() < deadline:
        time.sleep(0.02)
    client.disconnect()
    client.loop_stop()
