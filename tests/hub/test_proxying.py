"""Relaying to a server behind a service (``hub.proxying``): an upstream that is starting is
waited for, as is one that was just killed (it resets a connection); one that is not there is
a 503 at once."""

import asyncio
import contextlib
import socket
import struct
import threading
import time

from tornado import httpclient, web

from hub.proxying import ProxyMixin
from tests.hub.platform import free_port


class Hello(web.RequestHandler):
    def get(self):
        self.write("hello from upstream")


def relay_to(upstream_port: int, starting: bool, wait_s: float):
    class Relay(ProxyMixin, web.RequestHandler):
        upstream = f"http://127.0.0.1:{upstream_port}"
        upstream_start_wait_s = wait_s

        def upstream_starting(self) -> bool:
            return starting

        async def get(self):
            await self.forward_http()

    return web.Application([(r"/.*", Relay)])


class DyingUpstream:
    """Holds the upstream's port and resets the first ``resets`` connections, as a server
    killed a moment ago does (its listening socket outlives it briefly), then lets go of the
    port; ``reset_count`` says how many came."""

    def __init__(self, port: int, resets: int):
        self.listener = socket.create_server(("127.0.0.1", port))
        self.reset_count, self.resets = 0, resets
        self.thread = threading.Thread(target=self._reset_connections, daemon=True)
        self.thread.start()

    def _reset_connections(self):
        with self.listener:
            while self.reset_count < self.resets:
                try:
                    connection, _ = self.listener.accept()
                except OSError:  # closed by close()
                    return
                # no lingering: close() sends a reset, not an orderly end
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
                self.reset_count += 1

    def close(self):
        with contextlib.suppress(OSError):  # wakes the accept() (close alone does not)
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(10)


async def fetch_through_relay(
    starting: bool,
    upstream_starts_after_s: float | None,
    wait_s: float = 30.0,
    upstream_port: int | None = None,
):
    upstream_port, relay_port = upstream_port or free_port(), free_port()
    relay = relay_to(upstream_port, starting, wait_s).listen(relay_port, "127.0.0.1")
    upstream = []
    if upstream_starts_after_s is not None:

        def start_upstream():
            upstream.append(web.Application([(r"/.*", Hello)]).listen(upstream_port, "127.0.0.1"))

        asyncio.get_running_loop().call_later(upstream_starts_after_s, start_upstream)
    try:
        started = time.monotonic()
        answer = await httpclient.AsyncHTTPClient().fetch(
            f"http://127.0.0.1:{relay_port}/page", raise_error=False, request_timeout=60
        )
        return answer, time.monotonic() - started
    finally:
        relay.stop()
        for server in upstream:
            server.stop()


def test_a_request_waits_for_an_upstream_that_is_starting():
    answer, _ = asyncio.run(fetch_through_relay(starting=True, upstream_starts_after_s=1.5))
    assert answer.code == 200 and answer.body == b"hello from upstream"


def test_an_upstream_that_is_not_running_is_a_503_at_once():
    """No process on its way (it died; the service starts it again): no wait for it."""
    answer, took = asyncio.run(fetch_through_relay(starting=False, upstream_starts_after_s=None))
    assert answer.code == 503
    assert took < 20  # not the 30 s an upstream that is starting is waited for


def test_an_upstream_that_never_comes_is_a_503_after_the_wait():
    answer, _ = asyncio.run(
        fetch_through_relay(starting=True, upstream_starts_after_s=None, wait_s=1.0)
    )
    assert answer.code == 503


def test_a_request_waits_for_an_upstream_killed_a_moment_ago():
    """The upstream's process was killed as the request came: the connection is reset, then
    refused until the upstream is back."""
    port = free_port()
    dying = DyingUpstream(port, resets=1)
    try:
        answer, _ = asyncio.run(
            fetch_through_relay(starting=True, upstream_starts_after_s=1.5, upstream_port=port)
        )
    finally:
        dying.close()
    assert dying.reset_count == 1
    assert answer.code == 200 and answer.body == b"hello from upstream"


def test_an_upstream_that_resets_again_is_a_503():
    """A server that dies of the request each time it is back is not asked a third time."""
    port = free_port()
    dying = DyingUpstream(port, resets=3)
    try:
        answer, _ = asyncio.run(
            fetch_through_relay(starting=True, upstream_starts_after_s=None, upstream_port=port)
        )
    finally:
        dying.close()
    assert answer.code == 503 and dying.reset_count == 2
