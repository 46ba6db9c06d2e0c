"""The one Panel app of the dashboards service: a session runs the dashboard its URL names.

``panel serve`` runs this file once per browser session (``.../panel/dashboard?name=flood``). It
reads the dashboard's current version from the registry and runs the notebook's code cells in
a namespace of the session's own, so the notebook's ``servable(...)`` (``dte_widgets.
panel_app``) becomes the page: the same code as in JupyterLab and Voila. The service has
already checked that the viewer may open this dashboard; the session's request carries the
viewer's name (``X-DTE-User``), which the session's widgets take (``session_viewer``). A
republication is seen by the next session; a session keeps the version it started with. An
error is kept for the owner (``error_journal``) and the viewer reads a sentence without the
traceback. When the session ends, the widgets it made are closed (``dte_widgets.panel_app``).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import panel as pn

from dte_widgets.panel_app import close_widgets_when_session_ends
from dte_widgets.voila_viewer import panel_viewer
from hub.dashboards import error_journal
from hub.dashboards.panel_server import REGISTRY_ENV
from hub.dashboards.registry import DashboardRegistry

#: an IPython line magic (``%matplotlib inline``) or shell escape (``!ls``) at a line's start
_MAGIC_LINE = re.compile(r"\s*(%[A-Za-z]|!)")


def _code_of(cell_source: str) -> str:
    """A code cell as plain Python: IPython's line magics and shell escapes are left out, and a
    cell magic (``%%time``...) leaves out its cell (no IPython here, and a dashboard has no
    business running shell commands)."""
    if cell_source.lstrip().startswith("%%"):
        return ""
    return "\n".join(line for line in cell_source.splitlines() if not _MAGIC_LINE.match(line))


def _show_problem(text: str) -> None:
    pn.pane.Alert(text, alert_type="danger").servable(title="Dashboard unavailable")


def run_session() -> None:
    registry = DashboardRegistry(Path(os.environ[REGISTRY_ENV]))
    names = pn.state.session_args.get("name", [])
    # the service lets through a request naming one dashboard, which it checked
    dashboard = registry.get(names[0].decode(errors="replace")) if len(names) == 1 else None
    if dashboard is None:
        _show_problem("No such dashboard is published.")
        return
    # also for a notebook that shows its widgets without dte_widgets' servable
    close_widgets_when_session_ends()
    namespace = {"__name__": "__main__"}
    try:
        notebook = nbformat.read(registry.notebook_path(dashboard), as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                where = f"<{dashboard.slug} v{dashboard.version} cell {index + 1}>"
                exec(compile(_code_of(cell.source), where, "exec"), namespace)  # noqa: S102
    except Exception:
        error_journal.record(
            error_journal.journal_folder(registry.folder),
            dashboard.slug,
            *sys.exc_info(),
            viewer=panel_viewer(),
        )
        _show_problem(
            "This dashboard ran into an error. Its owner can read what went wrong; try again later."
        )


# ``panel serve`` runs this file as a module of its own per session (bokeh_app_<id>); an import
# from elsewhere runs nothing
if __name__.startswith("bokeh_app_"):
    run_session()
