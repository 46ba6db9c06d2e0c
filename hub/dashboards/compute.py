"""Where a dashboard's ensembles run: a dask-gateway cluster per viewer session.

Whose cluster, and why:

- The cluster belongs to the hub service ``dashboards-compute`` (at the gateway:
  ``service:dashboards-compute``), not to the viewer. A dashboard's kernel runs code its owner
  published; the viewer's own credentials never enter it, so a dashboard cannot act as its
  viewers anywhere. The token it holds may reach the gateway and nothing else.
- Each open dashboard page makes its own cluster at its first ensemble
  (``DTE_CLUSTER_PER_SESSION``, read by ``dte_twins.compute.find_client``). In Voila the page
  is a kernel, and the cluster is shut down when the kernel ends (the viewer leaves, or Voila
  culls the idle kernel). In ``panel serve`` the page is a session of the shared process
  (``dte_twins.compute.current_session``), and the cluster is shut down when the session
  ends.
- Per-viewer limits are the gateway's, whatever the dashboard's code asks for: one core per
  worker and at most ``[dashboards] viewer_max_workers`` workers (``dask_gateway_config``).
  Clusters idle longer than ``[compute] idle_timeout`` are stopped by the gateway.
"""

from __future__ import annotations

import os

__all__ = ["compute_environment"]


def compute_environment() -> dict[str, str]:
    """Environment of the dashboards' kernels for the gateway, from the service's own (set in
    ``jupyterhub_config``); empty without a gateway."""
    token = os.environ.get("DTE_DASHBOARDS_COMPUTE_TOKEN")
    if not (os.environ.get("DASK_GATEWAY__ADDRESS") and token):
        return {}
    # the gateway's address as jupyterhub_config gave it to the service (GatewayURLs)
    gateway = {k: v for k, v in os.environ.items() if k.startswith("DASK_GATEWAY__")}
    return {**gateway, "JUPYTERHUB_API_TOKEN": token, "DTE_CLUSTER_PER_SESSION": "1"}
