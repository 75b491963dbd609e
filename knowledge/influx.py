"""InfluxDB as a time-series mirror of the PostgreSQL store.

PostgreSQL stays the system of record (entity state, registry, dead letters,
roll-ups); every batch's observations are also written to InfluxDB as line
protocol, for teams that chart with InfluxQL/Flux tools.  A failed mirror
write fails the batch, so the gateway spools and replays it: both sides are
idempotent (PostgreSQL by key, InfluxDB because a point with the same
measurement, tags and timestamp is overwritten), so nothing is lost or doubled.

One point per (entity, observation time): measurement = entity type, tags
``tenant`` and ``entity_id``, one field per attribute (numbers as floats,
text as strings), nanosecond timestamps.

Two writers: ``InfluxV2Writer`` (influxdb-client, ``/api/v2/write``: InfluxDB
2.x and 1.8+) and ``InfluxV1Writer`` (``/write?db=``: every 1.x, including
Debian's 1.6.7 that the test suite runs).
"""

from __future__ import annotations

import asyncio
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from acquisition import Reading
from support import StoreUnavailableError
from support.times import to_epoch_us

log = logging.getLogger(__name__)


def _escape_key(text: str) -> str:
    """Tag keys/values and field keys: commas, equals and spaces (a backslash is literal
    there, so it is left alone; checked against InfluxDB 1.6.7)."""
    return text.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ").replace("\n", "\\n")


def _escape_measurement(text: str) -> str:
    return text.replace(",", "\\,").replace(" ", "\\ ").replace("\n", "\\n")


def _field_value(value: float | str) -> str | None:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if not math.isfinite(value):
        return None  # line protocol has no NaN/inf
    return repr(float(value))


def line_protocol(readings: Iterable[Reading]) -> str:
    """Line protocol for the readings, one line per (tenant, entity, time)."""
    points: dict[tuple[str, str, str, datetime], dict[str, str]] = {}
    for r in readings:
        rendered = _field_value(r.value)
        if rendered is not None:
            key = (r.entity_type, r.tenant, r.entity_id, r.observed_at)
            points.setdefault(key, {})[r.attr] = rendered
    lines = []
    for (entity_type, tenant, entity_id, observed_at), fields in points.items():
        field_text = ",".join(f"{_escape_key(k)}={v}" for k, v in sorted(fields.items()))
        lines.append(
            f"{_escape_measurement(entity_type)},entity_id={_escape_key(entity_id)},"
            f"tenant={_escape_key(tenant)} {field_text} {to_epoch_us(observed_at) * 1000}"
        )
    return "\n".join(lines)


class InfluxWriter(Protocol):
    async def write(self, lines: str) -> None: ...

    def close(self) -> None: ...


def _refused(status: int, detail: str) -> None:
    """5xx: retry later (the batch is spooled).  4xx: the points themselves are refused
    (say, a field type conflict); retrying cannot help, PostgreSQL already holds them."""
    if status >= 500:
        raise StoreUnavailableError(f"InfluxDB failed the write ({status}): {detail}")
    log.error(
        "InfluxDB refused points; they stay in PostgreSQL only",
        extra={"status": status, "detail": detail},
    )


class InfluxV1Writer:
    """``POST /write?db=<database>&precision=ns`` (InfluxDB 1.x)."""

    def __init__(self, url: str, database: str, timeout_s: float = 10.0) -> None:
        query = urllib.parse.urlencode({"db": database, "precision": "ns"})
        self._endpoint = f"{url.rstrip('/')}/write?{query}"
        self._timeout_s = timeout_s

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(self._endpoint, data=body, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            _refused(exc.code, detail)
        except OSError as exc:
            raise StoreUnavailableError(f"InfluxDB unreachable: {exc}") from exc

    async def write(self, lines: str) -> None:
        if lines:
            await asyncio.to_thread(self._post, lines.encode())

    def close(self) -> None:
        """Nothing held between writes."""


class InfluxV2Writer:
    """influxdb-client's synchronous write API (``/api/v2/write``), run off the event loop."""

    def __init__(self, url: str, bucket: str, org: str, token: str) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self._client = InfluxDBClient(url=url, token=token, org=org)
        self._api = self._client.write_api(write_options=SYNCHRONOUS)
        self._bucket = bucket

    def _write(self, lines: str) -> None:
        from influxdb_client.domain.write_precision import WritePrecision
        from influxdb_client.rest import ApiException

        try:
            precision: Any = WritePrecision.NS  # a str constant; the stubs want the class
            self._api.write(bucket=self._bucket, record=lines, write_precision=precision)
        except ApiException as exc:
            _refused(int(exc.status or 500), str(exc.body)[:300])
        except OSError as exc:
            raise StoreUnavailableError(f"InfluxDB unreachable: {exc}") from exc

    async def write(self, lines: str) -> None:
        if lines:
            await asyncio.to_thread(self._write, lines)

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


class InfluxMirror:
    """The InfluxDB copy of the observations: given to the PostgreSQL store as its mirror
    (``PostgresStore.open(db, mirror=InfluxMirror(writer))``), which calls it after each
    committed batch; PostgreSQL stays the store every query reads."""

    def __init__(self, writer: InfluxWriter) -> None:
        self._writer = writer

    async def write_readings(self, readings: Sequence[Reading]) -> None:
        await self._writer.write(line_protocol(readings))

    def close(self) -> None:
        self._writer.close()
