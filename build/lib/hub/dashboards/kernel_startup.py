"""What every dashboard kernel does first, through an IPython startup file: it records its
errors for the dashboard's owner (``error_journal``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["install_startup", "prepare"]

_STARTUP = (
    "# written by the DTE Hub dashboards service\n"
    "from hub.dashboards.kernel_startup import prepare\n\nprepare()\n"
)


def install_startup(ipython_dir: Path) -> None:
    """Make every kernel started with ``IPYTHONDIR=ipython_dir`` run ``prepare()`` first."""
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-dte-dashboard-kernel.py").write_text(_STARTUP)


def prepare() -> None:
    from hub.dashboards import error_journal

    error_journal.install()
