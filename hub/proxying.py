"""Forwarding HTTP requests and websockets from a hub service to a server behind it.

Used by the gateway's front door (Dask dashboards) and by the dashboards service (Voila): the
service authenticates the browser with the hub and checks access, then relays the request, or
both directions of a websocket, to the upstream server on loopback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlparse

from tornado import httpclient, web, websocket
from tornado.httputil import HTTPHeaders

__all__ = ["HOP_BY_HOP", "forwardable", "ProxyMixin"]

log = logging.getLogger("dte.proxying")

#: what a connection to a server dying at that moment ends with
RESETS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

# Hop-by-hop headers are about one connection and must not be forwarded (RFC 9110 §7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def forwardable(headers: HTTPHeaders, drop_cookie: bool, drop: tuple[str, ...] = ()) -> HTTPHeaders:
    """The request headers to pass upstream: no hop-by-hop ones, no websocket handshake (each
    leg negotiates its own), no cookies if ``drop_cookie``, none named in ``drop``."""
    dropped = {name.lower() for name in drop}
    kept = HTTPHeaders()
    for name, value in headers.get_all():
        lowered = name.lower()
        if lowered in HOP_BY_HOP or (drop_cookie and lowered == "cookie") or lowered in dropped:
            continue
        if lowered.startswith("sec-websocket-"):
            continue
        kept.add(name, value)
    return kept


class ProxyMixin:
    """Relays this request (``forward_http``) or this websocket (``open`` and the handlers
    below) to ``self.upstream`` at the same path. Subclasses set ``upstream`` and may extend
    ``upstream_headers`` (authentication for the upstream, who the viewer is)."""

    upstream: str
    upstream_ws = None
    #: what the upstream is, in the 503 sentence
    upstream_name = "the server"
    #: how long a request waits for an upstream that is starting (``upstream_starting``)
    upstream_start_wait_s = 0.0

    def upstream_headers(self) -> HTTPHeaders:
        return forwardable(self.request.headers, drop_cookie=True)

    def cache_policy(self) -> str | None:
        """The ``Cache-Control`` of a successful answer, instead of the upstream's (None: keep
        the upstream's)."""
        return None

    def upstream_answered(self, response) -> None:
        """Called with the upstream's answer before it is relayed (to learn from it)."""

    def upstream_starting(self) -> bool:
        """Whether an upstream that does not answer yet is on its way (its process runs): the
        request then waits for it, up to ``upstream_start_wait_s``, rather than failing."""
        return False

    async def forward_http(self):
        body = self.request.body if self.request.method not in ("GET", "HEAD") else None
        request = httpclient.HTTPRequest(
            self.upstream + self.request.uri,
            method=self.request.method,
            headers=self.upstream_headers(),
            body=body,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            request_timeout=300,
            decompress_response=False,
        )
        # Only a read is asked again (RFC 9110 §9.2.2: safe to repeat), while the upstream is
        # starting: whenever it refused the connection (it never saw the request), and after
        # one reset (or a broken pipe, the reset seen while writing). A server killed a moment
        # ago resets: its listening socket lives on until the last of its threads has exited
        # (measured: one page in ten, right after a kill). A second reset is a server that
        # dies of the request: not asked again.
        waits = self.upstream_start_wait_s if self.request.method in ("GET", "HEAD") else 0
        deadline = time.monotonic() + waits
        resets = 0
        while True:
            try:
                response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
                break
            except (ConnectionRefusedError, *RESETS) as error:
                resets += isinstance(error, RESETS)
                if not (resets < 2 and time.monotonic() < deadline and self.upstream_starting()):
                    log.warning("%s %s: %r", self.upstream_name, self.request.path, error)
                    response = None
                    break
                await asyncio.sleep(0.5)  # a server starting (after a restart) binds its port soon
            except (OSError, httpclient.HTTPClientError) as error:  # closed, timed out
                log.warning("%s %s: %r", self.upstream_name, self.request.path, error)
                response = None
                break
        if response is None or response.code == 599:
            raise web.HTTPError(503, f"{self.upstream_name} is not reachable; try again shortly")
        self.upstream_answered(response)
        self.set_status(response.code, response.reason)
        self._headers = HTTPHeaders()  # drop tornado's defaults; the upstream's are the answer
        for name, value in response.headers.get_all():
            # the upstream's cookies are credentials for it, not for the browser
            if name.lower() not in HOP_BY_HOP and name.lower() != "set-cookie":
                self.add_header(name, value)
        if response.code in (200, 304) and (policy := self.cache_policy()):
            self.set_header("Cache-Control", policy)
        if response.body and self.request.method != "HEAD":
            self.write(response.body)
        self.finish()

    # --- websocket: relay both ways between the browser and the upstream -----------------------
    def select_subprotocol(self, subprotocols):
        # Answer with the first one the browser offered (Bokeh's "bokeh", Jupyter's
        # "v1.kernel.websocket.jupyter.org"); the upstream gets the same list (see open).
        return subprotocols[0] if subprotocols else None

    async def open(self, *args):
        target = urlparse(self.upstream)._replace(scheme="ws").geturl() + self.request.uri
        requested = self.request.headers.get("Sec-WebSocket-Protocol", "")
        subprotocols = [p.strip() for p in requested.split(",") if p.strip()] or None
        try:
            self.upstream_ws = await websocket.websocket_connect(
                httpclient.HTTPRequest(target, headers=self.upstream_headers()),
                on_message_callback=self._from_upstream,
                subprotocols=subprotocols,
            )
        except (OSError, websocket.WebSocketError, httpclient.HTTPClientError) as e:
            log.warning("websocket to %s unreachable: %s", target, e)
            self.close(1011, f"{self.upstream_name} is not reachable")
            return
        if self.ws_connection is None:  # the browser left while we were connecting
            self.upstream_ws.close()
            self.upstream_ws = None

    def _from_upstream(self, message):
        if message is None:
            if self.ws_connection is not None:
                self.close()
            return
        if self.ws_connection is not None:
            self.write_message(message, binary=isinstance(message, bytes))

    async def on_message(self, message):
        if self.upstream_ws is not None:
            await self.upstream_ws.write_message(message, binary=isinstance(message, bytes))

    def on_close(self):
        if self.upstream_ws is not None:
            self.upstream_ws.close()
            self.upstream_ws = None

    def check_origin(self, origin):
        # Same-origin only: the page was served by this hub.
        return urlparse(origin).netloc == self.request.headers.get("Host")
