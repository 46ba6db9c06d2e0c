"""``panel serve`` behind the dashboards service: the Panel apps of the published notebooks.

One ``panel serve`` process on loopback serves one app (``panel_apps/dashboard.py``) under the
service's prefix (``.../panel/dashboard?name=<dashboard>``), so paths pass through the service
unchanged; each session runs the current version of the dashboard it names. The service relays
only logged-in viewers who may open that dashboard (``PanelHandler``).

- Sessions are signed (``--session-ids signed`` with a secret made at each start): the session
  token, which carries the request's arguments and headers (the dashboard's name, the viewer),
  is made by this server for a request the service let through, and a browser cannot forge one
  for another dashboard or another viewer.
- The process gets the same clean environment as Voila's kernels (no hub or service token).
- All sessions share one process: unlike Voila, where each viewer has a kernel of their own, a
  dashboard's code runs next to other sessions' (the same account either way). Each session's
  ensembles still run on a gateway cluster of its own (``hub/dashboards/compute.py``).
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from hub.dashboards.child_server import ChildServer
from hub.dashboards.registry import DashboardRegistry

__all__ = ["PanelServer", "APP", "REGISTRY_ENV"]

#: the app; ``panel serve`` names it in the URL by its file name
APP = Path(__file__).with_name("panel_apps") / "dashboard.py"
#: the environment variable naming the registry's folder, for the app
REGISTRY_ENV = "DTE_DASHBOARDS_DIR"


class PanelServer(ChildServer):
    """The ``panel serve`` process of the dashboards service."""

    log_name = "panel.log"

    def __init__(self, registry: DashboardRegistry, port: int, prefix: str, environment=None):
        super().__init__(registry, port, environment)
        self.base_url = prefix.rstrip("/") + "/panel/"

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
