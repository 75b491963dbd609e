"""Background tasks stop when asked, even one that swallows a cancellation (as Python
3.11's wait_for does when a cancellation races a result)."""

from __future__ import annotations

import asyncio

import pytest

from support.tasks import run_together, stop_tasks


async def swallows_first_cancel(swallowed: list[bool]) -> None:
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(True)  # carries on, as if it had never been cancelled


async def test_a_task_that_swallows_a_cancellation_is_stopped_all_the_same() -> None:
    swallowed: list[bool] = []
    task = asyncio.create_task(swallows_first_cancel(swallowed))
    await asyncio.sleep(0)
    await asyncio.wait_for(stop_tasks([task], every_s=0.01), timeout=10)
    assert swallowed == [True]
    assert task.cancelled()


async def test_the_first_failure_stops_the_others_and_is_raised() -> None:
    swallowed: list[bool] = []

    async def fails() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("the gateway loop broke")

    with pytest.raises(RuntimeError, match="gateway loop broke"):
        await asyncio.wait_for(
            run_together({"stubborn": swallows_first_cancel(swallowed), "fails": fails()}), 10
        )
    assert swallowed == [True]


async def test_cancelling_the_group_stops_every_task() -> None:
    swallowed: list[bool] = []
    group = asyncio.create_task(run_together({"a": swallows_first_cancel(swallowed)}))
    await asyncio.sleep(0.01)
    group.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(group, 10)
    assert swallowed == [True]
