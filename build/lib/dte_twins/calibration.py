"""Calibration of a twin's parameters against observations: differential evolution (Storn &
Price 1997, SciPy) over the parameters' declared bounds, every candidate of a generation
simulated in one vectorised call, started from the twin's current values, seeded by the twin's
seed (the same seed, the same fit).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import differential_evolution

__all__ = ["fit_parameters"]


def fit_parameters(
    twin,
    names: tuple[str, ...],
    loss: Callable[[np.ndarray], np.ndarray],
    generations: int,
    population: int,
) -> dict[str, float]:
    """The values of ``names`` minimising ``loss``; the twin is not changed.

    ``loss`` takes candidates of shape (len(names), S) and returns S losses.
    """
    best = differential_evolution(
        loss,
        [twin.param[name].bounds for name in names],
        vectorized=True,
        maxiter=generations,
        popsize=population,
        seed=twin.seed,
        polish=False,
        tol=1e-6,
        updating="deferred",
        x0=[getattr(twin, name) for name in names],
    )
    return dict(zip(names, map(float, best.x), strict=True))
