"""Prometheus metrics of every ciudad process, in a registry of its own (no globals).

One ``PlatformMetrics`` is built in each process's ``main`` and handed to the
parts that count; ``exposition()`` renders the text format for ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000)


class PlatformMetrics:
    """Every metric family; a process fills the ones of its parts."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "ciudad_gateway_messages", "MQTT messages received by the gateway", registry=r
        )
        self.readings = Counter(
            "ciudad_gateway_readings_accepted",
            "Readings accepted (stored or spooled)",
            ["tenant"],
            registry=r,
        )
        self.dead_letters = Counter(
            "ciudad_gateway_dead_letters", "Refused input by reason", ["reason"], registry=r
        )
        self.batch_messages = Histogram(
            "ciudad_gateway_batch_messages",
            "Messages per batch",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.write_seconds = Histogram(
            "ciudad_store_write_seconds",
            "Time to commit one batch",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.write_failures = Counter(
            "ciudad_store_write_failures", "Batch writes the store refused (retried)", registry=r
        )
        self.ingest_lag = Histogram(
            "ciudad_ingest_lag_seconds",
            "Device timestamp to committed (queryable, roll-ups included)",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.lorawan_frames = Counter(
            "ciudad_lorawan_frames",
            "LoRaWAN uplinks by verdict: new, duplicate, replay, counter_reset",
            ["verdict"],
            registry=r,
        )
        self.spool_batches = Gauge(
            "ciudad_spool_batches", "Batches waiting in the spool", registry=r
        )
        self.spool_bytes = Gauge("ciudad_spool_bytes", "Bytes in the spool", registry=r)
        self.mqtt_connected = Gauge(
            "ciudad_mqtt_connected", "1 while the gateway is connected to the broker", registry=r
        )
        self.api_requests = Counter(
            "ciudad_api_requests",
            "HTTP requests",
            ["route", "method", "status", "tenant"],
            registry=r,
        )
        self.api_seconds = Histogram(
            "ciudad_api_request_seconds",
            "HTTP request latency",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.notifications = Counter(
            "ciudad_notifications",
            "Notification attempts by outcome",
            ["tenant", "outcome"],
            registry=r,
        )
        self.notification_queue = Gauge(
            "ciudad_notification_queue", "Notifications waiting to be delivered", registry=r
        )

    def observe_lag(self, committed_at: datetime, observed: Iterable[datetime]) -> None:
        for moment in observed:
            self.ingest_lag.observe(max(0.0, (committed_at - moment).total_seconds()))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
