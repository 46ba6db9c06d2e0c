"""Front door of the platform's dask-gateway: the hub-managed service ``dask-gateway``.

The public proxy routes ``/services/dask-gateway/`` here. This service

- passes the gateway's REST API (``…/api/…``) through unchanged: the gateway authenticates those
  requests itself, with the caller's JupyterHub token;
- serves Dask dashboards (``…/clusters/<name>/…``, HTTP and websockets) only to a logged-in hub
  user who may see that cluster. dask-gateway's own proxy serves dashboards to anyone who knows
  a cluster's name; here a browser must hold a hub login (OAuth), and the gateway itself is
  asked, with that user's token, whether the user may see the cluster (owner or admin);
- answers 404 for everything else.

Run as ``python -m hub.gateway_front`` by JupyterHub, which provides the ``JUPYTERHUB_*``
environment; the upstream address comes from the platform's settings and this run's ports.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthenticated
from tornado import httpclient, web, websocket

from hub.proxying import ProxyMixin
from hub.service_app import oauth_application_settings, oauth_route
from hub.settings import load_settings
from hub.state import StateFolder
from hub.wiring import GATEWAY_PREFIX, gateway_urls

log = logging.getLogger("dte.gateway_front")

# How long a "this user may see this cluster" answer is reused (seconds).
_ACCESS_CACHE_SECONDS = 30


class _ProxyMixin(ProxyMixin):
    upstream_name = "the Dask gateway"


class APIHandler(_ProxyMixin, web.RequestHandler):
    """The gateway REST API, passed through (the gateway checks the caller's token)."""

    def initialize(self, upstream):
        self.upstream = upstream

    def check_xsrf_cookie(self):
        # Token-authenticated API: the gateway never trusts cookies.
        pass

    async def get(self, path):
        await self.forward_http()

    post = put = delete = patch = head = get


class DashboardHandler(HubOAuthenticated, _ProxyMixin, websocket.WebSocketHandler):
    """A Dask dashboard, for a logged-in user who may see the cluster (Bokeh's websocket
    subprotocols ["bokeh", <session token>] are passed on by the relay)."""

    def initialize(self, upstream, api_url, access_cache):
        self.upstream = upstream
        self.api_url = api_url
        self.access_cache = access_cache
        self.upstream_ws = None

    def check_xsrf_cookie(self):
        # Dashboards only read; Bokeh's own requests carry no xsrf token.
        pass

    async def _check_access(self, cluster_name: str) -> None:
        user = self.current_user
        if user is None:
            raise web.HTTPError(403)
        key = (user["name"], cluster_name)
        expires = self.access_cache.get(key)
        if expires and expires > time.monotonic():
            return
        token = self.hub_auth.get_token(self)
        response = await httpclient.AsyncHTTPClient().fetch(
            f"{self.api_url}/clusters/{cluster_name}",
            headers={"Authorization": f"jupyterhub {token}"},
            raise_error=False,
        )
        if response.code == 200:
            now = time.monotonic()
            for stale in [k for k, until in self.access_cache.items() if until <= now]:
                del self.access_cache[stale]  # keep the cache as small as the live sessions
            self.access_cache[key] = now + _ACCESS_CACHE_SECONDS
            return
        if response.code == 404:
            raise web.HTTPError(404, f"no Dask cluster named {cluster_name}")
        raise web.HTTPError(403, f"{user['name']} may not see Dask cluster {cluster_name}")

    @web.authenticated
    async def get(self, cluster_name, rest):
        await self._check_access(cluster_name)
        if self.request.headers.get("Upgrade", "").lower() == "websocket":
            await super().get(cluster_name, rest)
        else:
            await self.forward_http()


def make_app() -> web.Application:
    settings = load_settings()
    runtime = StateFolder(settings.state_dir).read_runtime()
    urls = gateway_urls(settings, runtime)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", GATEWAY_PREFIX + "/").rstrip("/")
    access_cache: dict = {}
    return web.Application(
        [
            oauth_route(prefix),
            (prefix + r"/api/(.*)", APIHandler, {"upstream": urls.upstream}),
            (
                prefix + r"/clusters/([^/]+)(/.*)?",
                DashboardHandler,
                {
                    "upstream": urls.upstream,
                    "api_url": urls.internal_api,
                    "access_cache": access_cache,
                },
            ),
        ],
        # a stable cookie key: browser logins to Dask dashboards survive a restart
        **oauth_application_settings(prefix, "gateway-front"),
    )


async def serve() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    address = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app = make_app()
    app.listen(address.port, address.hostname)
    log.info("Gateway front door on %s", address.geturl())
    await asyncio.Event().wait()


def main() -> None:
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
