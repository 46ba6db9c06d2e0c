"""Waiting for a quiet machine: work that can wait (a pool's refill) waits while the cores are
busy serving viewers, up to a limit.

Measured on 2 cores, 20 viewers opening one dashboard at once: the platform's processes used
21.5 CPU seconds during the burst, 10.1 when the pool's refills (which began 5 s into it) were
held back, and the viewers' pages waited for that CPU.

"The cores" are those this process may run on (its CPU affinity), and when the control group
mounted at ``/sys/fs/cgroup`` has a CPU quota (a container's CPU limit, cgroup v2
``cpu.max``), the share of that quota the group uses: a container limited to 2 cores of a large
host is busy when it uses them, however idle the host. Not seen: a quota of a parent group, or
of a systemd unit outside a container (cgroup v1 has no ``cpu.max`` either).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

__all__ = ["busy_percent", "quota_cores", "wait_for_quiet_machine"]

#: the control group of this process inside a container (its own cgroup v2 namespace)
CGROUP = Path("/sys/fs/cgroup")


def quota_cores(cgroup: Path = CGROUP) -> float | None:
    """The cores' worth of CPU time the control group may use (``cpu.max``), or None when it
    has no quota (or no cgroup v2)."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()
        return int(quota) / int(period)
    except (OSError, ValueError):  # "max": no quota
        return None


def _group_cpu_s(cgroup: Path) -> float:
    """CPU seconds the control group has used (``cpu.stat``)."""
    for line in (cgroup / "cpu.stat").read_text().splitlines():
        name, _, value = line.partition(" ")
        if name == "usage_usec":
            return int(value) / 1e6
    raise OSError(f"no usage_usec in {cgroup / 'cpu.stat'}")


def _busy_and_total(cores: set[int]) -> tuple[float, float]:
    """Busy and total CPU seconds so far of the given cores (from the kernel's counters)."""
    busy = total = 0.0
    # psutil lists the online cores in order, which are the numbers when none is offline
    for number, times in enumerate(psutil.cpu_times(percpu=True)):
        if number in cores:
            # a guest's time is counted in user and nice already; waiting for a disk is no work
            spent = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
            busy += spent - times.idle - getattr(times, "iowait", 0.0)
            total += spent
    return busy, total


async def busy_percent(sample_s: float = 1.0, cgroup: Path = CGROUP) -> float:
    """How busy the cores are, in percent, measured over the next ``sample_s`` seconds (from
    counters, so that other callers' samples do not interfere)."""
    cores = os.sched_getaffinity(0)
    quota = quota_cores(cgroup)
    if quota is not None and quota < len(cores):
        started, used_before = time.monotonic(), _group_cpu_s(cgroup)
        await asyncio.sleep(sample_s)
        elapsed, used = time.monotonic() - started, _group_cpu_s(cgroup) - used_before
        return 100.0 * used / (elapsed * quota)
    busy_before, total_before = _busy_and_total(cores)
    await asyncio.sleep(sample_s)
    busy_after, total_after = _busy_and_total(cores)
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
