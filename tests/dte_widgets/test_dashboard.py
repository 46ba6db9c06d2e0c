"""TwinDashboard without a browser: composed for any twin, runs, shows results and alerts."""

import threading
from pathlib import Path

import pytest

from dte_twins.environment.flood import FloodTwin
from dte_twins.physics.calorimeter import CalorimeterTwin
from dte_widgets import TwinDashboard
from dte_widgets.dashboard import views_for
from tests.dte_twins.synthetic import synthetic_forcing, valley
from tests.dte_widgets.conftest import upload
from tests.dte_widgets.test_forms import GaugeTwin


@pytest.fixture
def flood():
    return FloodTwin(forcing=synthetic_forcing(), terrain=valley())


def test_a_flood_dashboard_runs_and_shows_series_map_alerts_and_history(flood):
    dashboard = TwinDashboard(flood, compute=False)
    assert dashboard.results.layout.display == "none"  # the placeholder shows until a run
    dashboard.form.set_values({"rainfall_spread": 0.5, "watch_discharge": 5.0})
    dashboard.runner.start()
    assert dashboard.runner.wait(120) == "done", dashboard.runner.error
    assert list(dashboard.views) == ["Time series", "Map"]
    assert dashboard.placeholder.layout.display == "none" and not dashboard.results.layout.display
    assert dashboard.results.titles == ("Time series", "Map")
    assert all(view.plot.png.startswith(b"\x89PNG") for view in dashboard.views.values())
    assert dashboard.alerts.counts["watch"] >= 1  # a low watch level is exceeded
    assert [run.twin for run in dashboard.history.runs] == ["FloodTwin"]
    assert dashboard.result.attrs["parameters"].count('"rainfall_spread": 0.5') == 1

    series = dashboard.views["Time series"]
    first = series.plot.png
    dashboard.form.set_values({"x1": 900.0})
    dashboard.runner.start()
    assert dashboard.runner.wait(120) == "done"
    assert dashboard.views["Time series"] is series  # the same views, updated in place
    assert series.plot.png != first
    assert len(dashboard.history.runs) == 2


def test_an_invalid_form_blocks_the_run_with_the_reason(flood):
    dashboard = TwinDashboard(flood, compute=False, history=False)
    dashboard.form.set_values({"watch_discharge": 900.0})  # above the warning level
    assert not dashboard.form.valid
    assert dashboard.runner.run_button.disabled
    dashboard.runner.start()
    assert dashboard.runner.state == "failed"
    assert "not valid" in dashboard.runner.error


def test_any_twin_gets_the_views_its_results_call_for():
    result = CalorimeterTwin(registry=False, n_events=60, energy_points=2).run()
    views = views_for(result)
    assert "Distribution" in views and "Time series" not in views
    dashboard = TwinDashboard(CalorimeterTwin(n_events=60, energy_points=2), compute=False)
    assert "Calorimeter" in dashboard.children[0].value


class EndlessEnsembleTwin(GaugeTwin):
    """An ensemble that runs until it is cancelled, reporting progress as a twin's does; or,
    with ``breaks_when_cancelled``, one whose cluster goes away with its page."""

    breaks_when_cancelled = False

    def ensemble(self, n, client=None, progress=None, **parameters):
        self.ensemble_started.set()
        for _ in range(600):
            if self.breaks_when_cancelled and self.cancelled():
                raise OSError("the client was closed")
            progress(0, n)  # raises RunCancelled once the runner was cancelled
            threading.Event().wait(0.05)
        raise AssertionError("the ensemble was never cancelled")


@pytest.mark.parametrize("breaks", [False, True], ids=["stops", "breaks"])
def test_closing_a_dashboard_cancels_its_run_and_removes_its_uploads(breaks):
    """What a page's end does to its dashboard (``panel serve`` closes it with the session);
    an ensemble broken by the closing (its cluster gone) is cancelled too, not failed."""
    twin = EndlessEnsembleTwin(registry=False)
    twin.ensemble_started = threading.Event()
    twin.breaks_when_cancelled = breaks
    # a client of its own (never used by this twin): no local cluster is started for the test
    dashboard = TwinDashboard(twin, history=False, client=object())
    saved = upload(dashboard.form, "rating", "rating.csv", b"h,q\n1,2\n")
    assert Path(saved).is_file()
    dashboard.runner.mode.value = "ensemble"
    twin.cancelled = dashboard.runner._cancel.is_set
    dashboard.runner.start()
    assert twin.ensemble_started.wait(30)

    dashboard.close()
    assert dashboard.runner.wait(30) == "cancelled" and dashboard.runner.error == ""
    assert not Path(saved).parent.exists()
    assert dashboard.compute.wait(30) and dashboard.compute.comm is None  # closed too
    assert dashboard.form.comm is None and dashboard.comm is None
