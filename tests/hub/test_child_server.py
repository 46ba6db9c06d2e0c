"""The dashboards service's child servers (Voila, panel serve) are started again if they die."""

import sys

from hub.dashboards.child_server import ChildServer
from hub.dashboards.registry import DashboardRegistry
from tests.hub.platform import wait_until


class Sleeper(ChildServer):
    log_name = "sleeper.log"
    starts = 0

    def start(self):
        self.starts += 1
        self.launch(
            [sys.executable, "-c", "print('sleeping', flush=True); import time; time.sleep(60)"], {}
        )


def test_a_dead_child_is_started_again_and_a_live_one_left_alone(tmp_path):
    registry = DashboardRegistry(tmp_path)
    server = Sleeper(registry, port=0)
    log = tmp_path / "sleeper.log"
    server.start()
    try:
        assert server.restart_if_dead() is False and server.starts == 1
        # the server's output goes to its log in the registry's folder
        wait_until(lambda: "sleeping" in log.read_text(), 30, "the first start's output")
        first = server.process
        first.kill()
        first.wait(10)
        assert server.restart_if_dead() is True and server.starts == 2
        assert server.process is not first and server.process.poll() is None
        # appended: the first start's output is kept
        wait_until(lambda: log.read_text().count("sleeping") == 2, 30, "the second's output")
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert server.restart_if_dead() is True  # stopped is dead too: only the service's end stops
    server.stop()
