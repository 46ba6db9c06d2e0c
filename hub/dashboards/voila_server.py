"""Voila behind the dashboards service: one Voila server on loopback, with preheated kernels.

Voila runs as its own tornado server (not a Jupyter server extension, which would expose the
whole kernel API and has no preheating) over the registry's notebook folder, under the
service's prefix so paths pass through unchanged. It answers only requests that carry its
token, which the service adds after checking the viewer's hub login and groups.

- Preheating: a pool of kernels per current dashboard version, filled at start. Dashboards
  published later (new versions are new paths) are served by a kernel started on demand until
  the service restarts; sessions on an old version keep their kernel.
- Security: the kernels run with a clean environment (no token of the hub or the service; only
  the ``dashboards-compute`` token, which reaches the gateway and nothing else); Voila's own
  message allowlist keeps browsers from executing code; tracebacks are hidden from viewers and
  kept for the dashboard's owner (``error_journal``); templates and themes cannot be switched
  by the URL; notebooks and Python files are never served as files.
- Who is looking: the service sets ``X-DTE-User`` (dropping any the browser sent), which Voila
  hands to the kernel as ``HTTP_X_DTE_USER`` after ``voila.utils.wait_for_request()``.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from dte_widgets.voila_viewer import VIEWER_HEADER
from hub.dashboards.child_server import ChildServer
from hub.dashboards.error_journal import JOURNAL_ENV, journal_folder
from hub.dashboards.kernel_startup import install_startup
from hub.dashboards.registry import DashboardRegistry

__all__ = ["VoilaServer", "VIEWER_HEADER"]

#: how long a cell's outputs may trail its reply when the machine is busy
IOPUB_TIMEOUT_S = 120
#: seconds between a pool kernel being taken and its replacement starting
REFILL_DELAY_S = 5


class VoilaServer(ChildServer):
    """The Voila process of the dashboards service."""

    def __init__(
        self,
        registry: DashboardRegistry,
        port: int,
        prefix: str,
        environment=None,
        pool_size: int = 1,
        pools: dict[str, int] | None = None,
    ):
        self.registry, self.port, self.pool_size = registry, port, pool_size
        self.pools = pools or {}
        self.base_url = prefix.rstrip("/") + "/voila/"
        self.token = secrets.token_hex(24)
        self.environment = environment or {}

    @property
    def errors_dir(self) -> Path:
        """The error journals of the dashboards (``error_journal``)."""
        return journal_folder(self.registry.folder)

    @property
    def ipython_dir(self) -> Path:
        return self.registry.folder / "ipython"

    def command(self) -> list[str]:
        root = self.registry.folder / "notebooks"
        current = {
            d.slug: str(self.registry.notebook_path(d).relative_to(root))
            for d in self.registry.all()
        }
        older = sorted(
            str(path.relative_to(root))
            for path in root.glob("*/v*.ipynb")
            if str(path.relative_to(root)) not in current.values()
        )
        # Voila knows notebooks by path: a dashboard's pool is its current version's
        pools = {"default": {"pool_size": self.pool_size}}
        pools.update(
            {
                current[slug]: {"pool_size": size}
                for slug, size in self.pools.items()
                if slug in current
            }
        )
        preheating = any(pool["pool_size"] > 0 for pool in pools.values())
        return [
            str(Path(sys.executable).parent / "voila"),
            str(root),
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--port={self.port}",
            "--Voila.port_retries=0",
            f"--Voila.base_url={self.base_url}",
            # the token is read from a 0600 file (JUPYTER_TOKEN_FILE): a command line is
            # readable by every local account
            "--Voila.auto_token=True",
            f"--preheat_kernel={preheating}",
            f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}",
            f"--VoilaKernelManager.preheat_denylist={older!r}",
            # a burst of viewers empties the pool; replacing each kernel is seconds of CPU that
            # slows the burst's own pages. Measured with 10 viewers at once: 37 s with 5 s, 21 s
            # with 30 s, but then anyone reloading within 30 s waits for a kernel started on
            # demand. 5 s: the pages have begun, a reload finds a kernel.
            f"--VoilaKernelManager.fill_delay={REFILL_DELAY_S}",
            "--template=dte",
            "--VoilaConfiguration.allow_template_override=NO",
            "--VoilaConfiguration.allow_theme_override=NO",
            # nbclient waits 4 s for a cell's outputs after its reply, then drops them without
            # an error: with many kernels preheating at once the dashboards came out empty
            # (measured). A late output is waited for; a lost one is an error, never a blank.
            f"--VoilaExecutor.iopub_timeout={IOPUB_TIMEOUT_S}",
            "--VoilaExecutor.raise_on_iopub_timeout=True",
            "--VoilaConfiguration.show_tracebacks=False",
            "--MappingKernelManager.allow_tracebacks=False",
            f"--VoilaConfiguration.http_header_envs=['{VIEWER_HEADER}']",
            "--MappingKernelManager.cull_idle_timeout=900",
            "--MappingKernelManager.cull_interval=60",
        ]

    def start(self) -> None:
        token_file = self.registry.folder / "voila-token"
        descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(self.token)
        install_startup(self.ipython_dir)
        environment = {
            **self.environment,
            "JUPYTER_TOKEN_FILE": str(token_file),
            "IPYTHONDIR": str(self.ipython_dir),
            JOURNAL_ENV: str(self.errors_dir),
        }
        self.launch(self.command(), environment, self.registry.folder / "voila.log")
