"""Waiting for events in tests: a generous ceiling, and a message that says what for.

Tests wait for something to happen (a row, a log line, a health answer), never for
a fixed time; the ceiling only bounds a wait that would otherwise hang, so it is
generous enough for a busy 2-core machine. ``CIUDAD_TEST_WAIT_S`` changes it.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

CEILING_S = float(os.environ.get("CIUDAD_TEST_WAIT_S", "120"))
T = TypeVar("T")


def describe(check: Callable[..., Any]) -> str:
    """The check's name, or for a lambda the line of source that holds it."""
    if check.__name__ != "<lambda>":
        return check.__name__
    try:
        return inspect.getsource(check).strip()
    except (OSError, TypeError):
        return repr(check)


def eventually(check: Callable[[], T], timeout_s: float = CEILING_S, what: str = "") -> T:
    """``check()``'s first true result; AssertionError naming the check after the ceiling."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"waited {timeout_s:.0f} s for {what or describe(check)}; last: {result!r:.300}"
            )
        time.sleep(0.2)


async def wait_until(
    check: Callable[[], Awaitable[Any]], timeout_s: float = CEILING_S, what: str = ""
) -> None:
    """Awaits ``check()`` until it is true; AssertionError naming the check after the ceiling."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {timeout_s:.0f} s for {what or describe(check)}")
        await asyncio.sleep(0.05)


async def until(check: Callable[[], bool], timeout_s: float = CEILING_S) -> None:
    async def checked() -> bool:
        return check()

    await wait_until(checked, timeout_s, what=describe(check))
