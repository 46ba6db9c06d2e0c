"""Voila behind the dashboards service: one Voila server on loopback, with preheated kernels.

Voila runs as its own tornado server (not a Jupyter server extension, which would expose the
whole kernel API and has no preheating) over the registry's notebook folder, under the
service's prefix so paths pass through unchanged. It answers only requests that carry its
token, which the service adds after checking the viewer's hub login and groups.

- Preheating: a pool of kernels per current dashboard version, kept by ``voila_kernels``: a
  dashboard published later is preheated within seconds, a replaced version's idle kernels are
  shut down, preheats take turns and refills wait for a quiet machine so that they do not slow
  the viewers' pages; sessions on an old version keep their kernel.
- Caching: Voila's base URL carries ``assets_key``, a digest of the packages whose files its
  pages load and of those files, so the service can let browsers keep them for a year
  (``immutable``): an upgrade changes every address.
- Security: the kernels run with a clean environment (no token of the hub or the service; only
  the ``dashboards-compute`` token, which reaches the gateway and nothing else); Voila's own
  message allowlist keeps browsers from executing code; tracebacks are hidden from viewers and
  kept for the dashboard's owner (``error_journal``); templates and themes cannot be switched
  by the URL; notebooks and Python files are never served as files.
- Who is looking: the service sets ``X-DTE-User`` (dropping any the browser sent), which Voila
  hands to the kernel as ``HTTP_X_DTE_USER`` after ``voila.utils.wait_for_request()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sys
from importlib import metadata
from pathlib import Path

from jupyter_core.paths import jupyter_path

from dte_widgets.voila_viewer import VIEWER_HEADER
from hub.dashboards.child_server import ChildServer
from hub.dashboards.error_journal import JOURNAL_ENV, journal_folder
from hub.dashboards.kernel_startup import install_startup
from hub.dashboards.registry import DashboardRegistry
from hub.dashboards.voila_kernels import DashboardKernelManager

__all__ = ["VoilaServer", "VIEWER_HEADER", "assets_key"]

#: the packages whose files Voila's pages load (its bundles, JupyterLab's themes, nbconvert's
#: styles, the widget managers)
ASSET_PACKAGES = (
    "voila",
    "jupyterlab",
    "jupyterlab_server",
    "jupyter_server",
    "nbconvert",
    "ipywidgets",
    "jupyterlab_widgets",
)
#: how long a cell's outputs may trail its reply when the machine is busy
IOPUB_TIMEOUT_S = 120
#: seconds between a pool kernel being taken and its replacement starting
REFILL_DELAY_S = 5


def assets_key() -> str:
    """A short digest of what Voila's pages load besides the page itself: the versions of the
    packages that serve it, and the name, size and time of every file in Voila's templates and
    the lab extensions. An upgrade or a changed template gives another key."""
    digest = hashlib.sha256()
    for package in ASSET_PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} absent\n".encode())
    for folder in (*jupyter_path("voila", "templates"), *jupyter_path("labextensions")):
        for file in sorted(Path(folder).rglob("*")):
            with contextlib.suppress(OSError):
                status = file.stat()
                digest.update(f"{file} {status.st_size} {status.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


class VoilaServer(ChildServer):
    """The Voila process of the dashboards service."""

    log_name = "voila.log"

    def __init__(
        self,
        registry: DashboardRegistry,
        port: int,
        prefix: str,
        environment=None,
        pool_size: int = 1,
        pools: dict[str, int] | None = None,
        pools_options: dict | None = None,
    ):
        super().__init__(registry, port, environment)
        self.pool_size, self.pools = pool_size, pools or {}
        #: more settings of the pools (``DashboardKernelManager``'s traits, by name)
        self.pools_options = pools_options or {}
        self.prefix = prefix.rstrip("/")
        self.find_assets_key()
        self.token = secrets.token_hex(24)

    def find_assets_key(self) -> None:
        """Set ``assets_key`` and the base URL carrying it (again at each restart: one after an
        upgrade serves the new files under a new address)."""
        self.assets_key = assets_key()
        self.base_url = f"{self.prefix}/voila/{self.assets_key}/"

    @property
    def errors_dir(self) -> Path:
        """The error journals of the dashboards (``error_journal``)."""
        return journal_folder(self.registry.folder)

    @property
    def ipython_dir(self) -> Path:
        return self.registry.folder / "ipython"

    def command(self) -> list[str]:
        root = self.registry.folder / "notebooks"
        preheating = self.pool_size > 0 or any(size > 0 for size in self.pools.values())
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
            # the pools follow the registry (voila_kernels): Voila's own fill at start, of
            # every notebook in the folder, old versions too, is switched off
            f"--VoilaConfiguration.multi_kernel_manager_class={DashboardKernelManager.__module__}"
            f".{DashboardKernelManager.__name__}",
            f"--DashboardKernelManager.registry_folder={self.registry.folder}",
            f"--DashboardKernelManager.pool_size={self.pool_size}",
            # key=value, once per dashboard (traitlets deprecates a dict given as JSON)
            *(f"--DashboardKernelManager.pools={slug}={size}" for slug, size in self.pools.items()),
            *(
                f"--DashboardKernelManager.{name}={value}"
                for name, value in self.pools_options.items()
            ),
            "--VoilaKernelManager.preheat_denylist=['.*']",
            # a burst of viewers empties the pool; the refills (taking turns, waiting for a
            # quiet machine: voila_kernels) begin once the burst's pages have, and a viewer
            # arriving meanwhile gets a kernel started on demand
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
        if self.process is not None:  # started again, perhaps after an upgrade
            self.find_assets_key()
        token_file = self.registry.folder / "voila-token"
        descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(self.token)
        install_startup(self.ipython_dir)
        self.launch(
            self.command(),
            {
                "JUPYTER_TOKEN_FILE": str(token_file),
                "IPYTHONDIR": str(self.ipython_dir),
                JOURNAL_ENV: str(self.errors_dir),
            },
        )
