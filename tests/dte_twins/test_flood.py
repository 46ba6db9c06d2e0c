"""The flood twin: real-data validation, ensembles, alerts, assimilation, bad input."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogs.real_data import fulda_daily
from dte_twins.environment.flood import FloodTwin
from dte_twins.errors import InputError, ParameterError
from dte_twins.provenance import to_prov_json
from dte_twins.statistics import nse
from tests.dte_twins.conftest import synthetic_forcing


@pytest.fixture(scope="module")
def fulda():
    return fulda_daily()


def test_fulda_default_parameters_score_as_published(fulda):
    twin = FloodTwin(forcing=fulda, registry=False)
    result = twin.run()
    observed = fulda.discharge.to_numpy()[365:]
    assert nse(result.discharge.to_numpy()[365:], observed) == pytest.approx(0.68, abs=0.01)


def test_calibration_on_fulda_reaches_nse_0_7(fulda):
    twin = FloodTwin(forcing=fulda, registry=False)
    skill = twin.calibrate(objective="kge", generations=25)
    assert skill["nse"] >= 0.7
    assert skill["kge"] >= 0.8
    assert twin.x4 == pytest.approx(skill["x4"])  # the twin keeps the calibrated values


def test_run_returns_a_dataset_with_provenance(forcing, registry):
    twin = FloodTwin(forcing=forcing, registry=registry, seed=7)
    result = twin.run(x1=400)
    assert isinstance(result, xr.Dataset)
    assert result.discharge.attrs["units"] == "m³/s"
    assert not np.isnan(result.discharge).any()
    attrs = result.attrs
    assert attrs["twin"] == "FloodTwin" and attrs["seed"] == 7
    assert json.loads(attrs["parameters"])["x1"] == 400
    assert json.loads(attrs["input_versions"])["forcing"].startswith("sha256:")
    assert attrs["code_version"].startswith("dte-hub")
    assert twin.x1 == 350  # run() changes no setting of the twin

    (record,) = registry.runs("FloodTwin")
    assert record.run_id == attrs["run_id"] and record.parameters["x1"] == 400
    prov = to_prov_json(record)
    assert len(prov["used"]) == 1 and len(prov["wasGeneratedBy"]) == 1
    json.dumps(prov)


def test_input_changes_change_the_recorded_version(forcing, registry):
    FloodTwin(forcing=forcing, registry=registry).run()
    changed = forcing.copy()
    changed.iloc[10, 0] += 1.0
    FloodTwin(forcing=changed, registry=registry).run()
    first, second = registry.runs()
    assert first.inputs["forcing"] != second.inputs["forcing"]


def test_more_rain_raises_the_river(forcing):
    wetter = forcing.assign(precipitation=forcing.precipitation * 1.3)
    base = FloodTwin(forcing=forcing, registry=False).run()
    more = FloodTwin(forcing=wetter, registry=False).run()
    assert (more.stage >= base.stage - 1e-12).all()
    assert more.stage.max() > base.stage.max()


def test_ensemble_is_identical_in_process_and_on_two_workers(
    forcing, in_process_client, two_worker_client
):
    twin = FloodTwin(forcing=forcing, registry=False, seed=11)
    here = twin.ensemble(6, client=in_process_client)
    there = twin.ensemble(6, client=two_worker_client)
    xr.testing.assert_identical(here.drop_attrs(), there.drop_attrs())
    assert here.sizes["member"] == 6
    # members differ (rainfall uncertainty), and the summary is consistent with them
    assert here.discharge.std("member").max() > 0
    q = here.discharge_quantile
    assert (q.sel(quantile=0.05) <= q.sel(quantile=0.95)).all()
    assert "discharge_above_250" in here
    assert json.loads(here.attrs["thresholds"]) == {"discharge": [150.0, 250.0, 350.0]}
    assert json.loads(here.attrs["quantiles"]) == [0.05, 0.5, 0.95]


def test_ensembles_follow_one_another_on_one_client(forcing, one_worker_client):
    # A second ensemble over the same inputs must not reuse the first one's data keys while
    # the scheduler releases them (it cancelled members with "lost dependencies").
    twin = FloodTwin(forcing=forcing, registry=False)
    for members in (2, 32, 32):
        assert twin.ensemble(members, client=one_worker_client).sizes["member"] == members


def test_alerts_follow_thresholds(forcing):
    twin = FloodTwin(
        forcing=forcing,
        registry=False,
        watch_discharge=20,
        warning_discharge=40,
        danger_discharge=1e5,
    )
    result = twin.run()
    alerts = twin.alerts(result)
    assert alerts, "a wet year with low thresholds must raise alerts"
    assert {a.level for a in alerts} <= {"watch", "warning"}
    for alert in alerts:
        start, end = (pd.Timestamp(d) for d in alert.when.split("/"))
        peak = result.discharge.sel(time=slice(start, end)).max().item()
        assert peak > (40 if alert.level == "warning" else 20)


def test_assimilation_brings_the_twin_to_the_observed_river(forcing):
    truth = FloodTwin(forcing=forcing, registry=False, x1=500, x3=60, x4=2.4).run()
    observations = forcing.iloc[:300].assign(discharge=truth.discharge.to_numpy()[:300])
    future = forcing.iloc[300:]
    twin = FloodTwin(forcing=future, registry=False)  # wrong parameters, no history
    cold_run = twin.run()
    cold = cold_run.discharge.to_numpy()[0]
    twin.assimilate(observations)
    warm_run = twin.run()
    warm = warm_run.discharge.to_numpy()[0]
    actual = truth.discharge.to_numpy()[300]
    assert abs(warm - actual) < abs(cold - actual)
    # provenance tells a run from the assimilated state from one that started cold
    assert cold_run.attrs["state_version"] == ""
    assert warm_run.attrs["state_version"].startswith("sha256:")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"x1": 5000}, ["x1", "5000", "10 to 2500 mm"]),
        ({"x1": float("nan")}, ["x1", "nan"]),
        ({"x4": "slow"}, ["x4", "'slow'"]),
        ({"x9": 1}, ["no parameter 'x9'"]),
        ({"warning_discharge": 500, "danger_discharge": 400}, ["thresholds must rise"]),
    ],
)
def test_bad_parameters_are_named(forcing, change, words):
    with pytest.raises(ParameterError) as raised:
        FloodTwin(forcing=forcing, registry=False).run(**change)
    for word in words:
        assert word in str(raised.value)


def test_malformed_forcing_is_refused_with_the_day(forcing):
    broken = forcing.copy()
    broken.iloc[42, 0] = -1.0
    with pytest.raises(InputError, match=str(forcing.index[42].date())):
        FloodTwin(forcing=broken)
    with pytest.raises(InputError, match="precipitation"):
        FloodTwin(forcing=forcing.drop(columns="precipitation"))


_bounded = {
    name: parameter
    for name, parameter in FloodTwin.param.objects().items()
    if name not in ("name", "seed", "warmup_days") and getattr(parameter, "bounds", None)
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {
            name: st.floats(*parameter.bounds, allow_nan=False)
            for name, parameter in _bounded.items()
        }
    )
)
def test_any_allowed_parameters_give_a_result_without_nan_or_a_clear_error(values):
    twin = FloodTwin(forcing=synthetic_forcing(days=90), registry=False)
    try:
        result = twin.run(**values)
    except ParameterError as e:
        assert "thresholds must rise" in str(e)
        return
    for variable in result.data_vars.values():
        assert not np.isnan(variable).any()


def test_an_assimilated_twin_runs_after_its_parameters_change(forcing):
    twin = FloodTwin(forcing=forcing.iloc[200:], registry=False)
    twin.assimilate(forcing.iloc[:200].assign(discharge=50.0))
    result = twin.run(x4=3.2)  # longer unit hydrographs than the state was reached with
    assert not np.isnan(result.discharge).any()


def test_inherited_parameters_are_named_too(forcing):
    with pytest.raises(ParameterError, match="seed = -1 is not allowed"):
        FloodTwin(forcing=forcing, registry=False).run(seed=-1)
