"""A server the dashboards service runs as a child process (Voila, ``panel serve``): started on
loopback with a clean environment and its own log, stopped with the service, started again if
it dies meanwhile."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

__all__ = ["ChildServer"]

log = logging.getLogger("dte.dashboards")

#: environment variables the server (and the published code it runs) may see from the service:
#: nothing that grants access elsewhere
_KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "DTE_INSTANCE", "DTE_STATE")


class ChildServer:
    """Subclasses set ``port`` and define ``start()``, which calls ``launch``."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        raise NotImplementedError

    def launch(self, command: list[str], environment: dict, log_file: Path) -> None:
        """Run ``command`` with the kept variables and ``environment`` only, appending its
        output to ``log_file``."""
        clean = {k: os.environ[k] for k in _KEPT_ENVIRONMENT if k in os.environ}
        with open(log_file, "ab") as log_output:
            self.process = subprocess.Popen(
                command, env={**clean, **environment}, stdout=log_output, stderr=subprocess.STDOUT
            )

    def restart_if_dead(self) -> bool:
        """Start the server again if its process ended (a crash, the OOM killer); whether it
        had to. Viewers of open pages reload; new ones never notice."""
        if self.process is None or self.process.poll() is None:
            return False
        log.error(
            "%s ended (exit status %s); starting it again",
            type(self).__name__,
            self.process.returncode,
        )
        self.start()
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
