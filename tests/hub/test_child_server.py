"""The dashboards service's child servers (Voila, panel serve) are started again if they die."""

import subprocess
import sys

from hub.dashboards.child_server import ChildServer


class Sleeper(ChildServer):
    starts = 0

    def start(self):
        self.starts += 1
        self.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_dead_child_is_started_again_and_a_live_one_left_alone():
    server = Sleeper()
    server.start()
    try:
        assert server.restart_if_dead() is False and server.starts == 1
        first = server.process
        first.kill()
        first.wait(10)
        assert server.restart_if_dead() is True and server.starts == 2
        assert server.process is not first and server.process.poll() is None
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert server.restart_if_dead() is True  # stopped is dead too: only the service's end stops
    server.stop()
