"""``servable`` under ``panel serve``: a page broken by another session's widget is made again,
and an ended session's widgets are closed."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from dte_widgets import panel_app
from tests.hub.platform import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


class FlakyPane:
    """A pane whose page making is broken ``failures`` times, as Panel's walk over the process's
    ipywidgets is when another session's thread makes a widget meanwhile."""

    def __init__(self, failures, message="dictionary changed size during iteration"):
        self.failures, self.message, self.attempts = failures, message, 0

    def servable(self, title):
        self.attempts += 1
        if self.attempts <= self.failures:
            raise RuntimeError(self.message)
        return f"page {title}"


@pytest.fixture
def in_panel_serve(monkeypatch):
    import panel

    monkeypatch.setattr(panel_app, "served_by_panel", lambda: True)
    monkeypatch.setattr(panel_app, "keep_resources_local", lambda: None)
    monkeypatch.setattr(panel_app, "close_widgets_when_session_ends", lambda: None)
    monkeypatch.setattr(panel, "extension", lambda *a, **k: None)

    def serve(pane):
        monkeypatch.setattr(panel, "panel", lambda widget: pane)
        return pane

    return serve


def test_a_page_broken_by_another_sessions_widget_is_made_again(in_panel_serve):
    pane = in_panel_serve(FlakyPane(failures=3))
    assert panel_app.servable(object(), title="Flood") == "page Flood"
    assert pane.attempts == 4


def test_other_errors_and_a_race_that_never_ends_are_raised(in_panel_serve):
    in_panel_serve(FlakyPane(failures=1, message="something else"))
    with pytest.raises(RuntimeError, match="something else"):
        panel_app.servable(object())
    pane = in_panel_serve(FlakyPane(failures=100))
    with pytest.raises(RuntimeError, match="changed size"):
        panel_app.servable(object())
    assert pane.attempts == panel_app.RACE_RETRIES


def test_outside_panel_serve_the_widget_is_returned_unchanged():
    widget = object()
    assert panel_app.servable(widget) is widget


#: two dashboards: one whose viewer uploaded a file, one that has run (its result views are
#: made after the page, on the session's event loop); each session notes what the process held
#: when it began (widgets, comms, dashboards still alive) and what it made
GAUGE_APP = """
import gc, json, os
from pathlib import Path

import comm
from ipywidgets.widgets.widget import _instances

from dte_twins.physics.calorimeter import CalorimeterTwin
from dte_widgets import TwinDashboard
from dte_widgets.panel_app import servable
from tests.dte_widgets.conftest import upload
from tests.dte_widgets.test_forms import GaugeTwin

gc.collect()
held = {
    "widgets": len(_instances),
    "comms": len(comm.get_comm_manager().comms),
    "dashboards": sum(isinstance(thing, TwinDashboard) for thing in gc.get_objects()),
}
gauge = TwinDashboard(GaugeTwin(registry=False), history=False)
saved = upload(gauge.form, "rating", "rating.csv", b"h,q\\n1,2\\n")
showers = TwinDashboard(CalorimeterTwin(n_events=60, energy_points=2), compute=False)
views_made = Path(os.environ["SESSIONS_NOTED"]).with_suffix(".views")
# called after the dashboard has made its views, on the session's event loop
showers.runner.on_result(lambda result: views_made.write_text(",".join(showers.views)))
showers.runner.start()
showers.runner.wait(120)  # the run; its result is shown once this page is made
made = {
    "made": len(_instances) - held["widgets"],
    "upload": saved,
    "saved": Path(saved).is_file(),
    "ran": showers.runner.result is not None,
}
with open(os.environ["SESSIONS_NOTED"], "a") as notes:
    notes.write(json.dumps({**held, **made}) + "\\n")
import ipywidgets
servable(ipywidgets.VBox([gauge, showers]), title="Gauge")
"""


@contextlib.contextmanager
def serving_app(folder: Path, name: str, source: str):
    """``panel serve`` of the app ``source`` (in ``folder``), ending a session 1 s after its
    page if nobody connects; yields (URL, notes file, log file)."""
    app, notes, log = folder / f"{name}.py", folder / "sessions.jsonl", folder / "panel.log"
    app.write_text(textwrap.dedent(source))
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "SESSIONS_NOTED": str(notes)}
    environment.pop("DASK_GATEWAY__ADDRESS", None)  # a local compute control: no gateway here
    command = [
        str(Path(sys.executable).parent / "panel"),
        "serve",
        str(app),
        "--address=127.0.0.1",
        f"--port={port}",
        f"--allow-websocket-origin=127.0.0.1:{port}",
        "--unused-session-lifetime=1000",
        "--check-unused-sessions=500",
    ]
    with log.open("w") as output:
        server = subprocess.Popen(
            command, cwd=folder, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:

        def listening():
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, 120, "panel serve to listen")
        yield f"http://127.0.0.1:{port}/{name}", notes, log
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def gauge_app(tmp_path):
    with serving_app(tmp_path, "gauge", GAUGE_APP) as served:
        yield served


@pytest.mark.browser
def test_an_ended_sessions_widgets_are_closed_with_what_they_held(gauge_app):
    """A viewer opens the page, sees the run's results, and closes the page; then a viewer
    opens it without ever connecting (a page fetched, its websocket never opened)."""
    from playwright.sync_api import expect

    from tests.browser import browser_page

    url, notes, log = gauge_app
    with browser_page() as (page, _, _):
        page.goto(url, timeout=120_000)
        # the result views are made once the page has loaded, on the session's event loop
        expect(page.locator(".dte-plot img").first).to_be_visible(timeout=120_000)
    [first] = [json.loads(line) for line in notes.read_text().splitlines()]
    assert first["saved"] and first["made"] > 100  # two dashboards' worth of widgets
    assert first["ran"] and first["dashboards"] == 0
    assert "Distribution" in notes.with_suffix(".views").read_text()
    # the page is closed: Bokeh ends the session, and its widgets are closed
    wait_until(lambda: not Path(first["upload"]).exists(), 60, "the upload to be removed")

    assert requests.get(url, timeout=120).status_code == 200
    second = json.loads(notes.read_text().splitlines()[1])
    # nothing of the first session is left in the process (before: all its widgets and comms)
    assert (second["widgets"], second["comms"]) == (first["widgets"], first["comms"])
    assert second["dashboards"] == 0  # nothing else holds them either
    # the second session ends without ever having connected
    wait_until(lambda: not Path(second["upload"]).exists(), 60, "the upload to be removed")
    assert requests.get(url, timeout=120).status_code == 200
    third = json.loads(notes.read_text().splitlines()[2])
    assert (third["widgets"], third["dashboards"]) == (first["widgets"], 0)
    # the result views, made after the page, were closed without trying to reach it
    assert "Traceback" not in log.read_text()


#: a compute control whose options answer after a second, as a gateway's over the network
SLOW_OPTIONS_APP = """
import time

import dte_widgets.compute as compute
from dte_widgets.compute import ComputeControl
from dte_widgets.panel_app import servable

local_options = compute._local_options


def options_after_a_second():
    time.sleep(1.0)
    return local_options()


compute._local_options = options_after_a_second
servable(ComputeControl(), title="Compute")
"""


@pytest.mark.browser
def test_options_arriving_after_the_page_still_reach_it(tmp_path):
    """Widgets made on a background thread after the page was made (the compute control's
    options form) are made on the session's event loop, and shown."""
    from playwright.sync_api import expect

    from tests.browser import browser_page

    with serving_app(tmp_path, "compute", SLOW_OPTIONS_APP) as (url, _, log):
        with browser_page() as (page, requests_made, _):
            page.goto(url, timeout=120_000)
            options = page.locator(".dte-compute-options")
            expect(options.get_by_text("Workers at start")).to_be_visible(timeout=60_000)
            assert requests_made.offsite == []
        assert "Traceback" not in log.read_text()
