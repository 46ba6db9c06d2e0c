"""Benchmark of the thematic twins; prints one JSON document.

For each twin, in one run (the machine is noisy: compare medians and ratios):

- ``run``: seconds per ``Twin.run`` at the twin's default size and at a large size;
- ``kernel``: the twin's vectorised core kernel against a plain NumPy reference of the same
  computation (the loops in ``tests/dte_twins/reference_*.py``, which the tests also use as
  oracles), with the speed-up;
- ``ensemble_scaling``: one ensemble on a local Dask cluster of 1 worker and of 2 workers (one
  thread each), strong scaling = time(1) / time(2); target ≥ 1.7 on this 2-core machine.

Usage: ``python bench/twins.py [--runs 5] [--twins flood,drought] [--members 32]``
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import argparse
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from bench.timing import summary, timed


@dataclass
class TwinCase:
    """How to benchmark one twin: builders for the twin and for its kernel's arguments."""

    make_twin: Callable[[str], object]  # size ("default" or "large") -> Twin (no registry)
    kernel: Callable  # the vectorised core kernel
    reference: Callable  # plain NumPy reference with the same signature
    kernel_arguments: Callable[[], tuple]  # -> positional arguments for both
    ensemble_size: str = "large"  # the size whose members are timed for scaling


def flood_case() -> TwinCase:
    from dte_twins.environment.flood import FloodTwin
    from dte_twins.environment.gr4j import simulate
    from tests.dte_twins.reference_flood import gr4j_reference
    from tests.dte_twins.synthetic import synthetic_forcing, valley

    def make_twin(size):
        if size == "default":  # one year at a gauge
            return FloodTwin(forcing=synthetic_forcing(400), registry=False, warmup_days=30)
        # ten years, with a 200 × 600 cell floodplain
        return FloodTwin(
            forcing=synthetic_forcing(3650), terrain=valley(width_m=2000, cell_m=10), registry=False
        )

    def kernel(forcing, parameters):
        return simulate(forcing.precipitation, forcing.pet, *parameters)[0]["discharge"]

    def reference(forcing, parameters):
        return gr4j_reference(forcing.precipitation, forcing.pet, *parameters)

    def arguments():  # one calibration generation (population 16 × 4 parameters) over 3 years
        import numpy as np

        rng = np.random.default_rng(0)
        parameters = [
            rng.uniform(100, 1200, 64),
            rng.uniform(-5, 3, 64),
            rng.uniform(20, 300, 64),
            rng.uniform(1.1, 2.9, 64),
        ]
        return synthetic_forcing(3 * 365), parameters

    return TwinCase(make_twin, kernel, reference, arguments)


def drought_case() -> TwinCase:
    import numpy as np

    from catalogs.real_data import site24_daily
    from dte_twins.environment.bucket import simulate
    from dte_twins.environment.drought import DroughtTwin
    from tests.dte_twins.reference_drought import bucket_reference
    from tests.dte_twins.synthetic import synthetic_forcing

    def make_twin(size):  # the real site-24 record; 1 cell, or 1000 cells of sub-grid soils
        return DroughtTwin(
            forcing=site24_daily(), registry=False, cells=1 if size == "default" else 1000
        )

    def kernel(forcing, parameters):
        return simulate(forcing.precipitation, forcing.pet, *parameters)[0]["storage"]

    def reference(forcing, parameters):
        return bucket_reference(forcing.precipitation, forcing.pet, *parameters)[0]["storage"]

    def arguments():  # 256 soils over 3 years, as in calibration
        rng = np.random.default_rng(0)
        parameters = [
            rng.uniform(50, 300, 256),
            rng.uniform(0.05, 1, 256),
            1 / rng.uniform(0.002, 0.1, 256),
        ]
        return synthetic_forcing(3 * 365), parameters

    return TwinCase(make_twin, kernel, reference, arguments)


def detector_noise_case() -> TwinCase:
    import numpy as np

    from dte_twins.physics.detector_model import simulate_detector
    from dte_twins.physics.detector_noise import DetectorNoiseTwin
    from dte_twins.physics.spectral import apply_witness_filters
    from tests.dte_twins.reference_detector_noise import (
        apply_witness_filters_reference,
        witness_filter_arguments,
    )

    def make_twin(size):  # 32 s, 128 s or 1024 s of 1024 Hz channels
        seconds = {"default": 32.0, "ensemble": 128.0, "large": 1024.0}[size]
        channels = simulate_detector(seconds, 1024, rng=np.random.default_rng(0))
        return DetectorNoiseTwin(channels=channels, registry=False, duration=seconds)

    # the Wiener prediction of strain from 3 witnesses over 1024 s: FFT filtering vs np.convolve
    return TwinCase(
        make_twin,
        apply_witness_filters,
        apply_witness_filters_reference,
        lambda: witness_filter_arguments(1024.0),
        ensemble_size="ensemble",
    )


def calorimeter_case() -> TwinCase:
    import numpy as np

    from dte_twins.physics.calorimeter import CalorimeterTwin
    from dte_twins.physics.materials import SamplingCalorimeter
    from dte_twins.physics.showers import simulate_showers
    from tests.dte_twins import reference_calorimeter

    def make_twin(size):
        events = {"default": 200, "ensemble": 2_000, "large": 20_000}[size]
        return CalorimeterTwin(registry=False, n_events=events)

    # the hit-level reference Monte Carlo: 200 electrons of 10 GeV in the default Pb/LAr stack
    def kernel(energy, calorimeter, events, seed):
        return simulate_showers(energy, calorimeter, events, np.random.default_rng(seed))

    def reference(energy, calorimeter, events, seed):
        return reference_calorimeter.simulate_showers(
            energy, calorimeter, events, np.random.default_rng(seed)
        )

    arguments = lambda: (10.0, SamplingCalorimeter(), 200, 0)  # noqa: E731
    return TwinCase(make_twin, kernel, reference, arguments, ensemble_size="ensemble")


CASES: dict[str, Callable[[], TwinCase]] = {
    "flood": flood_case,
    "drought": drought_case,
    "detector_noise": detector_noise_case,
    "calorimeter": calorimeter_case,
}


def ensemble_scaling(case: TwinCase, runs: int, members: int) -> dict:
    from distributed import Client, LocalCluster

    # members long enough that scheduling is not what is timed
    twin = case.make_twin(case.ensemble_size)
    result = {}
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            twin.ensemble(2, client=client)  # warm the workers (imports, first task)
            result[f"workers_{workers}"] = summary(
                timed(lambda c=client: twin.ensemble(members, client=c), runs)
            )
    one, two = result["workers_1"]["median_s"], result["workers_2"]["median_s"]
    result.update(members=members, speedup=round(one / two, 2), target_speedup=1.7)
    return result


def bench_twin(case: TwinCase, runs: int, members: int) -> dict:
    report = {}
    for size in ("default", "large"):
        twin = case.make_twin(size)
        twin.run()  # first run pays imports and caches
        report[f"run_{size}"] = summary(timed(twin.run, runs))
    arguments = case.kernel_arguments()
    vectorised = summary(timed(lambda: case.kernel(*arguments), runs))
    reference = summary(timed(lambda: case.reference(*arguments), max(1, runs // 2)))
    report["kernel"] = {
        "vectorised": vectorised,
        "reference": reference,
        "speedup": round(reference["median_s"] / vectorised["median_s"], 1),
    }
    report["ensemble_scaling"] = ensemble_scaling(case, runs, members)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--twins", default=",".join(CASES))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["DTE_RUN_REGISTRY"] = str(Path(folder) / "runs.sqlite")
        report = {
            "cores": os.cpu_count(),
            "twins": {
                name: bench_twin(CASES[name](), options.runs, options.members)
                for name in options.twins.split(",")
            },
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
