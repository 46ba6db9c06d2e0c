"""Waiting for a quiet machine (``hub.dashboards.quiet_machine``): what the pools' refills do
while the cores serve viewers."""

import asyncio
import time

from hub.dashboards.quiet_machine import busy_percent, wait_for_quiet_machine
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
