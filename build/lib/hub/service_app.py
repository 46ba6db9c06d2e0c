"""What every hub-managed web service of the platform shares: hub OAuth wiring and a cookie key
that survives restarts.

JupyterHub starts each managed service with ``JUPYTERHUB_API_TOKEN`` (stable: the platform
keeps it in the state folder), ``JUPYTERHUB_SERVICE_PREFIX`` and ``JUPYTERHUB_SERVICE_URL``.
Browsers log in to a service through the hub's OAuth (``HubOAuthenticated`` handlers); the
service's cookie key is derived from its API token, so logins outlive a restart of the service
and no other secret has to be kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join

__all__ = [
    "cookie_secret",
    "oauth_application_settings",
    "oauth_route",
    "service_address",
    "stop_event",
]


def cookie_secret(api_token: str, service: str) -> bytes:
    """A cookie key for ``service``, derived from its API token (stable across restarts)."""
    return hmac.new(api_token.encode(), f"dte-{service}-cookie".encode(), hashlib.sha256).digest()


def oauth_route(prefix: str) -> tuple:
    """The route the hub sends a browser back to after login."""
    return (url_path_join(prefix.rstrip("/"), "oauth_callback"), HubOAuthCallbackHandler)


def oauth_application_settings(prefix: str, service: str, api_token: str | None = None) -> dict:
    """``tornado.web.Application`` settings for hub OAuth logins to ``service``."""
    token = api_token or os.environ["JUPYTERHUB_API_TOKEN"]
    return {
        "cookie_secret": cookie_secret(token, service),
        # HubOAuthenticated replaces this with the hub's authorize URL; tornado needs one set
        "login_url": url_path_join(prefix.rstrip("/"), "oauth_callback"),
    }


def service_address() -> tuple[str, int]:
    """Where the hub expects this service to listen (``JUPYTERHUB_SERVICE_URL``)."""
    address = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    return address.hostname or "127.0.0.1", address.port or 80


def stop_event() -> asyncio.Event:
    """An event set when the hub stops the service (SIGTERM) or on Ctrl-C, so the service can
    finish its work and stop what it started."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
