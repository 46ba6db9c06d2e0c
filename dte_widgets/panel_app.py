"""Serve DTE widgets as a ``panel serve`` app that loads nothing from outside the platform.

Panel shows ipywidgets through ipywidgets_bokeh. Two of its stylesheets would come from CDNs:
Panel's ``extension("ipywidgets")`` adds Font Awesome from cdn.holoviz.org, and
``panel.io.ipywidget`` points the IPyWidget model's stylesheet at cdnjs.cloudflare.com. Both
are replaced by the copy Panel itself serves under ``/static/extensions/panel/``, which holds
the icons ipywidgets buttons use (``fa-play``, ...).

In an app file or a notebook::

    from dte_widgets import TwinDashboard
    from dte_widgets.panel_app import servable
    servable(TwinDashboard(FloodTwin()), title="Flood early warning")

Outside ``panel serve`` (JupyterLab, Voila) ``servable`` does nothing, so one notebook is a
notebook, a Voila dashboard and a Panel app without loading Panel where it is not needed.
"""

from __future__ import annotations

import sys

__all__ = ["servable", "served_by_panel", "LOCAL_ICONS"]

#: how often a page is made again when another session's widget broke the making
RACE_RETRIES = 10
#: Font Awesome as Panel serves it (``panel serve`` maps /static/extensions/panel to its dist)
LOCAL_ICONS = "static/extensions/panel/bundled/font-awesome/css/all.min.css"


def keep_resources_local() -> None:
    """Point the ipywidgets stylesheets at Panel's local copy (idempotent)."""
    import panel.io.ipywidget  # noqa: F401  (sets the CDN stylesheet replaced here)
    from ipywidgets_bokeh.widget import IPyWidget

    IPyWidget.__css__ = [LOCAL_ICONS]


def served_by_panel() -> bool:
    """Whether this code runs as an app of ``panel serve`` (a Bokeh server session)."""
    if "panel" not in sys.modules:  # panel serve has imported it before running the app
        return False
    from panel.io.state import state

    return state.curdoc is not None and state.curdoc.session_context is not None


def servable(widget, title: str = "DTE Hub"):
    """Mark an ipywidget (a ``TwinDashboard``, any DTE widget) as the app of ``panel serve``;
    elsewhere, return it unchanged."""
    if not served_by_panel():
        return widget
    import panel as pn

    keep_resources_local()
    # not extension("ipywidgets"): that adds Font Awesome from the CDN; the pane loads
    # ipywidgets_bokeh by itself
    pn.extension()
    pane = pn.panel(widget)
    # Panel's ipywidgets pane walks every ipywidget of the process while making the page;
    # another session's thread making a widget meanwhile breaks the walk (measured: 1 to 3 of
    # 20 viewers at once got an error page). Nothing was added to the page yet: walk again.
    for _ in range(RACE_RETRIES - 1):
        try:
            return pane.servable(title=title)
        except RuntimeError as error:
            if "changed size during iteration" not in str(error):
                raise
    return pane.servable(title=title)
