"""Addresses and accounts that several processes of one platform must agree on.

``jupyterhub_config.py``, the dask-gateway config and the gateway front door all derive them
from the same settings and the same run's ports, through these functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hub.settings import Settings
from hub.state import Runtime

__all__ = [
    "GatewayURLs",
    "gateway_urls",
    "live_url",
    "dashboards_url",
    "service_account",
    "GATEWAY_PREFIX",
    "LIVE_PREFIX",
    "DASHBOARDS_ACCOUNT",
    "DASHBOARDS_PREFIX",
    "dashboards_account",
]

# Where the gateway lives on the public proxy: the route JupyterHub gives the "dask-gateway"
# service, so the gateway's own proxy serves under the same prefix.
GATEWAY_PREFIX = "/services/dask-gateway"
# Where the live feeds are served (the route JupyterHub gives the "live" service).
LIVE_PREFIX = "/services/live"
DASHBOARDS_PREFIX = "/services/dashboards"
#: who the dashboards' kernels are at the gateway (a hub service, as dask-gateway names it)
DASHBOARDS_COMPUTE_USER = "service:dashboards-compute"
# The account the dashboards service, Voila and the dashboards' kernels run as when the hub runs
# as root: published code must run neither as root nor as the account of user servers (which
# could then rewrite the registry of who may open what).
DASHBOARDS_ACCOUNT = "dte-dashboards"


@dataclass(frozen=True)
class GatewayURLs:
    address: str  # REST API as user servers reach it (through the public proxy)
    public_address: str  # what a browser uses for dashboard links (relative to the hub)
    proxy_address: str  # the gateway's TCP proxy for scheduler connections
    internal_api: str  # the gateway proxy's REST API on loopback (the hub's own calls)
    upstream: str  # the gateway proxy's HTTP root on loopback (the front door's target)

    def client_environment(self) -> dict[str, str]:
        """What ``dask_gateway.Gateway()`` reads to reach this gateway with a hub token."""
        return {
            "DASK_GATEWAY__ADDRESS": self.address,
            "DASK_GATEWAY__PUBLIC_ADDRESS": self.public_address,
            "DASK_GATEWAY__PROXY_ADDRESS": self.proxy_address,
            "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
        }


def _connect_ip(settings: Settings) -> str:
    ip = settings.hub.ip
    # A wildcard bind is not an address to connect to; loopback always reaches it.
    return "127.0.0.1" if ip in ("", "0.0.0.0", "::") else ip


def gateway_urls(settings: Settings, runtime: Runtime) -> GatewayURLs:
    connect_ip = _connect_ip(settings)
    upstream = f"http://127.0.0.1:{runtime.gateway_http_port}"
    return GatewayURLs(
        address=f"http://{connect_ip}:{settings.hub.port}{GATEWAY_PREFIX}",
        public_address=GATEWAY_PREFIX,
        proxy_address=f"gateway://127.0.0.1:{runtime.gateway_tcp_port}",
        internal_api=f"{upstream}{GATEWAY_PREFIX}/api/v1",
        upstream=upstream,
    )


def live_url(settings: Settings) -> str:
    """The live feeds as user servers reach them: through the public proxy, as browsers do."""
    return f"http://{_connect_ip(settings)}:{settings.hub.port}{LIVE_PREFIX}"


def dashboards_url(settings: Settings) -> str:
    """The dashboards service as user servers reach it (``dte publish`` in a terminal)."""
    return f"http://{_connect_ip(settings)}:{settings.hub.port}{DASHBOARDS_PREFIX}/"


def dashboards_account() -> str:
    """The account of the dashboards service when the hub runs as root, else "" (its own)."""
    return DASHBOARDS_ACCOUNT if os.geteuid() == 0 else ""


def service_account(settings: Settings) -> str:
    """The unprivileged account that runs user code in single-user mode, or "" for the hub's own.

    Only a hub started as root switches accounts; as a normal account it cannot, and needs not.
    """
    if settings.hub.mode == "single-user" and os.geteuid() == 0:
        return settings.hub.run_as
    return ""
