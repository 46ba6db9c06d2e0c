"""The dashboards' Voila on its own (no hub): its guards, and pools of preheated kernels that
follow the registry and take turns."""

import contextlib
import re
import time

import pytest

from hub.dashboards.registry import DashboardRegistry
from hub.dashboards.voila_server import VoilaServer, assets_key
from tests.busy_cores import busy_cores
from tests.hub.platform import free_port, wait_until
from tests.hub.registry_helpers import notebook, publish

pytestmark = pytest.mark.slow


@pytest.fixture
def registry(tmp_path):
    return DashboardRegistry(tmp_path / "dashboards")


@contextlib.contextmanager
def running_voila(registry, tmp_path, **options):
    server = VoilaServer(
        registry,
        free_port(),
        "/services/dashboards/",
        environment={"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
        **options,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def running(server) -> bool:
    """Fails the test, with the end of Voila's log, if Voila ended."""
    log = server.registry.folder / "voila.log"
    assert server.process.poll() is None, log.read_text()[-3000:]
    return True


def wait_for_log(server, text: str, timeout_s: float = 120) -> str:
    log = server.registry.folder / "voila.log"

    def logged() -> str:
        return running(server) and text in log.read_text() and log.read_text()

    return wait_until(logged, timeout_s, f"no {text!r} in the Voila log")


def river_page(server) -> None:
    """A viewer opens the river dashboard (published with ``print('river ' + 'flows')``)."""
    import requests

    page = requests.get(
        f"{server.url}{server.base_url}voila/render/river/v1.ipynb",
        headers={"Authorization": f"token {server.token}"},
        timeout=120,
    )
    assert page.status_code == 200 and "river flows" in page.text


def test_voila_keeps_its_guards_and_its_token_off_the_command_line(registry):
    command = VoilaServer(registry, 9999, "/services/dashboards/", pool_size=3).command()
    for guard in (
        "--Voila.ip=127.0.0.1",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.show_tracebacks=False",
        "--MappingKernelManager.allow_tracebacks=False",
        "--template=dte",
        "--preheat_kernel=True",
    ):
        assert guard in command
    # the token travels in a private file (JUPYTER_TOKEN_FILE), never on the command line
    server = VoilaServer(registry, 9999, "/services/dashboards/")
    assert "--Voila.auto_token=True" in server.command()
    assert not any(server.token in part for part in server.command())
    # the address of its files changes with the packages that make them
    assert server.base_url == f"/services/dashboards/voila/{assets_key()}/"
    assert re.fullmatch(r"[0-9a-f]{12}", assets_key())


def test_each_dashboard_gets_its_own_pool_and_old_versions_none(registry, tmp_path):
    """The operator's per-dashboard pools reach a real Voila: two kernels wait for the river
    dashboard, none for the lake (pool_size 0), and none for the river's old version."""
    publish(registry)
    publish(registry)
    publish(registry, slug="lake")
    with running_voila(registry, tmp_path, pool_size=0, pools={"river": 2}) as server:
        wait_for_log(server, "Kernel pool of river/v2.ipynb is filled with 2")
        time.sleep(3)  # any other pool would be filling by now
        text = (registry.folder / "voila.log").read_text()
        assert text.count("Kernel started") == 2
        assert "lake/v1.ipynb is filled" not in text and "river/v1.ipynb is filled" not in text


def test_pools_follow_publications_made_while_voila_runs(registry, tmp_path):
    """A dashboard published after the start is preheated without a restart; republishing
    shuts down the old version's idle kernels and preheats the new one."""
    publish(registry, slug="lake")
    with running_voila(registry, tmp_path, pool_size=1) as server:
        wait_for_log(server, "Kernel pool of lake/v1.ipynb is filled with 1")
        publish(registry)
        wait_for_log(server, "Kernel pool of river/v1.ipynb is filled with 1")
        publish(registry, content=notebook("print('v2')"))
        text = wait_for_log(server, "Kernel pool of river/v2.ipynb is filled with 1")
        text = wait_for_log(server, "Kernel shutdown")
        assert "Emptying the pool of river/v1.ipynb (1 kernel(s))" in text
        registry.unpublish("lake")
        text = wait_for_log(server, "Emptying the pool of lake/v1.ipynb (1 kernel(s))")
        assert text.count("Kernel started") == 3


def test_preheats_take_turns(registry, tmp_path):
    """With one preheat at a time, no two pool kernels run their notebook at once (each
    notebook writes when it ran; the test fails when Voila preheats them all together)."""
    spans = tmp_path / "spans.txt"
    code = (
        "import time\nstarted = time.time()\ntime.sleep(1.5)\n"
        f"with open({str(spans)!r}, 'a') as f:\n    f.write(f'{{started}} {{time.time()}}\\n')"
    )
    publish(registry, content=notebook(code))
    with running_voila(
        registry, tmp_path, pool_size=3, pools_options={"preheating_at_once": 1}
    ) as server:
        wait_until(
            lambda: running(server) and spans.exists() and len(spans.read_text().splitlines()) == 3,
            120,
            "three preheats",
        )
    runs = sorted(tuple(map(float, line.split())) for line in spans.read_text().splitlines())
    for (_, ended), (started, _) in zip(runs, runs[1:], strict=False):
        assert started >= ended, runs


def test_a_viewer_does_not_wait_for_other_dashboards_preheats(registry, tmp_path):
    """While a slow dashboard holds the only preheat turn, a viewer whose dashboard's refill
    waits for its turn gets a kernel of their own at once: the page comes back before the slow
    notebook has finished (the test fails when the waiting refill is handed to the viewer)."""

    from hub.dashboards.voila_server import REFILL_DELAY_S

    finished = tmp_path / "slow-finished"
    slow = f"import time, pathlib\ntime.sleep(40)\npathlib.Path({str(finished)!r}).touch()"
    publish(registry, content=notebook("print('river ' + 'flows')"))
    # the refill does not wait for a quiet machine: it waits for its turn at once
    options = {"preheating_at_once": 1, "refill_wait_limit_s": 0}
    with running_voila(registry, tmp_path, pool_size=1, pools_options=options) as server:
        wait_for_log(server, "Kernel pool of river/v1.ipynb is filled with 1")
        time.sleep(2)  # its notebook has run
        publish(registry, slug="slow", content=notebook(slow))
        wait_for_log(server, "Kernel pool of slow/v1.ipynb is filled with 1")
        river_page(server)  # takes the preheated kernel; the refill will wait for the slow one
        time.sleep(REFILL_DELAY_S + 1)
        river_page(server)
        assert not finished.exists()


def test_a_notebook_waiting_for_its_viewer_gives_up_its_turn(registry, tmp_path):
    """The dashboards wait for their viewer (``wait_for_request``) at the end: a preheat that
    got there lets the next one start, long before its turn's time limit."""
    from hub.dashboards.voila_kernels import PREHEAT_TURN_LIMIT_S

    arrived = tmp_path / "arrived"
    arrived.mkdir()
    code = (
        "import os, pathlib\n"
        f"pathlib.Path({str(arrived)!r}, os.environ['VOILA_KERNEL_ID']).touch()\n"
        "from voila.utils import wait_for_request\nwait_for_request()"
    )
    publish(registry, content=notebook(code))
    with running_voila(
        registry, tmp_path, pool_size=3, pools_options={"preheating_at_once": 1}
    ) as server:
        wait_until(
            lambda: running(server) and len(list(arrived.iterdir())) == 3,
            PREHEAT_TURN_LIMIT_S / 2,
            "a waiting notebook kept its turn",
        )


def test_a_preheat_that_fails_is_logged_and_frees_its_turn(registry, tmp_path):
    """A notebook whose kernel cannot start (an unknown kernel) is logged as such, and the
    dashboards after it still get their preheated kernels."""
    import json

    broken = json.loads(notebook())
    broken["metadata"]["kernelspec"] = {"name": "no-such-kernel", "display_name": "None"}
    publish(registry, slug="broken", content=json.dumps(broken))
    with running_voila(
        registry, tmp_path, pool_size=1, pools_options={"preheating_at_once": 1}
    ) as server:
        wait_for_log(server, "Preheating a kernel for broken/v1.ipynb failed")
        publish(registry)
        wait_for_log(server, "Preheating 1 kernel(s) for river/v1.ipynb")
        wait_for_log(server, "Kernel started")  # the river's: the broken one never starts one


def test_a_refill_waits_while_the_cores_are_busy(registry, tmp_path):
    """After a viewer takes the pool's kernel, its refill waits while every core is busy (the
    viewers' pages need them), a viewer arriving meanwhile gets a kernel started for them, and
    the refill starts once the machine is quiet."""

    def kernels_started() -> int:
        return (registry.folder / "voila.log").read_text().count("Kernel started")

    publish(registry, content=notebook("print('river ' + 'flows')"))
    # quiet below 90 %: the busy loops make it 100 %, and once they stop, other work on a shared
    # machine does not hold the refill back
    options = {"refill_wait_limit_s": 600, "refill_busy_below": 90}
    with running_voila(registry, tmp_path, pool_size=1, pools_options=options) as server:
        wait_for_log(server, "Kernel pool of river/v1.ipynb is filled with 1")
        time.sleep(2)  # its notebook has run
        with busy_cores():
            river_page(server)  # takes the preheated kernel
            wait_for_log(server, "The refill of river/v1.ipynb waits for a quiet machine")
            time.sleep(3)
            assert kernels_started() == 1  # held back
            river_page(server)  # not handed the waiting refill: a kernel of its own, at once
            assert kernels_started() == 2
        wait_for_log(server, "Refilling river/v1.ipynb after")
        wait_until(lambda: running(server) and kernels_started() == 3, 60, "the refill")


def test_a_viewer_is_handed_a_ready_kernel_before_one_still_waiting():
    """Voila hands out a pool's first task: ready kernels go first, then those being
    preheated; a refill still waiting (for a quiet machine, a turn) comes last."""
    import asyncio

    from hub.dashboards.voila_kernels import ready_first

    async def order() -> list[str]:
        forever = asyncio.Event()
        waiting = asyncio.ensure_future(forever.wait())
        preheating = asyncio.ensure_future(forever.wait())
        ready = asyncio.ensure_future(asyncio.sleep(0, "ready"))
        later_waiting = asyncio.ensure_future(forever.wait())
        await asyncio.sleep(0.01)
        names = {waiting: "waiting", preheating: "preheating", ready: "ready"}
        names[later_waiting] = "later waiting"
        pool = [waiting, preheating, ready, later_waiting]
        ready_first(pool, in_turn={preheating})
        for task in (waiting, preheating, later_waiting):
            task.cancel()
        return [names[task] for task in pool]

    assert asyncio.run(order()) == ["ready", "preheating", "waiting", "later waiting"]
