"""Waiting for a quiet machine: work that can wait (a pool's refill) waits while the cores are
busy serving viewers, up to a limit.

Measured on 2 cores, 20 viewers opening one dashboard at once: the refills of its pool, which
began 5 s into the burst, took half of the platform's CPU seconds during it (21.5 of them; 10.1
with the refills held back), and the viewers' pages waited for that CPU.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psutil

__all__ = ["busy_percent", "wait_for_quiet_machine"]


def _busy_and_total(times) -> tuple[float, float]:
    # a guest's time is counted in user and nice already; waiting for a disk is not work
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    return total - times.idle - getattr(times, "iowait", 0.0), total


async def busy_percent(sample_s: float = 1.0) -> float:
    """How busy the machine's cores are, in percent, measured over the next ``sample_s``
    seconds (from the kernel's counters, so that other callers' samples do not interfere)."""
    busy_before, total_before = _busy_and_total(psutil.cpu_times())
    await asyncio.sleep(sample_s)
    busy_after, total_after = _busy_and_total(psutil.cpu_times())
    elapsed = total_after - total_before
    return 100.0 * (busy_after - busy_before) / elapsed if elapsed > 0 else 0.0


async def wait_for_quiet_machine(
    limit_s: float,
    busy_below: float,
    stopping: Callable[[], bool] = lambda: False,
    measure: Callable[[], Awaitable[float]] = busy_percent,
) -> bool:
    """Wait until a sample finds the cores less than ``busy_below`` percent busy; give up after
    ``limit_s`` seconds or as soon as ``stopping()`` is true. Whether the machine was quiet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline and not stopping():
        if await measure() < busy_below:
            return True
    return False
