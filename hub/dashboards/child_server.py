"""A server the dashboards service runs as a child process (Voila, ``panel serve``): stopped
with the service, started again if it dies meanwhile."""

from __future__ import annotations

import logging
import subprocess

__all__ = ["ChildServer"]

log = logging.getLogger("dte.dashboards")


class ChildServer:
    """Subclasses define ``start()``, which sets ``self.process``."""

    process: subprocess.Popen | None = None

    def start(self) -> None:
        raise NotImplementedError

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
