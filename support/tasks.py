"""Named background tasks that stop when asked, even when a cancellation is swallowed.

Python 3.11's ``asyncio.wait_for`` returns the result instead of raising when a
cancellation races the awaited future's completion (fixed in 3.12, gh-86296);
psycopg_pool waits for connections that way. A task caught there would carry on,
and a ``TaskGroup`` would wait for it forever at shutdown. So stopping cancels
again until every task is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any

Work = Coroutine[Any, Any, None]


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], every_s: float = 0.5) -> None:
    """Cancels the tasks and waits for them, cancelling again every ``every_s``."""
    pending = [t for t in tasks if not t.done()]
    while pending:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=every_s)
        pending = [t for t in pending if not t.done()]


async def run_together(work: Mapping[str, Work]) -> None:
    """Runs each coroutine as a task of that name until one fails (its error is raised)
    or this is cancelled; either way every task is stopped first."""
    tasks = [asyncio.create_task(coro, name=name) for name, coro in work.items()]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                task.result()
    finally:
        await stop_tasks(tasks)
