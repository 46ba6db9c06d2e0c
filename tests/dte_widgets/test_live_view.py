"""LiveFeedView without the platform: observations from the live service's own feed simulators,
given as a source or through a fake feed; the bounded buffer, throttled redraws, pause and
resume, stop, and errors as sentences."""

import base64
import itertools
import queue
import threading
import time

import ipywidgets as widgets
import pytest

from catalogs.live import LiveFeedError
from catalogs.live.feeds import DetectorChannels, RiverGauge, play
from dte_widgets.live_view import LiveFeedView
from tests.dte_widgets.conftest import sent_states


def simulated(feed, count=None, state=None):
    """Observations of a feed simulator, made one by one as the live service makes them."""
    state = feed.initial_state() if state is None else state
    for _ in range(count) if count is not None else itertools.count():
        observation, state = feed.advance(state)
        yield observation


class FakeFeed:
    """Follows like catalogs.live.LiveFeed: ``info()``, then ``follow(since)`` from the archive
    of a simulator that has already played ``played`` ticks, ``more`` ticks further."""

    def __init__(self, simulator, played, more):
        self.feed = simulator.name
        self.simulator, self.played, self.more = simulator, played, more
        self.follows = []

    def info(self):
        return {**self.simulator.describe(), "tick_s": 1.0, "last_seq": self.played}

    def follow(self, since=None):
        self.follows.append(since)
        archive, _ = play(self.simulator, self.played + self.more)
        yield from archive[since:]


@pytest.fixture
def views():
    made = []

    def make(*args, **kwargs):
        view = LiveFeedView(*args, **kwargs)
        made.append(view)
        return view

    yield make
    for view in made:
        view.close()


def reaching(view, seq):
    """An event set when the view has received observation ``seq``."""
    reached = threading.Event()
    view.on_observation(lambda observation: observation["seq"] >= seq and reached.set())
    return reached


# --- a scalar feed: the river gauge ----------------------------------------------------------
def test_buffer_keeps_the_last_window_and_redraws_are_throttled(views):
    started = time.monotonic()
    view = views(
        RiverGauge(), window=100, source=simulated(RiverGauge(), 1500), redraw_interval=0.1
    )
    assert view.wait(30)
    elapsed = time.monotonic() - started
    assert view.received == 1500 and view.last_seq == 1500 and view.status == "stopped"
    frame = view.frame()
    assert len(frame) == 100 and list(frame.seq) == list(range(1401, 1501))
    assert set(frame.columns) >= {"discharge", "stage", "precipitation"}
    # at most one redraw per interval (plus the first, at once), far fewer than observations
    assert 1 <= view.redraws <= 2 + elapsed / 0.1
    assert view.redraws < view.received / 20
    # the last redraw shows everything: the plot's description names the window on display
    assert view.plot.png.startswith(b"\x89PNG")
    assert "of river_gauge, the last 100 observations (observations 1401 to 1500)" in (
        view.plot.description
    )
    assert "last observation 1500 · 1500 received · stopped" in view.status_line.value


def test_variables_of_a_scalar_feed(views):
    view = views(RiverGauge(), source=simulated(RiverGauge(), 30), variable="discharge")
    assert view.wait(30)
    assert view.variable.description == "Variable"
    assert [label for label, _ in view.variable.options] == [
        "precipitation (mm/d)",
        "temperature (°C)",
        "pet (mm/d)",
        "discharge (m³/s)",
        "stage (m)",
    ]
    assert view.variable.value == "discharge" and view.variable.layout.display is None
    assert view.plot.description.startswith("discharge (m³/s) of river_gauge")
    before = view.redraws
    view.variable.value = "stage"
    assert view.wait_drawn(10)
    assert view.redraws == before + 1 and view.plot.description.startswith("stage (m)")


def test_pause_keeps_receiving_and_resume_catches_up(views):
    arriving = queue.Queue()
    view = views(RiverGauge(), window=50, source=iter(arriving.get, None), redraw_interval=0.05)
    pause = view.pause_button
    assert isinstance(pause, widgets.ToggleButton) and pause.description == "Pause"
    assert pause.tooltip
    pause.value = True
    assert view.status == "paused" and pause.description == "Resume" and pause.tooltip
    reached = reaching(view, 120)
    for observation in simulated(RiverGauge(), 120):
        arriving.put(observation)
    assert reached.wait(30)
    assert view.wait_drawn(10)
    assert view.received == 120 and len(view.frame()) == 50  # nothing lost while paused
    assert view.redraws == 0 and view.plot.png == b""
    assert "120 received · paused" in view.status_line.value  # the status line still moves

    pause.value = False
    assert view.wait_drawn(10)
    assert view.status == "following" and pause.description == "Pause"
    assert view.redraws == 1
    assert "(observations 71 to 120)" in view.plot.description
    # the front end received the picture once, on resume
    pictures = [state["value"] for state in sent_states(view.plot.image) if "value" in state]
    assert len(pictures) == 1
    assert base64.b64encode(view.plot.png).decode() in pictures[0]
    assert {"description": "Resume"} in sent_states(view.pause_button)

    arriving.put(None)  # the source ends
    assert view.wait(10) and view.status == "stopped"


def test_stop_ends_the_follow_thread(views):
    view = views(RiverGauge(), source=simulated(RiverGauge()), redraw_interval=0.05)
    assert view.stop_button.description == "Stop" and view.stop_button.tooltip
    assert not view.stop_button.disabled
    assert reaching(view, 40).wait(30)
    view.stop_button.click()
    assert not view.thread.is_alive()
    assert view.status == "stopped" and view.stop_button.disabled
    received = view.received
    assert view.wait(10) and view.received == received  # nothing after the stop
    assert "· stopped" in view.status_line.value
    assert len(view.frame()) == min(received, 300)


def test_close_stops_following(views):
    view = views(RiverGauge(), source=simulated(RiverGauge()))
    assert reaching(view, 5).wait(30)
    view.close()  # returns at once: the thread ends at its next observation
    assert view.status == "stopped"
    view.thread.join(10)
    assert not view.thread.is_alive()


# --- a chunked feed: the detector, through a feed object ------------------------------------
def test_chunked_feed_keeps_the_last_window_of_seconds(views):
    feed = FakeFeed(DetectorChannels(), played=20, more=25)
    view = views(feed, window=5, redraw_interval=0.05)
    assert view.wait(30)
    assert feed.follows == [15]  # the last window of the archive first, then live
    assert view.received == 30 and view.last_seq == 45 and view.name == "detector"
    frame = view.frame()
    assert len(frame) == 5 * 128  # five one-second chunks at 128 Hz
    assert (frame.index[-1] - frame.index[0]).total_seconds() == pytest.approx(5 - 1 / 128)
    # the flag per chunk is no curve to plot
    assert [value for _, value in view.variable.options] == ["seismic", "strain"]
    assert view.variable.options[0][0] == "seismic (µm/s)"
    assert "the last 5 s (observations 41 to 45)" in view.plot.description


def test_a_single_field_needs_no_choice(views):
    observations = [{"seq": i, "time": f"2024-01-01T00:00:{i:02d}", "level": i} for i in range(9)]
    view = views("tank", source=observations)
    assert view.wait(10)
    assert view.variable.value == "level" and view.variable.layout.display == "none"


# --- errors ---------------------------------------------------------------------------------------
def test_a_failing_feed_is_a_sentence(views):
    def failing():
        yield from simulated(RiverGauge(), 5)
        raise LiveFeedError(
            "the live service at http://127.0.0.1:8000/services/live has not answered for "
            "120 s; the last observation of river_gauge was 5: follow(since=5) resumes from there"
        )

    view = views("river_gauge", source=failing())
    assert view.wait(10)
    assert view.status == "error" and view.received == 5 and len(view.frame()) == 5
    message = view.message.value
    assert message.startswith('<p class="dte-error" role="alert">The live feed river_gauge ')
    assert "has not answered for 120 s" in message and "run this cell again" in message
    assert "Traceback" not in message
    assert "stopped on an error" in view.status_line.value


def test_outside_the_platform_the_view_says_so(views, monkeypatch):
    monkeypatch.delenv("DTE_LIVE_URL", raising=False)
    view = views("river_gauge")
    assert view.status == "error" and view.thread is None
    assert view.message.value == (
        '<p class="dte-error" role="alert">No live service here: no address for the live '
        "service: pass url= (…/services/live) or set DTE_LIVE_URL (the hub sets it in user "
        "servers). Open this notebook on DTE Hub, or pass url= and token= to LiveFeedView.</p>"
    )
    assert view.wait(10)


def test_an_unreachable_service_is_a_sentence(views):
    # a port nobody listens on: connection refused at once
    view = views("river_gauge", url="http://127.0.0.1:9/services/live", token="t")
    assert view.wait(30)
    assert view.status == "error"
    assert "The live service is unreachable (ConnectionError at http://127.0.0.1:9" in (
        view.message.value
    )


def test_an_unexpected_error_is_a_sentence_too(views):
    def broken():
        yield {"seq": 1, "time": "2024-01-01T00:00:00", "level": 1.0}
        raise KeyError("time")

    view = views("tank", source=broken())
    assert view.wait(10) and view.status == "error"
    assert "stopped on an unexpected KeyError: &#x27;time&#x27;" in view.message.value
