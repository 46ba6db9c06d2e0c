"""GR4J against the checked values of SCIENCE.md (section A, tests 1–2)."""

import numpy as np
import pytest

from dte_twins.environment.gr4j import GR4JState, simulate, unit_hydrographs


def test_unit_hydrographs_for_x4_1_7():
    uh1, uh2 = unit_hydrographs(1.7)
    np.testing.assert_allclose(uh1, [0.2654, 0.7346], atol=5e-5)
    np.testing.assert_allclose(uh2, [0.1327, 0.5596, 0.2943, 0.0134], atol=5e-5)


@pytest.mark.parametrize("x4", [0.5, 1.0, 1.7, 2.5, 4.2, 10.0])
def test_unit_hydrographs_sum_to_one(x4):
    uh1, uh2 = unit_hydrographs(x4)
    assert uh1.sum() == pytest.approx(1.0, abs=1e-12)
    assert uh2.sum() == pytest.approx(1.0, abs=1e-12)


def test_water_balance_closes(forcing):
    p, e = forcing.precipitation.to_numpy(), forcing.pet.to_numpy()
    initial = GR4JState.initial(1, 350, 90, 1.7)
    out, final = simulate(p, e, 350, 0.0, 90, 1.7)
    residual = p.sum() - out["actual_et"].sum() - out["discharge"].sum()
    residual -= (final.water() - initial.water())[0]
    assert abs(residual) < 1e-9 * p.sum()


def test_constant_input_reaches_steady_discharge():
    out, _ = simulate(np.full(3000, 5.0), np.full(3000, 1.0), 350, 0, 90, 1.7)
    assert out["discharge"][0, -1] == pytest.approx(4.0, abs=1e-3)


def test_routing_store_empties_as_the_analytic_solution():
    state = GR4JState.initial(1, 350, 90, 1.7)
    state.production[:] = 0.0
    state.routing[:] = 90.0
    out, _ = simulate(np.zeros(3), np.zeros(3), 350, 0, 90, 1.7, state=state)
    expected = [(90.0**-4 + n * 90.0**-4) ** -0.25 for n in (1, 2, 3)]
    np.testing.assert_allclose(out["routing_store"][0], expected, rtol=1e-12)
    np.testing.assert_allclose(expected, [75.68, 68.39, 63.64], atol=5e-3)


def test_more_rain_gives_more_discharge(forcing):
    p, e = forcing.precipitation.to_numpy(), forcing.pet.to_numpy()
    low, _ = simulate(p, e, 350, 0, 90, 1.7)
    high, _ = simulate(p * 1.2, e, 350, 0, 90, 1.7)
    assert np.all(high["discharge"] >= low["discharge"] - 1e-12)
    assert high["discharge"].sum() > low["discharge"].sum()


def test_parameter_sets_run_side_by_side_as_alone(forcing):
    p, e = forcing.precipitation.to_numpy(), forcing.pet.to_numpy()
    alone, _ = simulate(p, e, 420, -0.5, 40, 3.2)
    together, _ = simulate(
        p,
        e,
        np.array([350, 420.0]),
        np.array([0, -0.5]),
        np.array([90, 40.0]),
        np.array([1.7, 3.2]),
    )
    np.testing.assert_array_equal(together["discharge"][1], alone["discharge"][0])


def test_continuing_from_a_state_equals_one_long_run(forcing):
    p, e = forcing.precipitation.to_numpy(), forcing.pet.to_numpy()
    whole, _ = simulate(p, e, 350, 0, 90, 1.7)
    first, state = simulate(p[:200], e[:200], 350, 0, 90, 1.7)
    second, _ = simulate(p[200:], e[200:], 350, 0, 90, 1.7, state=state)
    np.testing.assert_allclose(
        np.concatenate([first["discharge"][0], second["discharge"][0]]), whole["discharge"][0]
    )


@pytest.mark.parametrize("new_x4", [1.1, 3.2])
def test_a_state_continues_under_another_x4_without_losing_water(forcing, new_x4):
    p, e = forcing.precipitation.to_numpy(), forcing.pet.to_numpy()
    _, state = simulate(p[:200], e[:200], 350, 0, 90, 1.7)
    out, final = simulate(p[200:], e[200:], 350, 0, 90, new_x4, state=state)
    residual = p[200:].sum() - out["actual_et"].sum() - out["discharge"].sum()
    residual -= (final.water() - state.water())[0]
    assert abs(residual) < 1e-9 * p.sum()
