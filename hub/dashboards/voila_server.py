"""Voila behind the dashboards service: one Voila server on loopback, with preheated kernels.

Voila runs as its own tornado server (not a Jupyter server extension, which would expose the
whole kernel API and has no preheating) over the registry's notebook folder, under the
service's prefix so paths pass through unchanged. It answers only requests that carry its
token, which the service adds after checking the viewer's hub login and groups.

- Preheating: a pool of kernels per current dashboard version, filled at start. Dashboards
  published later (new versions are new paths) are served by a kernel started on demand until
  the service restarts; sessions on an old version keep their kernel.
- Security: the kernels run with a clean environment (no hub or service tokens); Voila's own
  message allowlist keeps browsers from executing code; tracebacks are hidden from viewers (the
  service log has them); templates and themes cannot be switched by the URL; notebooks and
  Python files are never served as files.
- Who is looking: the service sets ``X-DTE-User`` (dropping any the browser sent), which Voila
  hands to the kernel as ``HTTP_X_DTE_USER`` after ``voila.utils.wait_for_request()``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from hub.dashboards.registry import DashboardRegistry

__all__ = ["VoilaServer", "VIEWER_HEADER"]

VIEWER_HEADER = "X-DTE-User"
#: environment variables a dashboard kernel may see (nothing that grants access elsewhere)
_KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "DTE_INSTANCE", "DTE_STATE")


class VoilaServer:
    """The Voila process of the dashboards service."""

    def __init__(
        self,
        registry: DashboardRegistry,
        port: int,
        prefix: str,
        environment=None,
        pool_size: int = 1,
    ):
        self.registry, self.port, self.pool_size = registry, port, pool_size
        self.base_url = prefix.rstrip("/") + "/voila/"
        self.token = secrets.token_hex(24)
        self.environment = environment or {}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        root = self.registry.folder / "notebooks"
        current = {
            str(self.registry.notebook_path(d).relative_to(root)) for d in self.registry.all()
        }
        older = sorted(
            str(path.relative_to(root))
            for path in root.glob("*/v*.ipynb")
            if str(path.relative_to(root)) not in current
        )
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
            f"--preheat_kernel={self.pool_size > 0}",
            f"--pool_size={self.pool_size}",
            f"--VoilaKernelManager.preheat_denylist={older!r}",
            "--template=dte",
            "--VoilaConfiguration.allow_template_override=NO",
            "--VoilaConfiguration.allow_theme_override=NO",
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
        environment = {k: os.environ[k] for k in _KEPT_ENVIRONMENT if k in os.environ}
        environment.update(self.environment, JUPYTER_TOKEN_FILE=str(token_file))
        with open(self.registry.folder / "voila.log", "ab") as log:
            self.process = subprocess.Popen(
                self.command(), env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
