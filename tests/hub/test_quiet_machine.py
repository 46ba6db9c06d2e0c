"""Waiting for a quiet machine (``hub.dashboards.quiet_machine``): what the pools' refills do
while the cores serve viewers."""

import asyncio
import time

from hub.dashboards.quiet_machine import busy_percent, quota_cores, wait_for_quiet_machine
from tests.busy_cores import busy_cores


def samples(*values: float):
    """A ``measure`` giving ``values`` in turn (then the last one), and the list of calls."""
    given: list[float] = []

    async def measure() -> float:
        await asyncio.sleep(0.01)
        given.append(values[min(len(given), len(values) - 1)])
        return given[-1]

    return measure, given


def test_the_wait_ends_at_the_first_quiet_sample():
    measure, given = samples(95, 70, 30, 10)
    assert asyncio.run(wait_for_quiet_machine(60, 50, measure=measure)) is True
    assert given == [95, 70, 30]


def test_the_wait_gives_up_at_its_limit_on_a_machine_that_stays_busy():
    measure, given = samples(99)
    started = time.monotonic()
    assert asyncio.run(wait_for_quiet_machine(0.3, 50, measure=measure)) is False
    assert time.monotonic() - started >= 0.3 and len(given) > 3


def test_the_wait_ends_when_its_owner_stops():
    measure, given = samples(99)
    assert asyncio.run(wait_for_quiet_machine(60, 50, lambda: len(given) == 2, measure)) is False
    assert len(given) == 2


def test_busy_cores_are_measured_as_busy():
    with busy_cores():
        time.sleep(0.5)  # the busy loops have started
        assert asyncio.run(busy_percent(1.0)) > 75


def test_a_containers_cpu_quota_is_read_from_its_control_group(tmp_path):
    assert quota_cores(tmp_path) is None  # no cgroup v2 here
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert quota_cores(tmp_path) is None  # no quota
    (tmp_path / "cpu.max").write_text("200000 100000\n")
    assert quota_cores(tmp_path) == 2.0


def test_under_a_quota_busy_is_the_share_of_the_quota_used(tmp_path):
    """A container limited to half a core that used a quarter of a core-second in half a
    second was fully busy, however idle the host."""
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    stat = tmp_path / "cpu.stat"
    stat.write_text("usage_usec 1000000\nuser_usec 800000\n")

    async def measured() -> float:
        sample = asyncio.ensure_future(busy_percent(0.5, cgroup=tmp_path))
        await asyncio.sleep(0.1)
        stat.write_text("usage_usec 1250000\nuser_usec 1000000\n")
        return await sample

    assert 80 < asyncio.run(measured()) <= 100
