"""ScenarioRunner: runs in the background with progress, cancels, and explains failures."""

import pytest

from dte_twins.environment.flood import FloodTwin
from dte_twins.physics.calorimeter import CalorimeterTwin
from dte_twins.provenance import RunRegistry
from dte_widgets.scenarios import ScenarioRunner, progress_text
from tests.dte_twins.conftest import _local_client
from tests.dte_twins.synthetic import synthetic_forcing


@pytest.fixture(scope="module")
def client():
    yield from _local_client(processes=False, n_workers=1)


def calorimeter(**settings):
    return CalorimeterTwin(**{"seed": 3, "n_events": 40, "energy_points": 2, **settings})


def test_one_scenario_runs_in_the_background_and_hands_over_the_result(private_registry):
    runner = ScenarioRunner(calorimeter())
    results = []
    runner.on_result(results.append)
    runner.start()
    assert runner.state == "running" and runner.run_button.disabled
    assert runner.wait(60) == "done"
    assert results == [runner.result] and "stochastic_term" in runner.result
    assert runner.progress.value == runner.progress.max == 1
    assert not runner.run_button.disabled and runner.cancel_button.disabled
    assert [run.status for run in RunRegistry(private_registry).runs()] == ["ok"]


def test_an_ensemble_reports_members_and_reaches_the_total(client):
    runner = ScenarioRunner(calorimeter(), client=client)
    runner.mode.value = "ensemble"
    runner.members.value = 4
    seen = []
    runner.progress.observe(lambda change: seen.append(change["new"]), "value")
    runner.start()
    assert runner.wait(120) == "done", runner.error
    assert runner.result.sizes["member"] == 4
    assert runner.progress.value == runner.progress.max == 4
    assert seen == sorted(seen) and seen[-1] == 4
    assert runner.status.value.startswith("4 members done in")


def test_cancel_stops_an_ensemble_and_keeps_no_result(client):
    runner = ScenarioRunner(calorimeter(n_events=400), client=client)
    runner.mode.value = "ensemble"
    runner.members.value = 64
    runner.start()
    runner.cancel()
    assert runner.wait(120) == "cancelled"
    assert runner.result is None
    assert "Cancelled" in runner.status.value
    assert not runner.run_button.disabled


def test_a_missing_input_is_a_sentence_in_the_widget_not_a_traceback():
    runner = ScenarioRunner(FloodTwin(registry=False))  # no forcing, no catalog
    runner.start()
    assert runner.wait(60) == "failed"
    assert "needs its input 'forcing'" in runner.error
    assert "Traceback" not in runner.message.value
    assert 'role="alert"' in runner.message.value
    assert runner.progress.bar_style == "danger" and not runner.run_button.disabled


def test_an_unexpected_error_is_one_line_and_the_traceback_goes_to_the_log(caplog):
    twin = FloodTwin(registry=False, forcing=synthetic_forcing())
    twin.simulate = lambda *args, **kwargs: 1 / 0
    runner = ScenarioRunner(twin)
    runner.start()
    assert runner.wait(60) == "failed"
    assert runner.error == "The run failed: ZeroDivisionError: division by zero"
    assert "Traceback" in caplog.text


def test_an_invalid_form_disables_run_and_explains():
    class FakeForm:
        valid, values = False, {}

        def observe(self, *args, **kwargs):
            pass

    runner = ScenarioRunner(calorimeter(), form=FakeForm())
    runner.start()
    assert runner.state == "failed" and "not valid" in runner.error


def test_time_left_is_estimated_from_the_members_done():
    assert progress_text(0, 16, 3.0) == "0 of 16 members done"
    assert progress_text(4, 16, 8.0) == "4 of 16 members done · about 24 s left"
    assert progress_text(16, 16, 40.0) == "16 of 16 members done"
