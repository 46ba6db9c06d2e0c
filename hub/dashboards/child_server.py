"""A server the dashboards service runs as a child process (Voila, ``panel serve``): started on
loopback with a clean environment and its own log, stopped with the service, started again if
it dies meanwhile."""

from __future__ import annotations

import logging
import os
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.dashboards.registry import DashboardRegistry

__all__ = ["ChildServer"]

log = logging.getLogger("dte.dashboards")

#: environment variables the server (and the published code it runs) may see from the service:
#: nothing that grants access elsewhere
_KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "DTE_INSTANCE", "DTE_STATE")


class ChildServer:
    """A child server of the dashboards service over ``registry``'s folder, on loopback
    ``port``, with ``environment`` on top of the kept variables. Subclasses set ``log_name``
    (a file in the registry's folder) and define ``start()``, which calls ``launch``."""

    log_name: str
    process: subprocess.Popen | None = None
    #: whether the running process was asked to end
    ending = False

    def __init__(self, registry: DashboardRegistry, port: int, environment: dict | None = None):
        self.registry, self.port = registry, port
        self.environment = environment or {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        raise NotImplementedError

    def launch(self, command: list[str], environment: dict) -> None:
        """Run ``command`` with the kept variables, the server's environment and this start's
        ``environment`` only, appending its output to the server's log."""
        clean = {k: os.environ[k] for k in _KEPT_ENVIRONMENT if k in os.environ}
        with open(self.registry.folder / self.log_name, "ab") as log_output:
            self.process = subprocess.Popen(
                command,
                env={**clean, **self.environment, **environment},
                stdout=log_output,
                stderr=subprocess.STDOUT,
            )
        self.ending = False

    def restart_if_dead(self) -> bool:
        """Start the server again if its process ended (a crash, the OOM killer); whether it
        had to. Viewers of open pages reload; new ones never notice."""
        if self.process is None or self.process.poll() is None:
            return False
        log.error(
            "%s ended (exit status %s; its log: %s); starting it again",
            type(self).__name__,
            self.process.returncode,
            self.log_name,
        )
        self.start()
        return True

    def terminate(self) -> None:
        """Ask the server to end (once: a second signal could cut its own shutdown short);
        ``stop`` waits for it. Servers asked together end side by side."""
        if self.process is not None and self.process.poll() is None and not self.ending:
            self.process.terminate()
            self.ending = True

    def stop(self, timeout_s: float = 10) -> None:
        """Ask the server to end and wait for it (``timeout_s``, then it is killed)."""
        self.terminate()
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
