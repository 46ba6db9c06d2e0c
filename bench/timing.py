"""Summaries of repeated timings: medians and ranges, never one run (the machines are noisy)."""

from __future__ import annotations

import statistics
import time


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "median_s": round(statistics.median(ordered), 6),
        "min_s": round(ordered[0], 6),
        "max_s": round(ordered[-1], 6),
        "runs_s": [round(v, 6) for v in values],
    }


def timed(function, runs: int) -> list[float]:
    """Seconds of each of ``runs`` calls of ``function``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times
