"""Benchmark of the data catalog; prints one JSON document.

In one run, in a temporary cache (the machine is noisy: compare medians and ratios):

- ``build``: seconds to build each entry at the chosen size (first use);
- ``read``: reading each entry through the Intake catalog (``catalog[name].read()``, which also
  checks the cache against its manifest) against reading the same files directly with pandas
  (``read_parquet``) or xarray (``open_zarr`` + load); overhead = catalog / direct − 1, target
  at most 5 %. Grids are loaded into memory on both sides so the same bytes are read. The
  catalog's cost is about fixed (Intake's entry lookup, the manifest check: a few tenths of a
  millisecond), so ``overhead_ms`` is reported too: small entries show a larger ratio;
- ``live``: latency of the live feeds from publication (the archive's commit time) to a client
  following the feed through the hub's proxy, median and p95 (skip with ``--no-live``; it
  starts the whole platform in a temporary folder).

Usage: ``python bench/catalog.py [--runs 7] [--size default] [--no-live] [--observations 60]``
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
import time

from bench.timing import summary, timed


def live_latency(observations: int) -> dict:
    """Publish-to-client latency of the river gauge at 5 ticks a second, through the hub."""
    import itertools
    import statistics

    import requests

    from catalogs.live import LiveFeed
    from tests.hub.platform import HubUser, running_platform, shared_temp_folder

    with (
        shared_temp_folder() as folder,
        running_platform(folder / "state", settings={"live": {"tick": 0.2}}) as platform,
    ):
        deadline = time.monotonic() + 60
        while requests.get(f"{platform.url}/services/live/feeds", timeout=2).status_code != 403:
            if time.monotonic() > deadline:
                raise TimeoutError("the live service did not answer")
            time.sleep(0.5)
        admin = HubUser(platform, "admin", platform.admin_password)
        admin.login()
        admin.create_token()
        feed = LiveFeed("river_gauge", url=f"{platform.url}/services/live", token=admin.token)
        latencies = []
        for observation in itertools.islice(feed.follow(), observations):
            latencies.append(time.time() - observation["recorded_at"])
    latencies.sort()
    return {
        "observations": len(latencies),
        "median_ms": round(statistics.median(latencies) * 1e3, 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1e3, 2),
        "max_ms": round(latencies[-1] * 1e3, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", default="default")
    parser.add_argument("--no-live", action="store_true")
    parser.add_argument("--observations", type=int, default=60)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["DTE_CATALOG_CACHE"] = folder
        import pandas as pd
        import xarray as xr

        from catalogs import build_entry, open_catalog
        from catalogs.entries import ENTRIES
        from catalogs.store import cached

        catalog = open_catalog(size=options.size, personal=False)
        names = [name for name, spec in ENTRIES.items() if not spec.live]
        report = {"size": options.size, "build_s": {}, "read": {}}
        for name in names:
            report["build_s"][name] = round(build_entry(name, options.size), 3)
        for name in names:
            spec = ENTRIES[name]
            path = cached(spec, options.size).data_path
            grid = spec.schema.kind == "grid"

            def direct(path=path, grid=grid):
                return xr.open_zarr(path, chunks={}).load() if grid else pd.read_parquet(path)

            def through_catalog(name=name):
                data = catalog[name].read()
                # grids and large tables open lazily with Dask: read them whole, as direct does
                return data if isinstance(data, pd.DataFrame) else data.compute()

            through_catalog(), direct()  # warm the file cache and imports
            # interleaved, so drifts of the machine hit both alike
            catalog_times, direct_times = [], []
            for _ in range(options.runs):
                catalog_times += timed(through_catalog, 1)
                direct_times += timed(direct, 1)
            via, plain = summary(catalog_times), summary(direct_times)
            report["read"][name] = {
                "catalog": via,
                "direct": plain,
                "overhead": round(via["median_s"] / plain["median_s"] - 1, 3),
                "overhead_ms": round((via["median_s"] - plain["median_s"]) * 1e3, 3),
            }
        overheads = [entry["overhead"] for entry in report["read"].values()]
        report["median_overhead"] = sorted(overheads)[len(overheads) // 2]
        report["target_overhead"] = 0.05
    if not options.no_live:
        report["live"] = live_latency(options.observations)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
