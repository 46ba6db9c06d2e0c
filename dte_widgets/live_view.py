"""A live feed followed in a notebook: a rolling plot of its latest observations.

A background thread reads the feed (``catalogs.live.LiveFeed.follow``, or any iterable of
observations) into a bounded buffer; the plot is redrawn from the buffer at most every
``redraw_interval`` seconds, however fast observations come, so a replay of the archive or a
fast tick never floods the front end.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

import ipywidgets as widgets
import pandas as pd
import traitlets

from dte_widgets.markup import LABEL_STYLE, error_html
from dte_widgets.markup import escape as _escape
from dte_widgets.plotting import PlotArea

__all__ = ["LiveFeedView"]

#: keys of an observation that are not measured fields
_NOT_FIELDS = frozenset({"seq", "time", "recorded_at", "sample_rate"})


class LiveFeedView(widgets.VBox):
    """Follow a live feed with a rolling plot of its last ``window`` observations.

    ::

        LiveFeedView("river_gauge", variable="discharge")   # on DTE Hub
        LiveFeedView("detector", window=30)                  # the last 30 s of samples
        LiveFeedView("river_gauge", url=".../services/live", token=hub_token)  # elsewhere

    ``feed``: a feed name (read with ``catalogs.live.LiveFeed(feed, url, token)``) or an
    object with ``follow(since=...)`` and ``info()`` like ``LiveFeed``. For a scalar feed
    (``river_gauge``) ``window`` counts observations; for a chunked one (``detector``) it counts
    seconds of samples. A feed starts with its last ``window`` archived observations, then
    follows live. ``source``: any iterable of observation dicts to show instead of following
    (tests, replays); ``feed`` then only names it (or is a ``catalogs.live.feeds.Feed``).

    "Pause" stops redrawing while observations keep arriving (the plot catches up on
    "Resume"); "Stop" ends the following. ``frame()`` is the buffer as a DataFrame;
    ``on_observation(callback)`` calls ``callback(observation)`` on the follow thread for each
    one; ``wait()`` waits for the follow thread to end; ``close()`` stops it without waiting.
    """

    #: "starting", "following", "paused", "stopped" or "error"
    status = traitlets.Unicode("starting")

    def __init__(
        self,
        feed,
        window: int = 300,
        url: str | None = None,
        token: str | None = None,
        *,
        source: Iterable[dict] | None = None,
        variable: str | None = None,
        redraw_interval: float = 0.5,
        **kwargs,
    ):
        if window < 1:
            raise ValueError(f"window = {window!r}: it must be at least 1")
        self.window = int(window)
        #: seconds between two redraws at most
        self.redraw_interval = redraw_interval
        self.name = _feed_name(feed)
        self.received = 0
        self.last_seq: int | None = None
        self.redraws = 0
        self.thread: threading.Thread | None = None
        self._source = None if source is None else iter(source)  # iterated once, resumable
        self._feed = None
        self._info: dict = feed.describe() if hasattr(feed, "describe") else {}
        self._units: dict[str, str] = dict(self._info.get("fields", {}))
        self._buffer: deque[dict] = deque(maxlen=self.window)
        self._sized = False
        self._chunked = False
        self._callbacks: list[Callable[[dict], None]] = []
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._requested = self._drawn = 0
        self._next_draw = 0.0
        self._timer: threading.Timer | None = None
        self._drawing = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._wanted_variable = variable
        self._build()
        super().__init__(
            [
                widgets.HBox([self.pause_button, self.stop_button, self.variable]),
                self.status_line,
                self.message,
                self.plot,
            ],
            **kwargs,
        )
        self.add_class("dte-live-feed-view")
        if hasattr(feed, "follow"):
            self._feed = feed
        elif isinstance(feed, str) and source is None:
            self._feed = self._open(feed, url, token)
        elif source is None:
            raise TypeError(
                f"feed = {feed!r}: give a feed name, an object with follow() like "
                "catalogs.live.LiveFeed, or observations as source="
            )
        if self._feed is not None or self._source is not None:
            self.start()
        self._request_draw()

    # --- public ------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.pause_button.value

    def frame(self) -> pd.DataFrame:
        """The buffered observations, indexed by model time (one row per sample if chunked)."""
        from catalogs.live.client import as_frame

        with self._lock:
            observations = list(self._buffer)
        return as_frame(observations)

    def on_observation(self, callback: Callable[[dict], None], remove: bool = False) -> None:
        """Call ``callback(observation)`` for each observation (on the follow thread)."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def start(self) -> None:
        """Follow the feed (again after ``stop()``: from the last observation received)."""
        if self.thread is not None and self.thread.is_alive():
            return
        self._stop.clear()
        self.status = "paused" if self.paused else "following"
        self.stop_button.disabled = False
        self.thread = threading.Thread(target=self._follow, name=f"dte-live-{self.name}")
        self.thread.daemon = True
        self.thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop following. A thread waiting on the network ends at the next observation."""
        self._stop.set()
        self.stop_button.disabled = True
        if self.status != "error":
            self.status = "stopped"
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the follow thread to end (its source exhausted, stopped or failed) and the
        view to show everything; False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.thread is not None:
            self.thread.join(timeout)
            if self.thread.is_alive():
                return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.wait_drawn(remaining)

    def wait_drawn(self, timeout: float | None = None) -> bool:
        """Wait until the view shows what was received so far (the plot only if not paused)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._drawn >= self._requested, timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # the thread ends at its next observation; a panel serve session closes its widgets on
        # the server's event loop, which must not wait for the network
        self.stop(timeout=0)
        with self._settled:
            timer, self._timer = self._timer, None
            self._drawn = self._requested  # nothing more will be drawn
            self._settled.notify_all()
        if timer is not None:
            timer.cancel()
        super().close()

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.pause_button = widgets.ToggleButton(
            description="Pause",
            tooltip="Stop redrawing; observations keep arriving",
            icon="pause",
            value=False,
        )
        self.stop_button = widgets.Button(
            description="Stop", tooltip="Stop following the feed", icon="stop", disabled=True
        )
        self.variable = widgets.Dropdown(
            description="Variable",
            options=[],
            style=LABEL_STYLE,
            layout=widgets.Layout(display="none"),
        )
        self.status_line = widgets.HTML()
        self.message = widgets.HTML()
        self.plot = PlotArea()
        self.pause_button.observe(self._on_pause, "value")
        self.stop_button.on_click(lambda _: self.stop())
        self.variable.observe(lambda _: self._request_draw(), "value")

    def _open(self, name: str, url: str | None, token: str | None):
        from catalogs.live import LiveFeed, LiveFeedError

        try:
            return LiveFeed(name, url=url, token=token)
        except LiveFeedError as error:
            self._fail(
                f"No live service here: {_reason(error)}. Open this notebook on DTE Hub, or "
                "pass url= and token= to LiveFeedView."
            )
            return None

    # --- following ---------------------------------------------------------------------------
    def _follow(self) -> None:
        import requests

        from catalogs.live import LiveFeedError

        try:
            for observation in self._observations():
                self._receive(observation)
                if self._stop.is_set():
                    break
        except LiveFeedError as error:
            self._fail(
                f"The live feed {self.name} stopped: {_reason(error)}. Check that the live "
                "service answers (DTE Hub's /services/live), then run this cell again."
            )
        except requests.RequestException as error:
            where = getattr(self._feed, "url", "its address")
            self._fail(
                f"The live service is unreachable ({type(error).__name__} at {where}). It runs "
                "with DTE Hub: open this notebook there, or pass the hub's url= and token=, "
                "then run this cell again."
            )
        except Exception as error:
            self._fail(
                f"The live feed {self.name} stopped on an unexpected {type(error).__name__}: "
                f"{_reason(error)}. Run this cell again; if it happens again, please report it."
            )
        else:
            self.status = "stopped"
        finally:
            self.stop_button.disabled = True
            self._request_draw()

    def _observations(self) -> Iterable[dict]:
        if self._source is not None:
            return self._source
        if hasattr(self._feed, "info"):
            self._info = self._feed.info()
            self._units.update(self._info.get("fields", {}))
        if self.last_seq is not None:
            since = self.last_seq  # started again: nothing lost, nothing twice
        else:
            # the last window of the archive first, so the plot starts full
            since = max(0, int(self._info.get("last_seq", 0)) - self.window)
        return self._feed.follow(since=since)

    def _receive(self, observation: dict) -> None:
        if not self._sized:
            self._first(observation)
        with self._lock:
            self._buffer.append(observation)
            self.received += 1
            self.last_seq = observation.get("seq", self.last_seq)
        for callback in list(self._callbacks):
            callback(observation)
        self._request_draw()

    def _first(self, observation: dict) -> None:
        """The first observation tells the kind of feed and its plottable fields."""
        self._sized = True
        arrays = [v for v in observation.values() if isinstance(v, list) and v]
        self._chunked = "sample_rate" in observation and bool(arrays)
        if self._chunked:
            seconds = len(arrays[0]) / observation["sample_rate"]
            with self._lock:
                self._buffer = deque(self._buffer, maxlen=max(1, math.ceil(self.window / seconds)))
        order = list(self._units) + [k for k in observation if k not in self._units]
        names = [k for k in order if k not in _NOT_FIELDS and _plottable(observation.get(k))]
        self.variable.options = [(_with_units(n, self._units.get(n, "")), n) for n in names]
        if names:  # new options leave a Dropdown without a value
            wanted = self._wanted_variable
            self.variable.value = wanted if wanted in names else names[0]
        self.variable.layout.display = None if len(names) > 1 else "none"

    @traitlets.observe("status")
    def _on_status(self, change) -> None:
        self._request_draw()  # the status line

    def _fail(self, sentence: str) -> None:
        self.status = "error"
        self.message.value = error_html(sentence)

    def _on_pause(self, change) -> None:
        paused = change.new
        self.pause_button.description = "Resume" if paused else "Pause"
        self.pause_button.icon = "play" if paused else "pause"
        self.pause_button.tooltip = (
            "Redraw with every observation received"
            if paused
            else "Stop redrawing; observations keep arriving"
        )
        if self.status in ("following", "paused"):
            self.status = "paused" if paused else "following"
        self._request_draw()

    # --- drawing, throttled ------------------------------------------------------------------
    def _request_draw(self) -> None:
        """Redraw soon: now if the last redraw is old enough, else when it is."""
        with self._lock:
            if self._closed:
                return
            self._requested += 1
            if self._timer is not None:
                return
            delay = max(0.0, self._next_draw - time.monotonic())
            self._timer = threading.Timer(delay, self._draw_requested)
            self._timer.daemon = True
            self._timer.start()

    def _draw_requested(self) -> None:
        with self._lock:
            self._timer = None
            generation = self._requested
            self._next_draw = time.monotonic() + self.redraw_interval
        try:
            with self._drawing:
                self._show_status()
                if not self.paused:
                    self._redraw()
        except Exception as error:  # odd values in an observation: say so, keep following
            self.plot.clear(f"Could not draw {self.variable.value}: {_reason(error)}.")
        finally:
            with self._settled:
                self._drawn = max(self._drawn, generation)
                self._settled.notify_all()

    def _redraw(self) -> None:
        variable = self.variable.value
        frame = self.frame()
        if frame.empty or variable is None or variable not in frame:
            self.plot.clear(f"Waiting for the first observation of {self.name}…")
            return
        first, last = self._seq_range()
        units = self._units.get(variable, "")
        span = (
            f"{(frame.index[-1] - frame.index[0]).total_seconds():.0f} s"
            if self._chunked
            else f"{len(frame)} observations"
        )
        description = (
            f"{_with_units(variable, units)} of {self.name}, the last {span} "
            f"(observations {first} to {last})"
        )
        series = frame[variable]
        self.plot.show(lambda figure: _draw(figure, series, units, self.name), description)
        self.redraws += 1

    def _seq_range(self) -> tuple:
        with self._lock:
            if not self._buffer:
                return None, None
            return self._buffer[0].get("seq"), self._buffer[-1].get("seq")

    def _show_status(self) -> None:
        parts = [f"<strong>{_escape(self.name)}</strong>"]
        if self.last_seq is not None:
            parts.append(f"last observation {self.last_seq}")
        parts.append(f"{self.received} received")
        parts.append(_escape(self.status if self.status != "error" else "stopped on an error"))
        self.status_line.value = f"<p class='dte-live-status'>{' · '.join(parts)}</p>"


# --- helpers -------------------------------------------------------------------------------------
def _reason(error: Exception) -> str:
    return str(error).strip().rstrip(".") or type(error).__name__


def _feed_name(feed) -> str:
    if isinstance(feed, str):
        return feed
    return str(getattr(feed, "feed", None) or getattr(feed, "name", None) or type(feed).__name__)


def _plottable(value) -> bool:
    if isinstance(value, list):
        return bool(value) and _plottable(value[0])
    return isinstance(value, int | float) and not isinstance(value, bool)


def _with_units(name: str, units: str) -> str:
    return f"{name} ({units})" if units else name


def _draw(figure, series: pd.Series, units: str, feed: str) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    axes = figure.add_subplot()
    axes.plot(series.index, series.to_numpy(), linewidth=0.8 if len(series) > 1000 else 1.2)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_ylabel(_with_units(str(series.name), units))
    axes.set_xlabel("model time")
    axes.set_title(f"{feed}: {series.name}", loc="left")
    axes.grid(alpha=0.3)
