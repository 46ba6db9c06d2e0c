"""Errors of published dashboards, kept for their owners.

Viewers never see a traceback (Voila strips them). The owner still needs to know what broke:
each dashboard kernel records every traceback it would have shown (a failing cell, a widget
callback that raised) in the journal of its dashboard, ``<folder>/<dashboard>.jsonl``, one JSON
object per line: when, whose view, the error and its traceback. The service serves it to the
owner and admins only (``GET /api/dashboards/<name>/errors``) and deletes it with the dashboard.

The kernels install the recorder at start (``kernel_startup``); a kernel knows its dashboard
from its working folder, ``notebooks/<name>/``, where Voila starts it.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

__all__ = ["journal_folder", "install", "record", "recent", "forget", "JOURNAL_ENV"]

#: the folder of the journals, in the kernels' environment
JOURNAL_ENV = "DTE_DASHBOARD_ERRORS"
#: a journal past this size keeps its newer half
MAX_JOURNAL_BYTES = 1024**2


def journal_folder(dashboards_dir: Path) -> Path:
    """Where the journals of a platform's dashboards are kept."""
    return Path(dashboards_dir) / "errors"


def install() -> None:
    """In a dashboard kernel: record each traceback IPython is about to show."""
    from IPython import get_ipython

    shell = get_ipython()
    folder = os.environ.get(JOURNAL_ENV)
    if shell is None or not folder:
        return
    dashboard = Path.cwd().name
    show = shell.showtraceback

    def showtraceback(exc_tuple=None, *args, **kwargs):
        try:
            error_type, error, trace = exc_tuple or shell._get_exc_info()
            record(Path(folder), dashboard, error_type, error, trace)
        except Exception:  # a journal that cannot be written must not hide the error itself
            pass
        return show(exc_tuple, *args, **kwargs)

    shell.showtraceback = showtraceback


def record(folder: Path, dashboard: str, error_type, error, trace, viewer=None) -> None:
    """Append an error of ``dashboard`` (its viewer: ``viewer``, else the kernel's)."""
    entry = {
        "time": time.time(),
        "viewer": viewer if viewer is not None else os.environ.get("HTTP_X_DTE_USER", ""),
        "error": "".join(traceback.format_exception_only(error_type, error)).strip(),
        "traceback": "".join(traceback.format_exception(error_type, error, trace)),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dashboard}.jsonl"
    # Each entry starts a line of its own, so one cut short (a full disk) spoils only itself;
    # one write on an O_APPEND file: entries of kernels writing at once do not interleave.
    line = ("\n" + json.dumps(entry)).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
    if path.stat().st_size > MAX_JOURNAL_BYTES:
        _keep_newer_half(path)


def _keep_newer_half(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    kept = path.with_suffix(".kept")
    kept.write_bytes(b"".join(lines[len(lines) // 2 :]))
    kept.replace(path)


def recent(folder: Path, dashboard: str, limit: int = 50) -> list[dict]:
    """The last ``limit`` errors of a dashboard, newest first."""
    path = Path(folder) / f"{dashboard}.jsonl"
    if not path.is_file():
        return []
    entries = []
    for line in reversed(path.read_text().splitlines()):
        if not line:
            continue
        try:
            entries.append(json.loads(line))
        except ValueError:  # a line cut by a full disk: skip it, keep the rest
            continue
        if len(entries) == limit:
            break
    return entries


def forget(folder: Path, dashboard: str) -> None:
    """Delete a dashboard's journal (it is unpublished; a new owner of the name starts clean)."""
    (Path(folder) / f"{dashboard}.jsonl").unlink(missing_ok=True)
