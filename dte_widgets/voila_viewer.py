"""Who is looking at a dashboard served by DTE Hub's dashboards service.

The service tells Voila and Panel the viewer's hub name in a header (``X-DTE-User``, set by the
service and never taken from the browser). Runs are then recorded under the viewer's name and
the run history shows the viewer's own runs. Outside a dashboard nothing changes.

- Voila hands the header to the kernel as ``HTTP_X_DTE_USER``. A preheated kernel ran the
  notebook before anyone asked for it, so it learns the viewer only when a request arrives
  (``voila.utils.wait_for_request``): call ``attribute_runs_to_viewer()`` in the notebook's
  last cell. One kernel serves one viewer: the process's ``DTE_RUN_USER`` says who.
- ``panel serve`` runs every session in one process: the viewer comes from the session's own
  request headers (``pn.state.headers``, signed into the session by the server), and the
  widgets made in the session take it (``session_viewer``), not the process. Their ensembles
  go to a gateway cluster of the session's own (``dte_twins.compute.current_session``).
"""

from __future__ import annotations

import os

__all__ = ["attribute_runs_to_viewer", "panel_viewer", "session_viewer", "VIEWER_HEADER"]

#: tries to reach Voila for the request of a preheated kernel
CONNECT_ATTEMPTS = 5
#: the header in which the dashboards service names the viewer
VIEWER_HEADER = "X-DTE-User"


def attribute_runs_to_viewer() -> str:
    """Record this Voila kernel's runs under the dashboard viewer's name; the name ("" if
    none). Under ``panel serve`` the session's widgets already took its viewer."""
    from dte_widgets.panel_app import served_by_panel

    if served_by_panel():
        return panel_viewer()
    if "VOILA_KERNEL_ID" not in os.environ:
        return ""  # JupyterLab, nbval: the runs are the notebook owner's
    # A kernel Voila started for this request has the request in its environment already;
    # waiting for one there would block the page until Voila gives up (measured: 300 s).
    if os.environ.get("VOILA_PREHEAT") == "True":
        from voila.utils import wait_for_request

        # Voila gives up connecting after 5 s, and a preheating machine can be that busy:
        # without a retry, the viewer's runs would be recorded as the service account's.
        for _ in range(CONNECT_ATTEMPTS):
            if "HTTP_X_DTE_USER" in os.environ:
                break
            wait_for_request()
    viewer = os.environ.get("HTTP_X_DTE_USER", "")
    if viewer:
        os.environ["DTE_RUN_USER"] = viewer
    return viewer


def session_viewer() -> str | None:
    """The viewer of this ``panel serve`` session; None elsewhere (a kernel has one viewer,
    named by ``DTE_RUN_USER``). The twin dashboard and the run history made in a session take
    it, so the session's runs and history are its viewer's."""
    from dte_widgets.panel_app import served_by_panel

    return (panel_viewer() or None) if served_by_panel() else None


def panel_viewer() -> str:
    """The viewer of this ``panel serve`` session, from its request headers ("" if none)."""
    from panel.io.state import state

    headers = state.headers or {}
    return next((v for k, v in headers.items() if k.lower() == VIEWER_HEADER.lower()), "")
