"""The ``live`` service: plays the simulated physical twins and serves their observations.

Run by JupyterHub as the hub-managed service ``live`` (``python -m catalogs.live.service``),
which provides the ``JUPYTERHUB_*`` environment; the platform adds

- ``DTE_LIVE_ARCHIVE``: the archive's SQLite file (in the state folder);
- ``DTE_LIVE_TICK``: seconds between two observations of a feed (default 1);
- ``DTE_LIVE_RETENTION_DAYS``: how much history the archive keeps (default 1; 0: all).

Every tick, each feed advances one step; the tick's observations and the feeds' states are
committed to the archive, and only then published to the clients that follow the feeds (see
``archive`` for why no acknowledged observation is ever lost, across restarts too).

Endpoints, under ``JUPYTERHUB_SERVICE_PREFIX`` (``/services/live/``), all behind hub
authentication (a hub login through OAuth, or ``Authorization: token <token>`` with the scope
``access:services!service=live``). An anonymous browser is sent to the hub's login page; any
other anonymous or refused request gets 403.

``GET feeds``, ``GET feeds/<feed>``
    The feeds (or one) with their fields and units, tick, kind and last sequence number (JSON).
``GET feeds/<feed>/events``
    Server-sent events: ``id`` is the sequence number, ``data`` the observation as JSON (with
    ``recorded_at``, when it was archived). With ``Last-Event-ID`` (what ``EventSource`` sends
    when it reconnects) or ``?since=<seq>``, first replays the archive after that sequence
    number, then follows live; without, follows live only. A comment line every 15 s keeps
    idle connections open.
``GET feeds/<feed>/history?since=&until=&limit=``
    Archived observations with ``since < seq <= until``, oldest first, at most ``limit``
    (default 1000, at most 10000): ``{"feed", "observations", "last_seq", "more"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from jupyterhub.services.auth import HubOAuthenticated
from tornado import web
from tornado.iostream import StreamClosedError

from catalogs.live.archive import Archive, ArchiveError
from catalogs.live.feeds import FEEDS, Feed
from hub.service_app import (
    oauth_application_settings,
    oauth_route,
    service_address,
    stop_event,
)

__all__ = ["FeedPlayer", "make_app", "main"]

log = logging.getLogger("dte.live")

HEARTBEAT_SECONDS = 15.0
HISTORY_LIMIT = 1000  # observations per history answer unless asked
HISTORY_LIMIT_MAX = 10_000
REPLAY_PAGE = 500  # observations read from the archive at a time when replaying
SUBSCRIBER_QUEUE = 256  # observations buffered for a slow client before it replays instead
PRUNE_EVERY_TICKS = 600


class Subscription:
    """What one following client has yet to receive; a full queue drops (the client replays)."""

    def __init__(self, feed: str):
        self.feed = feed
        self.queue: asyncio.Queue = asyncio.Queue(SUBSCRIBER_QUEUE)

    def offer(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            pass  # the gap shows in the sequence numbers; the handler replays it from the archive


class FeedPlayer:
    """Advances the feeds every tick, archives each tick, then publishes it."""

    def __init__(
        self,
        archive: Archive,
        feeds: dict[str, Feed] | None = None,
        tick: float = 1.0,
        keep: int = 0,
    ):
        self.archive = archive
        self.feeds = dict(FEEDS if feeds is None else feeds)
        self.tick_seconds = tick
        self.keep = keep
        self.states = {name: self._resumed(name) for name in self.feeds}
        self.subscriptions: set[Subscription] = set()
        self.ticks = 0
        # One thread owns the writing connection: commits wait on the disk, not the event loop.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="live-archive")

    def _resumed(self, name: str) -> dict:
        saved = self.archive.saved_state(name)
        if saved is None:
            return self.feeds[name].initial_state()
        log.info("Feed %s resumes after observation %d", name, saved["seq"])
        return saved

    def last_seq(self, feed: str) -> int:
        """The newest archived (hence published or about to be) sequence number of ``feed``."""
        return self.states[feed]["seq"]

    def describe(self) -> list[dict]:
        return [
            {**feed.describe(), "tick_s": self.tick_seconds, "last_seq": self.last_seq(name)}
            for name, feed in self.feeds.items()
        ]

    # --- following ----------------------------------------------------------------------------
    def subscribe(self, feed: str) -> Subscription:
        subscription = Subscription(feed)
        self.subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)

    # --- playing ------------------------------------------------------------------------------
    async def step(self) -> bool:
        """One tick: advance, commit, publish. False (nothing published) if the commit failed."""
        advanced = [(name, *feed.advance(self.states[name])) for name, feed in self.feeds.items()]
        loop = asyncio.get_running_loop()
        try:
            records = await loop.run_in_executor(self._writer, self.archive.append, advanced)
        except (ArchiveError, sqlite3.Error, OSError) as error:
            # Not acknowledged, so not published. Start again from what the archive holds, so
            # the next tick makes the same observations again.
            log.error("Could not archive tick (%s); nothing published, retrying next tick", error)
            self.states = await loop.run_in_executor(
                self._writer, lambda: {name: self._resumed(name) for name in self.feeds}
            )
            return False
        for name, _, state in advanced:
            self.states[name] = state
        for feed, seq, text in records:
            for subscription in list(self.subscriptions):
                if subscription.feed == feed:
                    subscription.offer((seq, text))
        self.ticks += 1
        if self.keep and self.ticks % PRUNE_EVERY_TICKS == 0:
            await loop.run_in_executor(self._writer, self._prune)
        return True

    def _prune(self) -> None:
        for name in self.feeds:
            self.archive.prune(name, self.keep)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set, on a fixed schedule (late ticks are not made up)."""
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not stop.is_set():
            await self.step()
            next_at += self.tick_seconds
            delay = next_at - loop.time()
            if delay < 0:
                next_at, delay = loop.time(), 0
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass

    def close(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.offer(None)  # ends the stream; clients reconnect with Last-Event-ID
        self._writer.submit(self.archive.close).result()
        self._writer.shutdown()


# --- HTTP ---------------------------------------------------------------------------------------
def _read_history(path, feed, since, until, limit) -> list[tuple[int, str]]:
    # A connection of its own per read (in a worker thread): readers never wait for the writer.
    with Archive(path, readonly=True) as archive:
        return archive.history_text(feed, since, until, limit)


class LiveHandler(HubOAuthenticated, web.RequestHandler):
    """Common ground: hub authentication, JSON errors, the player and archive."""

    def initialize(self, player: FeedPlayer):
        self.player = player

    def get_login_url(self):
        # Only a browser that shows pages (or an EventSource, which follows redirects) is sent
        # to log in; an API client gets 403, and so does a refused token.
        accept = self.request.headers.get("Accept", "")
        wants_page = "text/html" in accept or "text/event-stream" in accept
        if "Authorization" in self.request.headers or not wants_page:
            raise web.HTTPError(403, "a hub login or a token with access to the live service")
        return super().get_login_url()

    def check_xsrf_cookie(self):
        pass  # every endpoint only reads

    def write_error(self, status_code, **kwargs):
        self.set_header("Content-Type", "application/json")
        exception = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exception, "log_message", None) or self._reason
        self.finish(json.dumps({"status": status_code, "message": message}))

    def feed(self, name: str) -> Feed:
        if name not in self.player.feeds:
            raise web.HTTPError(
                404, f"no live feed {name!r}; the feeds are {', '.join(sorted(self.player.feeds))}"
            )
        return self.player.feeds[name]

    def sequence_argument(self, name: str, default=None, minimum: int = 0):
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(400, f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise web.HTTPError(400, f"{name} must be at least {minimum}, not {value}")
        return value

    def write_json(self, payload) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


class FeedsHandler(LiveHandler):
    @web.authenticated
    def get(self, name=None):
        if name is None:
            self.write_json({"feeds": self.player.describe()})
            return
        self.feed(name)
        self.write_json(next(f for f in self.player.describe() if f["name"] == name))


class HistoryHandler(LiveHandler):
    @web.authenticated
    async def get(self, name):
        self.feed(name)
        since = self.sequence_argument("since", 0)
        until = self.sequence_argument("until")
        limit = min(self.sequence_argument("limit", HISTORY_LIMIT, minimum=1), HISTORY_LIMIT_MAX)
        rows = await asyncio.to_thread(
            _read_history, self.player.archive.path, name, since, until, limit + 1
        )
        more, rows = len(rows) > limit, rows[:limit]
        last = self.player.last_seq(name)
        self.set_header("Content-Type", "application/json")
        # The archived JSON texts go out as they are: no parse and dump per observation.
        self.finish(
            f'{{"feed":{json.dumps(name)},"last_seq":{last},"more":{json.dumps(more)},'
            f'"observations":[{",".join(text for _, text in rows)}]}}'
        )


class EventsHandler(LiveHandler):
    """Server-sent events: replay from the archive, then follow the live feed."""

    @web.authenticated
    async def get(self, name):
        self.feed(name)
        resume = self.request.headers.get("Last-Event-ID", "").strip()
        if resume:
            try:
                sent = max(0, int(resume))
            except ValueError:
                raise web.HTTPError(
                    400, f"Last-Event-ID must be a sequence number, not {resume!r}"
                ) from None
        else:
            sent = self.sequence_argument("since", self.player.last_seq(name))
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        # Subscribe before replaying: what is published meanwhile waits in the queue.
        subscription = self.player.subscribe(name)
        try:
            self.write(f"retry: 2000\n: following {name} after {sent}\n\n")
            await self.flush()
            sent = await self._replay(name, sent)
            while True:
                try:
                    item = await asyncio.wait_for(subscription.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    self.write(": keep-alive\n\n")
                    await self.flush()
                    continue
                if item is None:
                    break  # the service stops
                seq, text = item
                if seq <= sent:
                    continue
                if seq > sent + 1:  # the queue overflowed: fill the gap from the archive
                    sent = await self._replay(name, sent)
                    if seq <= sent:
                        continue
                await self._send(seq, text)
                sent = seq
        except StreamClosedError:
            pass  # the client went away
        finally:
            self.player.unsubscribe(subscription)
        if not self._finished:
            self.finish()

    async def _replay(self, name: str, sent: int) -> int:
        while True:
            rows = await asyncio.to_thread(
                _read_history, self.player.archive.path, name, sent, None, REPLAY_PAGE
            )
            for seq, text in rows:
                await self._send(seq, text)
                sent = seq
            if len(rows) < REPLAY_PAGE:
                return sent

    async def _send(self, seq: int, text: str) -> None:
        self.write(f"id: {seq}\ndata: {text}\n\n")
        await self.flush()


def make_app(player: FeedPlayer, prefix: str, api_token: str) -> web.Application:
    prefix = prefix.rstrip("/")
    arguments = {"player": player}
    return web.Application(
        [
            oauth_route(prefix),
            (prefix + r"/?", FeedsHandler, arguments),
            (prefix + r"/feeds/?", FeedsHandler, arguments),
            (prefix + r"/feeds/([^/]+)/?", FeedsHandler, arguments),
            (prefix + r"/feeds/([^/]+)/events", EventsHandler, arguments),
            (prefix + r"/feeds/([^/]+)/history", HistoryHandler, arguments),
        ],
        **oauth_application_settings(prefix, "live-service", api_token),
    )


def _float_from_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds or days, not {raw!r}") from None


async def serve() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    host, port = service_address()
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/live/")
    tick = _float_from_env("DTE_LIVE_TICK", 1.0)
    if tick <= 0:
        raise SystemExit(f"DTE_LIVE_TICK must be positive, not {tick}")
    retention_days = _float_from_env("DTE_LIVE_RETENTION_DAYS", 1.0)
    keep = int(retention_days * 86400 / tick) if retention_days > 0 else 0
    path = os.environ.get("DTE_LIVE_ARCHIVE", "live-archive.sqlite")
    try:
        archive = Archive(path)
    except ArchiveError as error:
        raise SystemExit(str(error)) from None
    player = FeedPlayer(archive, tick=tick, keep=keep)
    app = make_app(player, prefix, os.environ["JUPYTERHUB_API_TOKEN"])
    server = app.listen(port, host)
    log.info(
        "Live feeds %s on %s, a tick every %g s, archive %s",
        ", ".join(player.feeds),
        f"{host}:{port}",
        tick,
        path,
    )

    stop = stop_event()
    await player.run(stop)
    server.stop()
    player.close()
    log.info(
        "Live feeds stopped after observation(s) %s",
        ", ".join(f"{name} {player.last_seq(name)}" for name in player.feeds),
    )


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
