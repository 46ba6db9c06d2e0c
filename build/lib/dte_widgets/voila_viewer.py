"""Who is looking at a dashboard served by DTE Hub's dashboards service.

The service tells Voila the viewer's hub name in a header (``X-DTE-User``, set by the service
and never taken from the browser); Voila hands it to the kernel as ``HTTP_X_DTE_USER``. A
preheated kernel ran the notebook before anyone asked for it, so it learns the viewer only
when a request arrives (``voila.utils.wait_for_request``): call ``attribute_runs_to_viewer()``
in the notebook's last cell. Runs are then recorded under the viewer's name and the run
history shows the viewer's own runs. Outside a Voila dashboard it does nothing.
"""

from __future__ import annotations

import os

__all__ = ["attribute_runs_to_viewer"]

#: tries to reach Voila for the request of a preheated kernel
CONNECT_ATTEMPTS = 5


def attribute_runs_to_viewer() -> str:
    """Record this kernel's runs under the dashboard viewer's name; the name ("" if none)."""
    if "VOILA_KERNEL_ID" not in os.environ:
        return ""  # JupyterLab, panel serve, nbval: the runs are the notebook owner's
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
