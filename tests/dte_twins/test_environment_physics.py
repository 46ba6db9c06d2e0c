"""Evapotranspiration, rating curves and skill scores against SCIENCE.md's checked values."""

import numpy as np
import pytest

from dte_twins.environment.evapotranspiration import (
    extraterrestrial_radiation,
    hargreaves_pet,
    oudin_pet,
)
from dte_twins.environment.hydraulics import (
    discharge_from_stage,
    manning_coefficient,
    stage_from_discharge,
)
from dte_twins.statistics import crps_ensemble, kge, nse


def test_fao56_example_8():
    assert extraterrestrial_radiation(-20, 246) == pytest.approx(32.2, abs=0.05)
    assert hargreaves_pet(15, 30, -20, 246) == pytest.approx(4.72, abs=0.01)


def test_oudin_is_zero_below_minus_5_and_grows_with_temperature():
    assert oudin_pet(-6.0, 50.6, 180) == 0.0
    assert oudin_pet(20.0, 50.6, 180) > oudin_pet(10.0, 50.6, 180) > 0


def test_manning_rating_curve():
    a = manning_coefficient(50, 0.001, 0.035)
    assert a == pytest.approx(45.18, abs=0.01)
    assert discharge_from_stage(2.0, a) == pytest.approx(143.4, abs=0.1)
    assert stage_from_discharge(discharge_from_stage(2.0, a), a) == pytest.approx(2.0)


def test_skill_of_the_mean_and_of_a_constant():
    observed = np.random.default_rng(0).gamma(2, 3, 500)
    assert nse(np.full_like(observed, observed.mean()), observed) == pytest.approx(0.0, abs=1e-12)
    assert kge(np.full_like(observed, observed.mean()), observed) == pytest.approx(1 - np.sqrt(2))
    assert nse(observed, observed) == 1.0
    assert kge(observed, observed) == pytest.approx(1.0, abs=1e-12)


def test_crps_of_a_perfect_and_a_spread_ensemble():
    assert crps_ensemble([3.0, 3.0], 3.0) == 0.0
    assert crps_ensemble([0.0, 2.0], 1.0) == pytest.approx(0.5)
