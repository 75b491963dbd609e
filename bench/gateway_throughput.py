"""Gateway throughput: drain a pre-published backlog from mosquitto into PostgreSQL.

Against a naive baseline measured in the same run: a bare paho subscriber that
only counts the same backlog (the raw MQTT receive ceiling). Prints JSON; with
--markdown also a table for docs/benchmarks.md.

    .venv/bin/python bench/gateway_throughput.py --messages 20000 --markdown
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acquisition import (  # noqa: E402
    ENTITY_TYPES,
    EntityValidator,
    Gateway,
    InboundMessage,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    TimePolicy,
    ValueType,
    assemble_batch,
    parse_provisioning,
    provisioning_document,
    subscription_filters,
)
from capture import (  # noqa: E402
    ReadingGenerator,
    build_fleet,
    connect_publisher,
    drain_and_close,
    encode_measures,
    measure_topic,
)
from ciudad.database import open_store_at  # noqa: E402
from knowledge import start_embedded_postgres  # noqa: E402
from knowledge.postgres.partitions import days_covering, ensure_day_partitions  # noqa: E402
from support import Settings  # noqa: E402
from support.heap import settle_heap  # noqa: E402
from support.mosquitto import MosquittoBroker  # noqa: E402
from support.net import free_port  # noqa: E402

FLEET = build_fleet(42.6, -5.57, "bench")


def backlog(messages: int, per_message: int) -> list[tuple[str, bytes]]:
    """Realistic simulator payloads, each device with strictly increasing times."""
    gens = [ReadingGenerator(d) for d in FLEET]
    start = datetime.now(UTC).timestamp() - 86400
    out = []
    for n in range(messages):
        gen = gens[n % len(gens)]
        base = start + (n // len(gens)) * per_message
        measures = [gen.measure(base + k) for k in range(per_message)]
        body = measures[0] if per_message == 1 else measures
        out.append((measure_topic(gen.device.apikey, gen.device.device_id), encode_measures(body)))
    return out


def create_session(port: int, client_id: str) -> None:
    """Subscribes a persistent session, then leaves: the broker queues the backlog for it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_start()
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.subscribe([(f, 1) for f in subscription_filters(None)])
    done.wait(5)
    client.disconnect()
    client.loop_stop()


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = connect_publisher("127.0.0.1", port, f"bench-pub-{uuid.uuid4().hex[:6]}")
    for topic, payload in messages:
        while True:
            info = client.publish(topic, payload, qos=1)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                break
            time.sleep(0.001)
    drain_and_close(client, timeout_s=120)


def raw_receive_rate(port: int, messages: list[tuple[str, bytes]]) -> float:
    """The baseline: a bare paho subscriber counting the same backlog (auto-ack)."""
    create_session(port, "bench-raw")
    publish_all(port, messages)
    received = 0
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received == len(messages):
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw", protocol=mqtt.MQTTv5)
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 1000
    started = time.perf_counter()
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_start()
    done.wait(300)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return received / elapsed


async def gateway_rate(
    port: int, dsn: str, messages: list[tuple[str, bytes]], per_message: int
) -> dict[str, float]:
    client_id = f"bench-gw-{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(create_session, port, client_id)
    await asyncio.to_thread(publish_all, port, messages)
    pipeline = _pipeline()
    store = await open_store_at(dsn, max_size=2)
    defaults = Settings()
    source = MqttSource(
        MqttOptions("127.0.0.1", port, client_id, receive_maximum=defaults.mqtt_receive_maximum)
    )
    gateway = Gateway(
        source, pipeline, store, max_messages=defaults.batch_max_messages, max_wait_s=0.05
    )
    settle_heap()  # as `ciudad gateway` does before its loop
    started = time.perf_counter()
    await source.start()
    task = asyncio.create_task(gateway.run())
    while gateway.stats.measure_messages < len(messages):  # noqa: ASYNC110 - polling a counter
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    source.stop()
    await store.close()
    assert not gateway.stats.dead_letters, gateway.stats.dead_letters
    return {
        "messages_per_s": len(messages) / elapsed,
        "measures_per_s": len(messages) * per_message / elapsed,
        "rows_per_s": gateway.stats.readings / elapsed,
        "history_rows_per_s": len(history_rows(messages)) / elapsed,
    }


def _pipeline() -> MeasurePipeline:
    provisioning = parse_provisioning(provisioning_document(FLEET, "bench", 1))
    validator = EntityValidator({n: t.schema_file for n, t in ENTITY_TYPES.items()})
    return MeasurePipeline(
        provisioning, validator, TimePolicy(timedelta(minutes=5), timedelta(days=30))
    )


def history_rows(messages: list[tuple[str, bytes]]) -> list[tuple[Any, ...]]:
    """The observation rows the gateway stores for ``messages`` (DateTime values are kept
    in the current state only), under another tenant so that they do not collide."""
    now = datetime.now(UTC)
    inbound = [InboundMessage(t, p, n, 1, now) for n, (t, p) in enumerate(messages)]
    batch, _ = assemble_batch(_pipeline(), inbound)
    return [
        ("bench-copy", r.entity_id, r.attr, r.observed_at)
        + ((r.value, None) if isinstance(r.value, float) else (None, r.value))
        for r in batch.readings
        if r.value_type is not ValueType.DATETIME
    ]


async def bare_copy_rate(dsn: str, rows: list[tuple[Any, ...]]) -> float:
    """The physical limit: binary COPY of the same rows into the same observations table
    (its partitions, primary key and all), no staging, no roll-ups, no state.

    Run before the gateway writes those rows: a COPY slows as the table grows (from about
    330,000 rows/s into an empty table here), so the limit is measured on the smaller
    table, against us."""
    columns = "tenant, entity_id, attr, observed_at, num, txt"
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await ensure_day_partitions(conn, days_covering([row[3] for row in rows]))
        await conn.commit()
        started = time.perf_counter()
        async with conn.cursor() as cur:
            statement = f"COPY ciudad_observations ({columns}) FROM STDIN (FORMAT BINARY)"
            async with cur.copy(statement) as copy:
                copy.set_types(["text", "text", "text", "timestamptz", "float8", "text"])
                for row in rows:
                    await copy.write_row(row)
        await conn.commit()
        return len(rows) / (time.perf_counter() - started)


async def main_async(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    broker = MosquittoBroker(free_port(), work / "broker")
    broker.start()
    try:
        dsn = await asyncio.to_thread(start_embedded_postgres, work / "pg")
        single = backlog(args.messages, 1)
        batched = backlog(args.batched_messages, 50)
        raw = await asyncio.to_thread(raw_receive_rate, broker.port, single)
        gw_single = await gateway_rate(broker.port, dsn, single, 1)
        copy = await bare_copy_rate(dsn, history_rows(batched))
        gw_batched = await gateway_rate(broker.port, dsn, batched, 50)
    finally:
        broker.stop()
    return {
        "messages": args.messages,
        "batched_messages": args.batched_messages,
        "raw_subscriber_messages_per_s": round(raw),
        "gateway_single": {k: round(v) for k, v in gw_single.items()},
        "gateway_single_vs_raw": round(gw_single["messages_per_s"] / raw, 3),
        "gateway_batched_50": {k: round(v) for k, v in gw_batched.items()},
        "bare_binary_copy_rows_per_s": round(copy),
        "gateway_batched_vs_copy": round(gw_batched["history_rows_per_s"] / copy, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000, help="single-reading messages")
    parser.add_argument(
        "--batched-messages",
        type=int,
        default=2000,
        help="messages of 50 measures (100,000 measures by default: a run of a few "
        "seconds, so that connecting and the first check of each device weigh little)",
    )
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(main_async(args, Path(tmp)))
    print(json.dumps(report, indent=2))
    if args.markdown:
        s, b = report["gateway_single"], report["gateway_batched_50"]
        copy_rows = report["bare_binary_copy_rows_per_s"]
        print("\n| path | messages/s | measures/s | rows/s |\n|---|---|---|---|")
        print(f"| raw paho subscriber (baseline) | {report['raw_subscriber_messages_per_s']} | | |")
        print(
            f"| gateway, one measure per message | {s['messages_per_s']} | "
            f"{s['measures_per_s']} | {s['rows_per_s']} |"
        )
        print(
            f"| gateway, 50 measures per message | {b['messages_per_s']} | "
            f"{b['measures_per_s']} | {b['rows_per_s']} ({b['history_rows_per_s']} history) |"
        )
        print(f"| bare binary COPY of the same history rows (limit) | | | {copy_rows} |")
        print(
            f"\ngateway single / raw = {report['gateway_single_vs_raw']}; gateway batched "
            f"history rows / bare COPY = {report['gateway_batched_vs_copy']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
