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

One process serves many sessions, and an ipywidget lives until it is closed: ``servable``
closes every widget a session made when Bokeh ends the session (its page closed, or never
connected). Otherwise each session leaves its few hundred widgets behind (measured: 387 widgets
and 1.3 MB per drought session), with their uploaded files, clusters and runs under way, and
each new page walks all of them.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

__all__ = [
    "servable",
    "served_by_panel",
    "ui_thread_runner",
    "close_widgets_when_session_ends",
    "LOCAL_ICONS",
]

log = logging.getLogger(__name__)

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


def ui_thread_runner() -> Callable[[Callable[[], None]], None]:
    """How a background thread runs interface work (making widgets, changing them): call it
    where the widget is made (in the session), keep what it returns, call that from the thread.

    In a kernel (JupyterLab, Voila) widgets may be made and changed from any thread, and Voila's
    page asks for every widget's state when it connects. In a ``panel serve`` app neither holds:
    a widget made outside the session's document never reaches the page (measured: a run's
    views stayed blank), and what is sent before the page has connected is lost (measured: a
    compute control's options, answered by the gateway in the meantime, never showed). So the
    work is handed to the session's event loop, once the page has loaded.
    """
    if not served_by_panel():
        return lambda work: work()
    from panel.io.state import state

    document, page = state.curdoc, _PageLoad()
    state.onload(page.loaded)  # at once if the page has loaded already
    return lambda work: page.hold(work) or document.add_next_tick_callback(work)


class _PageLoad:
    """Work held until a Panel page has loaded, then run in order (on the event loop)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: list[Callable[[], None]] | None = []

    def hold(self, work: Callable[[], None]) -> bool:
        """Keep ``work`` for the page's load; False once it has loaded."""
        with self._lock:
            if self._held is None:
                return False
            self._held.append(work)
            return True

    def loaded(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
        for work in held:
            try:
                work()
            except Exception:  # the rest of the page's work still runs
                log.exception("interface work held for a Panel page failed")


def close_widgets_when_session_ends() -> None:
    """Close the ipywidgets of this ``panel serve`` session when it ends (idempotent)."""
    from panel.io.state import state

    # a set of callbacks: adding the same function again changes nothing
    state.curdoc.on_session_destroyed(_close_session_widgets)


def _close_session_widgets(session_context) -> None:
    """Bokeh's session-destroyed callback, on the server's event loop, after the session's
    document was taken apart. The widgets' comms cannot send anything then (nor is there a
    page to tell), so every widget of the session is first let go of its comm, and only then
    closed: a close may close others (a dashboard its result views), which must not try to
    send either. DTE widgets' closes return at once, leaving background work to their
    threads."""
    import comm
    from ipywidgets import Widget
    from ipywidgets.widgets.widget import _instances

    # Panel's ipywidgets bridge marks each widget made in a session with the session's
    # document (``_document``; Panel itself reads the session's document as below). A widget
    # made on another thread may be unmarked: the trees of the marked ones find it.
    document = session_context._document
    marked = [w for w in list(_instances.values()) if getattr(w, "_document", None) is document]
    session_widgets = _with_descendants(marked, Widget)
    comms = comm.get_comm_manager()  # holds every comm opened, and through it the widget
    for widget in session_widgets:
        widget_comm, widget.comm = widget.comm, None
        if widget_comm is None:
            continue
        _instances.pop(widget_comm.comm_id, None)
        widget_comm.on_msg(None)
        if comms is not None:
            comms.comms.pop(widget_comm.comm_id, None)  # unregister_comm: KeyError if absent
    for widget in session_widgets:
        try:
            widget.close()
        except Exception:  # one broken close must not keep the others open
            log.exception("closing %s of an ended session failed", type(widget).__name__)


def _with_descendants(roots: list, widget_class) -> list:
    """``roots`` and every widget their traits hold (children, layout, style...), each once,
    in the order found."""
    found: dict[int, object] = {}
    stack = list(reversed(roots))
    while stack:
        widget = stack.pop()
        if id(widget) in found:
            continue
        found[id(widget)] = widget
        for name in widget.keys:
            value = getattr(widget, name, None)
            values = value if isinstance(value, (list, tuple)) else (value,)
            stack.extend(v for v in values if isinstance(v, widget_class) and id(v) not in found)
    return list(found.values())


def servable(widget, title: str = "DTE Hub"):
    """Mark an ipywidget (a ``TwinDashboard``, any DTE widget) as the app of ``panel serve``;
    elsewhere, return it unchanged."""
    if not served_by_panel():
        return widget
    import panel as pn

    keep_resources_local()
    close_widgets_when_session_ends()
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
