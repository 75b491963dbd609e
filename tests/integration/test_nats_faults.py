"""Faults on the NATS broker tier while devices keep publishing: a node killed (SIGKILL)
mid-stream and restarted; one of two `ciudad gateway` workers killed mid-stream.  Each
counts readings in PostgreSQL against readings published: none lost, none twice."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from acquisition import MeasurePipeline
from knowledge import PostgresStore
from support.nats import NatsCluster
from tests.helpers.fleet import APIKEY
from tests.helpers.nats_fleet import APIKEY as FLEET_APIKEY
from tests.helpers.nats_fleet import (
    FailoverPublisher,
    chunks,
    consumer_exists,
    gateway_env,
    gateway_process,
    messages_received,
    nats_gateway,
    readings,
    stored,
    stream_leader,
)
from tests.helpers.waiting import until, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PER_DEVICE = 700  # three devices, ~100 readings/s each: the fault lands mid-stream


async def publish_during(cluster: NatsCluster, apikey: str) -> list[FailoverPublisher]:
    """Three devices, one per node, publishing at a steady pace until all is acknowledged."""
    publishers = [FailoverPublisher(cluster.mqtt_ports, node) for node in range(3)]
    messages = readings(3 * PER_DEVICE, apikey=apikey)
    try:
        await asyncio.gather(
            *(
                asyncio.to_thread(p.publish, part, 10, 0.1)
                for p, part in zip(publishers, chunks(messages, 3), strict=True)
            )
        )
    finally:
        for publisher in publishers:
            publisher.close()
    return publishers


def at_least(dsn: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await asyncio.to_thread(stored, dsn))[0] >= count

    check.__name__ = f"{count} readings stored"
    return check


async def test_node_killed_mid_stream_and_restarted_loses_and_duplicates_nothing(
    nats_cluster: NatsCluster, pipeline: MeasurePipeline, store: PostgresStore, database_url: str
) -> None:
    total = 3 * PER_DEVICE
    async with nats_gateway(nats_cluster, pipeline, store):
        # The node leading the stream of QoS 1 messages: its death forces an election.
        victim = await stream_leader(nats_cluster, "$MQTT_msgs")
        sending = asyncio.ensure_future(publish_during(nats_cluster, APIKEY))
        await wait_until(at_least(database_url, total // 4))
        nats_cluster.kill(victim)
        before_restart = stored(database_url)[0]
        await wait_until(at_least(database_url, before_restart + total // 5))  # two carry on
        nats_cluster.restart(victim)
        await asyncio.to_thread(nats_cluster.wait_healthy, 60, ("$MQTT_msgs",))
        publishers = await sending
        await wait_until(at_least(database_url, total))
    assert before_restart < total  # the node died mid-stream, not after it
    assert sum(p.acknowledged for p in publishers) == total
    assert publishers[victim].failovers >= 1  # its device really moved to another node
    assert stored(database_url) == (total, total)


async def test_gateway_worker_killed_mid_stream_loses_and_duplicates_nothing(
    nats_cluster: NatsCluster, database_url: str, tmp_path: Path
) -> None:
    total = 3 * PER_DEVICE
    envs = [gateway_env(database_url, nats_cluster, tmp_path, f"gw-{n}") for n in range(2)]
    workers = [gateway_process(env, tmp_path / f"gw-{n}.log") for n, env in enumerate(envs)]
    try:
        await wait_until(lambda: consumer_exists(nats_cluster, "$MQTT_msgs", "ciudad-gateway"))
        sending = asyncio.ensure_future(publish_during(nats_cluster, FLEET_APIKEY))
        await wait_until(at_least(database_url, total // 3))
        await until(lambda: all(messages_received(env) > 0 for env in envs))  # both share
        workers[0].send_signal(signal.SIGKILL)  # no goodbye: its unacked batch dies with it
        workers[0].wait(timeout=10)
        before_kill = stored(database_url)[0]
        await sending
        await wait_until(at_least(database_url, total))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
    log = (tmp_path / "gw-1.log").read_text()
    assert before_kill < total, "killed after the stream ended"
    assert stored(database_url) == (total, total), log[-3000:]
