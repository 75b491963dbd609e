"""The gateway's work in progress: chunks cut by payload size, commits bounded in bytes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from acquisition import Batch, InboundMessage
from acquisition.gateway.chunks import Ahead, Prepared, by_size

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def _message(n: int, size: int) -> InboundMessage:
    return InboundMessage(f"/json/k/d{n}/attrs", b"x" * size, n, 1, NOW)


def test_chunks_keep_the_order_and_stay_within_their_bytes() -> None:
    messages = [_message(n, size) for n, size in enumerate([300, 300, 500, 2000, 100, 100])]
    runs = by_size(messages, 1000)
    assert [m for run in runs for m in run] == messages
    assert [[m.mid for m in run] for run in runs] == [[0, 1], [2], [3], [4, 5]]
    assert by_size([], 1000) == []


def _prepared(*sizes: int) -> Prepared[Batch]:
    return Prepared([_message(n, s) for n, s in enumerate(sizes)], Batch(), Batch())


async def test_a_commit_is_bounded_by_its_payload_bytes_as_well_as_its_messages() -> None:
    ahead: Ahead[Batch] = Ahead(limit=100, byte_limit=1000)
    assert await ahead.room() == 100
    await ahead.put(_prepared(600))
    assert await ahead.room() == 99  # under both limits: the next chunk may come
    await ahead.put(_prepared(600))
    waiting = asyncio.create_task(ahead.room())  # 1,200 bytes ahead: no room
    await asyncio.sleep(0)
    assert not waiting.done()
    taken = await ahead.take()
    assert [len(c.messages) for c in taken] == [1, 1]
    assert await asyncio.wait_for(waiting, 1) == 100
