"""Cutting a sequence into consecutive runs of bounded weight."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def runs_of_at_most(items: Iterable[T], weight: Callable[[T], int], most: int) -> list[list[T]]:
    """``items`` in order, cut into runs whose weights add up to at most ``most`` (an item
    heavier than that is a run of its own)."""
    runs: list[list[T]] = []
    total = most
    for item in items:
        w = weight(item)
        if total + w > most:
            runs.append([])
            total = 0
        runs[-1].append(item)
        total += w
    return runs
