"""``panel serve`` behind the dashboards service: the Panel apps of the published notebooks.

Each ``panel serve`` process on loopback serves one app (``panel_apps/dashboard.py``) under the
service's prefix (``.../panel/dashboard?name=<dashboard>``), so paths pass through the service
unchanged; each session runs the current version of the dashboard it names. The service relays
only logged-in viewers who may open that dashboard (``PanelHandler``).

- Sessions are signed (``--session-ids signed`` with a secret made at each start): the session
  token, which carries the request's arguments and headers (the dashboard's name, the viewer),
  is made by this server for a request the service let through, and a browser cannot forge one
  for another dashboard or another viewer; the service relays a websocket only with a token
  made for its viewer's own page (a token passed on to someone else is refused).
- The process gets the same clean environment as Voila's kernels (no hub or service token).
- Processes: ``[dashboards] panel_processes`` of them (one per two cores by default), each on
  its own port with its own log and secret. A viewer's sessions all run in one process, chosen
  by the viewer's name (``process_of``): a page's session lives in the process that made it,
  and its websocket must reach that process. A session's code runs next to other sessions' of
  its process (unlike Voila, where each viewer has a kernel of their own; the same account
  either way), so a slow dashboard holds up only the viewers of its process, and sessions use
  as many cores as there are processes. Each session's ensembles run on a gateway cluster of
  its own (``hub/dashboards/compute.py``).
"""

from __future__ import annotations

import secrets
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from hub.dashboards.child_server import ChildServer
from hub.dashboards.registry import DashboardRegistry

__all__ = ["PanelServer", "APP", "REGISTRY_ENV", "process_of"]

#: the app; ``panel serve`` names it in the URL by its file name
APP = Path(__file__).with_name("panel_apps") / "dashboard.py"
#: the environment variable naming the registry's folder, for the app
REGISTRY_ENV = "DTE_DASHBOARDS_DIR"

ServerT = TypeVar("ServerT")


def process_of(viewer: str, servers: Sequence[ServerT]) -> ServerT:
    """The Panel process that runs ``viewer``'s sessions: always the same one for a viewer,
    and viewers spread over the processes (a checksum of the name, the same at every start)."""
    return servers[zlib.crc32(viewer.encode()) % len(servers)]


class PanelServer(ChildServer):
    """A ``panel serve`` process of the dashboards service (``number`` counts from 1)."""

    def __init__(
        self, registry: DashboardRegistry, port: int, prefix: str, environment=None, number=1
    ):
        super().__init__(registry, port, environment)
        self.base_url = prefix.rstrip("/") + "/panel/"
        self.log_name = f"panel-{number}.log"

    def command(self) -> list[str]:
        return [
            str(Path(sys.executable).parent / "panel"),
            "serve",
            str(APP),
            "--address=127.0.0.1",
            f"--port={self.port}",
            f"--prefix={self.base_url.rstrip('/')}",
            f"--allow-websocket-origin=127.0.0.1:{self.port}",
            "--session-ids=signed",
            "--num-procs=1",
            # no index of apps (no admin page or reload either, by default)
            "--disable-index",
        ]

    def start(self) -> None:
        environment = {
            # a secret of this run's: session tokens are signed with it
            "BOKEH_SECRET_KEY": secrets.token_urlsafe(32),
            "BOKEH_SIGN_SESSIONS": "True",
            REGISTRY_ENV: str(self.registry.folder),
        }
        self.launch(self.command(), environment)
