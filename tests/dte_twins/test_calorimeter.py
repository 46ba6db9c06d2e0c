"""The calorimeter twin: SCIENCE.md D's checked values, the reference Monte Carlo against its plain
per-event oracle and against physics, the surrogate against the reference, alerts, assimilation,
ensembles and bad input.

Statistical tolerances follow the sample sizes: with N showers the response is known to
σ/(E√N) and the resolution to 1/√(2N) of itself; 1000 showers per energy give about 2.2 % on
each resolution, so two independent samples agree within 10 % at more than 3 standard errors.
"""

import json
import math
from dataclasses import asdict

import numpy as np
import param
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from dte_twins.errors import InputError, ParameterError
from dte_twins.physics import showers
from dte_twins.physics.calorimeter import CalorimeterTwin, fit_resolution, resolution_model
from dte_twins.physics.materials import (
    ELEMENTS,
    MATERIALS,
    SamplingCalorimeter,
    critical_energy_approximation,
    tsai_radiation_length,
)
from dte_twins.physics.shower_surrogate import SurrogateModel, fit_surrogate
from dte_twins.physics.showers import (
    analytic_profile_parameters,
    lateral_cell_fractions,
    lateral_containment,
    longitudinal_fractions,
    profile_density,
    simulate_showers,
)
from tests.dte_twins import reference_calorimeter

DEEP = {"layers": 120}  # 35 X0 of Pb/LAr: leakage below 0.02 % up to 32 GeV
SCAN = {"beam_energy": 32, "lowest_energy": 2, "energy_points": 3, "n_events": 1000}
ONE_ENERGY = {"beam_energy": 5, "energy_points": 1, "n_events": 600, "method": "reference"}


@pytest.fixture(scope="module")
def scan():
    """Reference and surrogate, 1000 electrons at 2, 8 and 32 GeV in a deep Pb/LAr stack."""
    return CalorimeterTwin(registry=False, seed=3, **DEEP).run(method="both", **SCAN)


def reference_samples(result):
    """A ``showers`` input (as a test beam would give) from a run's reference showers."""
    return result.sel(simulator="reference")[["visible_energy", "layer_energy"]]


# --- materials (SCIENCE.md D, test 4) -------------------------------------------------------
@pytest.mark.parametrize(("element", "x0"), [("Pb", 6.370), ("W", 6.763), ("Fe", 13.838)])
def test_tsai_radiation_lengths(element, x0):
    assert tsai_radiation_length(*ELEMENTS[element]) == pytest.approx(x0, abs=5e-4)


def test_compound_radiation_lengths():
    assert MATERIALS["PbWO4"].radiation_length_g == pytest.approx(7.39, abs=0.005)
    # PDG: polystyrene 43.79 g/cm², liquid argon 19.55 g/cm²
    assert MATERIALS["scintillator"].radiation_length_g == pytest.approx(43.79, abs=0.01)
    assert MATERIALS["LAr"].radiation_length_g == pytest.approx(19.55, abs=0.01)


@pytest.mark.parametrize("name", ["Pb", "W", "Fe", "LAr"])
def test_critical_energy_approximation_within_5_percent(name):
    material = MATERIALS[name]
    approximation = critical_energy_approximation(material.mean_z)
    assert approximation == pytest.approx(material.critical_energy, rel=0.05)


@pytest.mark.parametrize(
    ("name", "x0_cm", "moliere_cm"),
    [("Pb", 0.5612, 1.602), ("W", 0.3504, 0.9327), ("Fe", 1.757, 1.719), ("PbWO4", 0.8903, 1.959)],
)
def test_pdg_table(name, x0_cm, moliere_cm):
    material = MATERIALS[name]
    assert material.radiation_length_cm == pytest.approx(x0_cm, rel=0.002)
    assert material.moliere_radius_cm == pytest.approx(moliere_cm, rel=0.002)


def test_sampling_fraction_from_mip_losses():
    stack = SamplingCalorimeter("Pb", "LAr", 1.5, 4.0, 80)
    lead, argon = 1.122 * 11.35 * 0.15, 1.508 * 1.396 * 0.40
    assert stack.sampling_fraction == pytest.approx(argon / (lead + argon))
    assert stack.cell_depth == pytest.approx(0.15 / 0.5612 + 0.4 / 14.0, rel=0.002)
    assert stack.depth == pytest.approx(80 * stack.cell_depth)
    # the effective medium lies between its components
    assert (
        MATERIALS["Pb"].critical_energy < stack.critical_energy < MATERIALS["LAr"].critical_energy
    )


# --- profiles (SCIENCE.md D, tests 1 and 2) -------------------------------------------------
def test_profile_integrates_to_the_energy():
    a, b, _ = analytic_profile_parameters(10.0, 7.43)
    integral, _ = quad(profile_density, 0, np.inf, args=(10.0, float(a), b))
    assert integral == pytest.approx(10.0, rel=1e-8)


def test_shower_maximum_moves_by_ln2_when_energy_doubles():
    _, _, tmax = analytic_profile_parameters(np.array([10.0, 20.0]), 7.43)
    assert tmax[1] - tmax[0] == pytest.approx(math.log(2))
    _, _, photon = analytic_profile_parameters(10.0, 7.43, "photon")
    assert photon - tmax[0] == pytest.approx(1.0)


def test_10_gev_electron_in_lead():
    a, b, tmax = analytic_profile_parameters(10.0, MATERIALS["Pb"].critical_energy)
    assert tmax == pytest.approx(6.70, abs=0.005)
    assert a == pytest.approx(4.35, abs=0.005)
    assert longitudinal_fractions([0, 25], a, b)[0] == pytest.approx(0.9975, abs=5e-5)
    depths = np.linspace(0.01, 20, 2000)
    peak = depths[np.argmax(profile_density(depths, 10.0, float(a), b))]
    assert peak == pytest.approx(tmax, abs=0.01)


def test_lateral_profile_holds_90_and_99_percent():
    assert lateral_containment([1.0, 3.5]) == pytest.approx([0.90, 0.99], abs=1e-9)
    wide = lateral_cell_fractions(np.linspace(-2000, 2000, 41))
    assert wide.sum() == pytest.approx(1.0, abs=1e-3)
    one_cell = lateral_cell_fractions([-0.1, 0.1])
    radius = math.sqrt(0.04 / math.pi)  # a disc of the cell's area holds about as much
    assert one_cell[0, 0] == pytest.approx(lateral_containment(radius), rel=0.05)


# --- resolution (SCIENCE.md D, test 3) ------------------------------------------------------
def test_stochastic_term_alone_scales_as_one_over_root_e():
    energies = np.array([1.0, 4.0, 25.0, 100.0])
    assert resolution_model(energies, 0.1) * np.sqrt(energies) == pytest.approx(0.1)
    assert resolution_model(100.0, 0.10, 0.0, 0.0017) == pytest.approx(0.0101, abs=5e-5)


def test_resolution_fit_recovers_its_terms():
    energies = np.geomspace(1, 200, 8)
    exact = resolution_model(energies, 0.1, 0.3, 0.007)
    errors = exact / 50
    assert fit_resolution(energies, exact, errors, fit_noise=True) == pytest.approx(
        (0.1, 0.3, 0.007), rel=1e-6
    )
    a, b, c = fit_resolution(energies, exact, errors, noise=0.3)
    assert (a, b, c) == pytest.approx((0.1, 0.3, 0.007), rel=1e-6)
    a, _, _ = fit_resolution([50.0], [0.02], [0.001], constant=0.01)
    assert a == pytest.approx(math.sqrt((0.02**2 - 0.01**2) * 50))


# --- the kernel against its per-event oracle -------------------------------------------------
@pytest.mark.parametrize(
    ("stack", "energy", "events", "particle"),
    [
        (SamplingCalorimeter("Pb", "LAr", 1.5, 4.0, 80), 10.0, 12, "electron"),
        (SamplingCalorimeter("Fe", "scintillator", 10.0, 5.0, 30), 3.0, 40, "photon"),
    ],
)
def test_vectorised_showers_match_the_per_event_reference(stack, energy, events, particle):
    fast = simulate_showers(energy, stack, events, np.random.default_rng(5), particle)
    plain = reference_calorimeter.simulate_showers(
        energy, stack, events, np.random.default_rng(5), particle
    )
    for field in ("tmax", "alpha", "leakage"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(plain, field))
    for field in ("layer_energy", "radial_energy", "lateral_map"):
        np.testing.assert_allclose(getattr(fast, field), getattr(plain, field), rtol=1e-10)
    assert fast.layer_energy.sum() > 0


def test_chunked_kernel_equals_one_pass(monkeypatch):
    stack = SamplingCalorimeter()
    whole = simulate_showers(5.0, stack, 30, np.random.default_rng(9))
    monkeypatch.setattr(showers, "_HITS_PER_CHUNK", 5000)  # about four events per chunk
    pieces = simulate_showers(5.0, stack, 30, np.random.default_rng(9))
    np.testing.assert_allclose(pieces.layer_energy, whole.layer_energy, rtol=1e-12)
    np.testing.assert_allclose(pieces.lateral_map, whole.lateral_map, rtol=1e-12)


# --- the reference Monte Carlo against physics ------------------------------------------------
def test_mean_active_energy_is_f_times_e0(scan):
    f = scan.attrs["sampling_fraction"]
    visible = scan.visible_energy.sel(simulator="reference")
    n = visible.sizes["event"]
    spread = visible.std("event") / math.sqrt(n)
    assert (abs(visible.mean("event") - f * scan.energy) < 3 * spread).all()
    # the analytic mean profile holds the whole energy, what lies beyond the stack included
    a, b, _ = analytic_profile_parameters(scan.energy.to_numpy(), scan.attrs["critical_energy_MeV"])
    beyond = scan.energy * longitudinal_fractions([scan.attrs["depth_X0"], np.inf], a, b)[:, 0]
    total = scan.analytic_profile.sum("layer") + beyond
    np.testing.assert_allclose(total, scan.energy, rtol=1e-12)


def test_stochastic_term_emerges_from_hit_counting(scan):
    reference = scan.sel(simulator="reference")
    scaled = reference.resolution * np.sqrt(reference.energy)  # constant if only a is on
    expected = math.sqrt(2 * scan.attrs["energy_per_crossing_MeV"] / 1000)
    assert scaled.to_numpy() == pytest.approx(expected, rel=0.07)  # 3 × 2.2 % statistics


def test_resolution_close_to_the_rule_of_thumb(scan):
    """PDG: a ≈ 2.7 %·√(d/f); we hold Pb stacks to 25 % (Fe ones come out about 20 % lower)."""
    a = scan.stochastic_term.sel(simulator="reference").item()
    assert a == pytest.approx(scan.attrs["rule_of_thumb_stochastic_term"], rel=0.25)
    stack = {"active_medium": "scintillator", "absorber_thickness": 1.0, "active_thickness": 2.5}
    scintillator = CalorimeterTwin(registry=False, layers=150, **stack).run(**ONE_ENERGY)
    rule = scintillator.attrs["rule_of_thumb_stochastic_term"]
    assert scintillator.stochastic_term.item() == pytest.approx(rule, rel=0.25)


def test_lateral_containment_of_the_hits(scan):
    containment = scan.lateral_containment.sel(simulator="reference")
    assert containment.sel(radius=1.0).to_numpy() == pytest.approx(0.90, abs=0.01)
    assert containment.sel(radius=3.5).to_numpy() == pytest.approx(0.99, abs=0.005)
    heat = scan.lateral_map.sel(simulator="reference", energy=32)
    centre_x = float((heat * heat.x).sum() / heat.sum())
    assert abs(centre_x) < 0.05 * scan.attrs["moliere_radius_cm"]


def test_mean_profile_follows_the_analytic_curve(scan):
    profile = scan.mean_profile.sel(simulator="reference")
    peak = scan.depth.to_numpy()[profile.argmax("layer").to_numpy()]
    assert peak == pytest.approx(scan.analytic_tmax.to_numpy(), abs=1.0)
    assert (np.diff(peak) > 0).all()


def test_more_energy_gives_more_visible_energy(scan):
    for simulator in ("reference", "fast"):
        mean = scan.visible_energy.sel(simulator=simulator).mean("event")
        assert (mean.diff("energy") > 0).all()


def test_thicker_absorber_worsens_the_resolution():
    twin = CalorimeterTwin(registry=False, layers=400)
    thin, thick = (
        twin.run(absorber_thickness=d, **ONE_ENERGY).resolution.item() for d in (1.5, 3.0)
    )
    assert thick > 1.15 * thin  # √(ε ratio) = 1.30 expected, 2.9 % statistics each


# --- the surrogate -----------------------------------------------------------------------------
def test_surrogate_reproduces_the_reference(scan):
    assert abs(scan.response_difference).max() < 0.01
    assert abs(scan.resolution_difference).max() < 0.10
    assert "speed_up" in scan.attrs and scan.attrs["speed_up"] > 0
    assert scan.attrs["reference_seconds"] > 0 and scan.attrs["fast_seconds"] > 0


def test_fit_on_reference_showers_recovers_the_physics(scan):
    stack = SamplingCalorimeter(layers=DEEP["layers"])
    model = fit_surrogate(reference_samples(scan), stack)
    assert model.response_scale == pytest.approx(1.0, abs=0.01)
    assert model.stochastic_scale == pytest.approx(math.sqrt(2), rel=0.10)
    assert abs(model.log_tmax_offset) < 0.05 and abs(model.log_alpha_offset) < 0.05


def test_fast_is_the_fast_half_of_both(scan):
    fast = CalorimeterTwin(registry=False, seed=3, **DEEP).run(method="fast", **SCAN)
    xr.testing.assert_identical(
        fast.visible_energy.sel(simulator="fast"), scan.visible_energy.sel(simulator="fast")
    )


# --- the twin ----------------------------------------------------------------------------------
def test_run_returns_a_dataset_with_units_and_provenance(registry):
    twin = CalorimeterTwin(registry=registry, seed=7)
    result = twin.run(n_events=50)
    assert result.sizes["energy"] == 5 and result.sizes["event"] == 50
    assert result.response.attrs["units"] == "1"
    assert result.visible_energy.attrs["units"] == "GeV"
    assert result.x.attrs["units"] == "cm"
    for variable in result.data_vars.values():
        assert "units" in variable.attrs
        assert not np.isnan(variable).any()
    assert json.loads(result.attrs["parameters"])["n_events"] == 50
    assert twin.n_events == 200
    (record,) = registry.runs("CalorimeterTwin")
    assert record.run_id == result.attrs["run_id"]
    again = CalorimeterTwin(registry=False, seed=7).run(n_events=50)
    xr.testing.assert_identical(result.drop_attrs(), again.drop_attrs())


def test_readout_noise_and_constant_term_are_fitted_back():
    result = CalorimeterTwin(registry=False, seed=1, layers=150).run(
        n_events=4000, noise=0.3, constant_term=0.02, energy_points=6, beam_energy=200
    )
    assert result.noise_term.item() == 0.3
    assert result.constant_term.item() == pytest.approx(0.02, abs=0.003)
    assert result.stochastic_term.item() == pytest.approx(math.sqrt(2 * 4.474e-3), rel=0.1)


def test_ensemble_is_identical_in_process_and_on_two_workers(
    scan, in_process_client, two_worker_client
):
    # The surrogate fitted on the showers input once travels to the workers with the members.
    twin = CalorimeterTwin(
        registry=False, seed=11, n_events=100, energy_points=3, showers=reference_samples(scan)
    )
    here = twin.ensemble(4, client=in_process_client)
    there = twin.ensemble(4, client=two_worker_client)
    xr.testing.assert_identical(here.drop_attrs(), there.drop_attrs())
    assert here.sizes["member"] == 4 and "event" not in here.dims
    assert here.stochastic_term.std("member").item() > 0  # independent samples
    q = here.stochastic_term_quantile
    assert (q.sel(quantile=0.05) <= q.sel(quantile=0.95)).all()
    assert "mean_leakage_above_0.02" in here
    assert isinstance(twin.alerts(here), list)


def test_ensemble_without_the_showers_input(in_process_client):
    # No input to scatter: members run the default surrogate (once crashed in Twin.ensemble).
    twin = CalorimeterTwin(registry=False, seed=4, n_events=40, energy_points=2, beam_energy=8)
    assert not twin.has_input("showers")
    ensemble = twin.ensemble(3, client=in_process_client)
    assert ensemble.sizes["member"] == 3 and "event" not in ensemble.dims
    assert ensemble.stochastic_term.std("member").item() > 0
    for variable in ensemble.data_vars.values():
        assert not np.isnan(variable).any()


def test_leakage_alert():
    twin = CalorimeterTwin(registry=False, layers=20, n_events=50)
    result = twin.run()  # 5.9 X0 of Pb/LAr
    alerts = twin.alerts(result)
    assert alerts and {a.level for a in alerts} == {"warning"}
    assert all("leak out of the back" in a.message for a in alerts)
    assert any("100 GeV" in a.where for a in alerts)
    deep = CalorimeterTwin(registry=False, n_events=50)
    assert not deep.alerts(deep.run(beam_energy=10))


def test_disagreeing_surrogate_raises_an_alert():
    twin = CalorimeterTwin(registry=False, n_events=300, energy_points=2, beam_energy=10)
    twin._state = {"surrogate": asdict(SurrogateModel(response_scale=0.95))}
    result = twin.run(method="both")
    alerts = twin.alerts(result)
    assert any("surrogate response differs" in a.message for a in alerts)
    assert not any("resolution" in a.message for a in alerts)


def test_assimilation_follows_the_physical_detector(scan):
    # The "physical" detector sees 90 % of the mip-calibrated signal and has a 3 % constant term.
    truth = reference_samples(scan)
    rng = np.random.default_rng(0)
    smear = 0.9 * (1 + 0.03 * rng.standard_normal(truth.visible_energy.shape))
    observed = truth.assign(
        visible_energy=truth.visible_energy * smear,
        layer_energy=truth.layer_energy * smear[..., None],
    )
    twin = CalorimeterTwin(registry=False, **DEEP, **SCAN)
    cold = twin.run()
    model = twin.assimilate(observed)
    assert model.response_scale == pytest.approx(0.9, abs=0.01)
    assert model.extra_constant == pytest.approx(0.03, abs=0.006)
    warm = twin.run()
    assert warm.response.to_numpy() == pytest.approx(0.9, abs=0.01)
    assert cold.response.to_numpy() == pytest.approx(1.0, abs=0.01)
    assert warm.constant_term.item() > cold.constant_term.item() + 0.02
    # given as the input instead, the twin fits the same surrogate
    given_input = CalorimeterTwin(registry=False, showers=observed, **DEEP)
    assert given_input.surrogate() == model


# --- bad parameters and input -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"absorber_thickness": 100}, ["absorber_thickness", "100", "0.5 to 50 mm"]),
        ({"beam_energy": float("nan")}, ["beam_energy", "nan"]),
        ({"layers": "many"}, ["layers", "'many'"]),
        ({"layers": 2.5}, ["layers", "2.5"]),
        ({"absorber": "Cu"}, ["absorber", "'Cu'", "'Pb'"]),
        ({"method": "guess"}, ["method", "'guess'", "'both'"]),
        ({"n_events": 1}, ["n_events", "1", "2 to 100000"]),
        ({"volume": 1}, ["no parameter 'volume'"]),
        ({"lowest_energy": 200}, ["lowest_energy = 200", "beam_energy = 100"]),
        ({"layers": 10}, ["layers = 10", "X0 deep", "at least 5"]),
        ({"absorber_thickness": 50, "layers": 10}, ["absorber_thickness = 50", "too coarse"]),
        ({"method": "reference", "n_events": 100000}, ["n_events = 100000", "'reference'"]),
    ],
)
def test_bad_parameters_are_named(change, words):
    with pytest.raises(ParameterError) as raised:
        CalorimeterTwin(registry=False).run(**change)
    for word in words:
        assert word in str(raised.value)


def _showers(values):
    return xr.Dataset(
        {"visible_energy": (("energy", "event"), values)}, coords={"energy": [2.0, 8.0]}
    )


def test_malformed_showers_are_refused():
    good = np.ones((2, 5))
    with pytest.raises(InputError, match="xarray.Dataset"):
        CalorimeterTwin(showers=good)
    with pytest.raises(InputError, match="'visible_energy'"):
        CalorimeterTwin(showers=_showers(good).rename(visible_energy="energy_sum"))
    broken = good.copy()
    broken[1, 3] = -0.5
    with pytest.raises(InputError, match="energy = 8 GeV, event 3"):
        CalorimeterTwin(showers=_showers(broken))
    with pytest.raises(InputError, match="dims"):
        CalorimeterTwin(showers=_showers(good).rename(event="shot"))
    with pytest.raises(InputError, match="'absorber' = 'Cu'.*'Pb'"):
        CalorimeterTwin(showers=_showers(good).assign_attrs(absorber="Cu"))
    with pytest.raises(InputError, match="'active_thickness' = 'thin'.*0.5 to 50 mm"):
        CalorimeterTwin(showers=_showers(good).assign_attrs(active_thickness="thin"))
    with pytest.raises(InputError, match="at least 2 events"):
        CalorimeterTwin(showers=_showers(good[:, :1]))
    with pytest.raises(InputError, match="'layer_energy'"):
        CalorimeterTwin(showers=_showers(good).assign(layer_energy=(("energy", "event"), good)))


def _strategy(name, parameter):
    if name == "n_events":
        return st.integers(2, 4)  # the whole space, but few showers each
    if isinstance(parameter, param.Selector):
        return st.sampled_from(parameter.objects)
    if isinstance(parameter, param.Integer):
        return st.integers(*parameter.bounds)
    return st.floats(*parameter.bounds, allow_nan=False)


_declared = {
    name: _strategy(name, parameter)
    for name, parameter in CalorimeterTwin.param.objects().items()
    if name not in ("name", "seed")
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries(_declared))
def test_any_allowed_parameters_give_a_result_without_nan_or_a_clear_error(values):
    # Ordered, so that most scans run; reversed ones are the scan error tested above.
    values["lowest_energy"], values["beam_energy"] = sorted(
        (values["lowest_energy"], values["beam_energy"])
    )
    try:
        result = CalorimeterTwin(registry=False).run(**values)
    except ParameterError as e:
        assert any(w in str(e) for w in ("lowest_energy", "X0 deep", "too coarse", "hits"))
        return
    for variable in result.data_vars.values():
        assert not np.isnan(variable).any()
