"""Benchmark of the twin dashboards; prints one JSON document.

Measured in headless Chromium, in one run (the machine is noisy: compare medians and ratios):

- ``through_hub``: time to interactive of each twin dashboard opened by a logged-in DT user
  through the hub (the dashboards service, Voila with a preheated kernel): from navigation to
  the parameter form visible and operable. ``cold`` is the viewer's first view of it with the
  pools full (for flood, the first, nothing of Voila in the browser's cache yet), ``warm`` the
  views after it (the pool refilled between views; the browser keeps Voila's files), median
  and p95;
- ``concurrent``: ``--viewers`` DT users opening the flood dashboard at the same moment, each
  in a fresh browser (nothing cached), on a platform preheating that many kernels for it
  (``[dashboards] pools``, as an operator expecting a class would): median and p95 time to
  interactive, the number of failed views, and whose CPU seconds the burst took (the
  browsers share this machine's cores with the platform), with the shortest time the
  browsers' share and the platform's share each need on these cores;
- ``panel_through_hub``: the same, for each twin as a Panel app of the dashboards service
  (``/services/dashboards/p/<name>/``: ``panel serve`` processes, ``[dashboards]
  panel_processes``, a session per view), with ``concurrent`` viewers too (no pool to size:
  sessions share their process);
- ``stock_voila``: the same flood notebook served by a stock ``voila`` (no preheating, no hub,
  default template), the anchor;
- ``memory_mb_per_viewer``: resident memory of one dashboard kernel (each Voila viewer holds
  one); for Panel, ``concurrent.memory_mb_per_session``: what the ``panel serve`` processes
  grew by per open session.

Usage: ``python bench/dashboards.py [--runs 5] [--viewers 20]``
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import tempfile
import time

import psutil
import requests

from bench.timing import summary
from tests.browser import CHROMIUM_FLAGS, chromium_path
from tests.hub.conftest import new_account
from tests.hub.platform import (
    HubUser,
    free_port,
    panel_processes,
    running_platform,
    shared_temp_folder,
)

TWINS = ("flood", "drought", "detector-noise", "calorimeter")
READY = ".dte-parameter-form .widget-readout"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3)


def stats(values: list[float]) -> dict:
    """``timing.summary`` (median, min, max, runs) and the 95th percentile."""
    return {**summary(values), "p95_s": p95(values)}


async def time_to_interactive(
    context, url: str, timeout_s: float = 180, kept_open: list | None = None
) -> float:
    """Seconds from navigating to ``url`` to the parameter form visible; the page is closed
    then, or kept in ``kept_open`` (the session stays, for its memory)."""
    page = await context.new_page()
    try:
        started = time.perf_counter()
        await page.goto(url, timeout=timeout_s * 1000)
        await page.locator(READY).first.wait_for(state="visible", timeout=timeout_s * 1000)
        took = time.perf_counter() - started
    except BaseException:
        await page.close()
        raise
    if kept_open is None:
        await page.close()
    else:
        kept_open.append(page)
    return took


async def logged_in_context(browser, platform, person):
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(platform.url)
    await page.fill("input[name=username]", person.name)
    await page.fill("input[name=password]", person.password)
    await page.click("input[type=submit], button[type=submit]")
    await page.wait_for_url("**/services/dashboards/", timeout=60_000)
    await page.close()
    return context


def dashboard_kernels(state: Path) -> list[psutil.Process]:
    """The kernels of the dashboards' Voila (they run with its run registry)."""
    registry = str(state / "dashboards" / "runs.sqlite")
    kernels = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        with contextlib.suppress(psutil.Error, TypeError, AttributeError):
            if (process.info["environ"] or {}).get("DTE_RUN_REGISTRY") == registry and any(
                "ipykernel" in part for part in process.info["cmdline"]
            ):
                kernels.append(process)
    return kernels


def panel_memory_mb(platform) -> float:
    """Resident memory of the platform's ``panel serve`` processes together."""
    total = 0
    for process in panel_processes(platform.instance):
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / 1024**2


def kernel_memory_mb(state: Path) -> float:
    """Median resident memory of one dashboard kernel: what each open viewer holds."""
    sizes = []
    for kernel in dashboard_kernels(state):
        with contextlib.suppress(psutil.Error):
            sizes.append(kernel.memory_info().rss / 1024**2)
    return round(statistics.median(sizes), 1) if sizes else 0.0


def pool_fills(state: Path, notebook: str, size: int) -> int:
    """How many times Voila has logged the pool of ``notebook`` filled with ``size`` kernels."""
    log = state / "dashboards" / "voila.log"
    return (log.read_text() if log.exists() else "").count(
        f"Kernel pool of {notebook} is filled with {size} "
    )


async def wait_for_pool(
    state: Path, notebook: str, size: int, fills: int = 1, timeout_s: float = 600
) -> None:
    """Wait until the pool of ``notebook`` has been filled with ``size`` kernels ``fills``
    times (the first fill, then a refill after each viewer)."""
    deadline = time.monotonic() + timeout_s
    while pool_fills(state, notebook, size) < fills:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the pool of {notebook} did not fill in {timeout_s} s")
        await asyncio.sleep(1)


async def wait_until_idle(busy_percent: float = 15, seconds: int = 3, timeout_s: float = 900):
    """Wait until the machine's cores have been nearly idle for ``seconds`` in a row."""
    deadline, quiet = time.monotonic() + timeout_s, 0
    psutil.cpu_percent()  # starts the measurement
    while quiet < seconds:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the machine did not become idle in {timeout_s} s")
        await asyncio.sleep(1)
        quiet = quiet + 1 if psutil.cpu_percent() < busy_percent else 0


def viewers_of(platform, count: int) -> list:
    admin = HubUser(platform, "admin", platform.admin_password)
    admin.login()
    admin.create_token()
    people = []
    for _ in range(count):
        person = new_account(platform, admin, developer=False, prefix="viewer")
        admin.api("POST", "/hub/api/groups/dt-users/users", json={"users": [person.name]})
        people.append(person)
    return people


async def launch(playwright):
    return await playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True
    )


async def one_viewer_at_a_time(runs: int) -> dict:
    """Each twin dashboard, cold then warm, with the platform's default pool (1 kernel); then
    each as a Panel app."""
    from playwright.async_api import async_playwright

    report: dict = {"panel": {}}
    with shared_temp_folder() as folder, running_platform(folder / "state") as platform:
        (person,) = viewers_of(platform, 1)
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            context = await logged_in_context(browser, platform, person)
            for front in ("d", "p"):
                shown = report if front == "d" else report["panel"]
                base = f"{platform.url}/services/dashboards/{front}/"
                for slug in TWINS:
                    notebook, times = f"{slug}/v1.ipynb", []
                    for _ in range(1 + runs):  # cold, then warm
                        await wait_until_idle()  # the pools are full
                        fills = pool_fills(platform.state, notebook, 1)
                        times.append(await time_to_interactive(context, base + f"{slug}/"))
                        if front == "d":  # Voila refills the pool the view took its kernel from
                            await wait_for_pool(platform.state, notebook, 1, fills + 1)
                    shown[slug] = {"cold_s": round(times[0], 3), "warm": stats(times[1:])}
            report["memory_mb_per_viewer"] = kernel_memory_mb(platform.state)
            await browser.close()
    return report


async def many_viewers_at_once(
    viewers: int, front: str = "d", panel_processes: int | None = None
) -> dict:
    """``viewers`` DT users opening the flood dashboard at the same moment: in Voila (``front``
    "d") on a platform whose operator preheats that many kernels for it (``[dashboards] pools =
    { flood = N }``), or as a Panel app ("p", in ``panel_processes`` processes, else the
    platform's default)."""
    from playwright.async_api import async_playwright

    settings = {"dashboards": {"pools": {"flood": viewers if front == "d" else 1}}}
    if panel_processes:
        settings["dashboards"]["panel_processes"] = panel_processes
    with (
        shared_temp_folder() as folder,
        running_platform(folder / "state", settings) as platform,
    ):
        people = viewers_of(platform, viewers)
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            contexts = [await logged_in_context(browser, platform, p) for p in people]
            if front == "d":
                await wait_for_pool(platform.state, "flood/v1.ipynb", viewers)
            await wait_until_idle()  # every pool kernel has run its notebook
            url = f"{platform.url}/services/dashboards/{front}/flood/"
            # Panel: the pages stay open until the sessions' memory is measured (Voila's close
            # as they become interactive, as before)
            memory_before, open_pages = panel_memory_mb(platform), []
            kept_open = open_pages if front == "p" else None
            with CpuByProcess() as used:
                results = await asyncio.gather(
                    *(time_to_interactive(c, url, 300, kept_open) for c in contexts),
                    return_exceptions=True,
                )
            memory_per_session = (panel_memory_mb(platform) - memory_before) / max(
                1, len(open_pages)
            )
            await browser.close()
    times = [r for r in results if isinstance(r, float)]
    failures = [
        f"{type(r).__name__}: {str(r).splitlines()[0]}" for r in results if not isinstance(r, float)
    ]
    cpu = used.seconds()
    cores = len(os.sched_getaffinity(0))
    return {
        "viewers": viewers,
        "failed": len(failures),
        "failures": sorted(set(failures)),
        **(stats(times) if times else {}),
        # the browsers run on this machine too: whose CPU seconds the burst took, and the
        # shortest time each share alone needs on these cores (the burst cannot end sooner)
        "cpu_s_during_burst": cpu,
        "cores": cores,
        "alone_need_s": {k: round(cpu[k] / cores, 1) for k in ("browsers", "platform")},
        # Voila: each viewer holds a kernel (memory_mb_per_viewer of one_viewer_at_a_time)
        **({"memory_mb_per_session": round(memory_per_session, 1)} if front == "p" else {}),
    }


class CpuByProcess:
    """CPU seconds used while the block runs, by the browsers (Chromium), by the bench (this
    process and Playwright's driver), and by every other process (the platform: proxy, hub,
    service, Voila or Panel, kernels; run the bench alone), and the cores' idle seconds.
    Processes are sampled every ``interval`` s: one that ends (a closed page's renderer, a
    kernel shut down) counts up to its last sample."""

    def __init__(self, interval: float = 0.5):
        import threading

        self.interval, self.stopped = interval, threading.Event()
        self.start_times: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        first = True
        while True:
            for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
                with contextlib.suppress(psutil.Error, TypeError):
                    times = process.info["cpu_times"]
                    used = times.user + times.system
                    kind = self.kind(process)
                    # a process there at the start counts from then, a later one from its birth
                    self.start_times.setdefault(process.pid, used if first else 0.0)
                    self.last[process.pid] = (kind, used)
            first = False
            if self.stopped.wait(self.interval):
                return

    @staticmethod
    def kind(process: psutil.Process) -> str:
        if "chrom" in (process.info["name"] or ""):
            return "browsers"
        if process.pid == os.getpid() or "playwright" in " ".join(process.info["cmdline"] or []):
            return "bench"
        return "platform"

    def __enter__(self):
        self.idle_before = psutil.cpu_times().idle
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()
        self.idle = psutil.cpu_times().idle - self.idle_before

    def seconds(self) -> dict[str, float]:
        used = {"browsers": 0.0, "bench": 0.0, "platform": 0.0}
        for pid, (kind, total) in self.last.items():
            used[kind] += total - self.start_times[pid]
        return {**{k: round(v, 1) for k, v in used.items()}, "idle": round(self.idle, 1)}


async def stock_voila(runs: int) -> dict:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DTE_", "JUPYTERHUB_"))}
        env.update(DTE_CATALOG_CACHE=f"{folder}/catalog", DTE_RUN_REGISTRY=f"{folder}/runs.sqlite")
        subprocess.run(
            [sys.executable, "-m", "catalogs", "build", "fulda_forcing", "floodplain_terrain"],
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "voila"),
                str(REPO / "notebooks" / "flood.ipynb"),
                "--no-browser",
                f"--port={port}",
                "--template=lab",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(url + "voila/static/voila.js", timeout=2).status_code < 500:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError("stock voila did not start")
                time.sleep(0.3)
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                context = await browser.new_context()
                times = [await time_to_interactive(context, url) for _ in range(runs)]
                await browser.close()
        finally:
            server.terminate()
            server.wait(10)
    return stats(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--viewers", type=int, default=20)
    options = parser.parse_args()
    report = {"stock_voila_flood": asyncio.run(stock_voila(options.runs))}
    report["through_hub"] = asyncio.run(one_viewer_at_a_time(options.runs))
    report["panel_through_hub"] = report["through_hub"].pop("panel")
    report["through_hub"]["concurrent"] = asyncio.run(many_viewers_at_once(options.viewers))
    report["panel_through_hub"]["concurrent"] = asyncio.run(
        many_viewers_at_once(options.viewers, front="p")
    )
    stock = report["stock_voila_flood"]["median_s"]
    warm = report["through_hub"]["flood"]["warm"]["median_s"]
    report["flood_warm_vs_stock"] = round(warm / stock, 3)
    panel = report["panel_through_hub"]["flood"]["warm"]["median_s"]
    report["flood_panel_warm_vs_stock"] = round(panel / stock, 3)
    report["targets"] = {"warm_median_s": 1.5, "concurrent_p95_s": 5.0}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
