"""The fast shower surrogate: showers drawn from a fitted parametrisation instead of hits, and its
fit on reference or test-beam showers. Shapes and the reference Monte Carlo it stands in for are
in ``showers``.

Per event the surrogate draws (ln T, ln α) from GFLASH's correlated normals (``showers``), with
the means shifted by fitted offsets δ_T, δ_α; the contained share C = P(α, b·depth), P the
regularised lower incomplete gamma function and b = (α − 1)/T; and the visible energy from a gamma
distribution with

    mean = r · f · E · C,    variance = s² · f ε · mean + n² + c² · mean²,

f the sampling fraction and ε the energy per active-layer crossing (GeV). Layer energies follow
the event's longitudinal fractions, the lateral spread the analytic core-plus-tail shape, so the
outputs match the reference's ``ShowerSample``. Defaults are what the reference physics implies:
r = 1, s = √2 (compound Poisson sum of exponential hits), n = c = 0, no offsets.

``fit_surrogate`` fits it on shower samples:
1. δ_T, δ_α by least squares on the mean longitudinal profile (share of the contained energy per
   layer, averaged over showers on a Gauss–Hermite grid of the profile fluctuations), when the
   samples have ``layer_energy`` for every layer of the stack;
2. r by least squares on the mean visible energies, weighted by N/variance, against
   f · E · ⟨C⟩;
3. s², n², c² by non-negative least squares on the variances, each weighted by its error
   var·√(2/(N − 1)), once the leakage spread (r f E)² · var(C) is taken out; with fewer than three
   energies s² alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr
from scipy.optimize import least_squares, nnls
from scipy.special import gammainc

from dte_twins.physics.materials import SamplingCalorimeter
from dte_twins.physics.showers import (
    CONTAINMENT_RADII,
    STOCHASTIC_SCALE,
    ProfileFluctuations,
    ShowerSample,
    gflash_fluctuations,
    lateral_cell_fractions,
    lateral_containment,
    longitudinal_fractions,
    map_edges_rm,
    profile_parameters,
)

__all__ = ["SurrogateModel", "surrogate_showers", "fit_surrogate"]


@dataclass(frozen=True)
class SurrogateModel:
    """Coefficients of the surrogate; the defaults are what the reference physics implies.

    mean visible energy = response_scale · f · E · containment; variance = stochastic_scale² ·
    f ε · mean + extra_noise² + extra_constant² · mean²; profile means shifted by the offsets.
    """

    response_scale: float = 1.0
    stochastic_scale: float = STOCHASTIC_SCALE
    extra_noise: float = 0.0  # GeV of visible energy
    extra_constant: float = 0.0
    log_tmax_offset: float = 0.0
    log_alpha_offset: float = 0.0

    def fluctuations(self, energy, calorimeter, particle) -> ProfileFluctuations:
        base = gflash_fluctuations(
            energy, calorimeter.critical_energy, calorimeter.mean_z, particle
        )
        return replace(
            base,
            mean_log_tmax=base.mean_log_tmax + self.log_tmax_offset,
            mean_log_alpha=base.mean_log_alpha + self.log_alpha_offset,
        )


def _visible_spread(model: SurrogateModel, calorimeter: SamplingCalorimeter, mean):
    crossing_visible = calorimeter.sampling_fraction * calorimeter.energy_per_crossing / 1000
    return (
        model.stochastic_scale**2 * crossing_visible * mean
        + model.extra_noise**2
        + (model.extra_constant * mean) ** 2
    )


def surrogate_showers(
    beam_energy: float,
    calorimeter: SamplingCalorimeter,
    n_events: int,
    rng: np.random.Generator,
    particle: str = "electron",
    model: SurrogateModel | None = None,
) -> ShowerSample:
    """Showers drawn from the fitted parametrisation: no hits, same outputs as the reference."""
    model = model or SurrogateModel()
    edges = calorimeter.layer_edges
    t, a, b = profile_parameters(
        rng.standard_normal((n_events, 2)), model.fluctuations(beam_energy, calorimeter, particle)
    )
    fractions = longitudinal_fractions(edges, a, b)
    contained = np.maximum(fractions.sum(axis=1), 1e-12)
    mean = model.response_scale * calorimeter.sampling_fraction * beam_energy * contained
    variance = np.maximum(_visible_spread(model, calorimeter, mean), (1e-9 * mean) ** 2)
    visible = rng.gamma(mean * mean / variance, variance / mean)
    lateral = lateral_cell_fractions(map_edges_rm())
    return ShowerSample(
        layer_energy=visible[:, None] * fractions / contained[:, None],
        radial_energy=visible[:, None] * lateral_containment(CONTAINMENT_RADII)[None, :],
        lateral_map=visible.sum() * lateral,
        leakage=1 - gammainc(a, b * edges[-1]),
        tmax=t,
        alpha=a,
    )


def _gauss_hermite_showers(fluctuations: ProfileFluctuations, nodes: int):
    """(T, α, b) on a tensor grid of Gauss–Hermite nodes, with the grid's weights."""
    z, weights = np.polynomial.hermite_e.hermegauss(nodes)
    weights = weights / weights.sum()
    normals = np.stack(np.broadcast_arrays(z[:, None], z[None, :]), axis=-1)
    _, a, b = profile_parameters(normals, fluctuations)
    return a, b, weights[:, None] * weights[None, :]


def _containment_moments(fluctuations: ProfileFluctuations, depth: float, nodes: int = 24):
    """Mean and variance over showers of the contained share P(α, b·depth)."""
    a, b, w = _gauss_hermite_showers(fluctuations, nodes)
    contained = gammainc(a, b * depth)
    mean = float(np.sum(w * contained))
    return mean, float(np.sum(w * (contained - mean) ** 2))


def _mean_shape(model, energy, calorimeter, particle, nodes: int = 12) -> np.ndarray:
    """Expected share of the contained energy in each layer, averaged over showers."""
    a, b, w = _gauss_hermite_showers(model.fluctuations(energy, calorimeter, particle), nodes)
    mean = np.einsum("ij,ijl->l", w, longitudinal_fractions(calorimeter.layer_edges, a, b))
    return mean / mean.sum()


def _profile_offsets(samples, calorimeter, particle) -> tuple[float, float]:
    """Shifts of ⟨ln T⟩ and ⟨ln α⟩ that make the mean profile match the samples' (least squares)."""
    energies = samples["energy"].to_numpy().astype(float)
    layers = samples["layer_energy"].transpose("energy", "event", "layer").to_numpy()
    observed = layers.mean(axis=1) / np.maximum(layers.sum(axis=2).mean(axis=1), 1e-30)[:, None]

    def mismatch(offsets):
        model = SurrogateModel(log_tmax_offset=offsets[0], log_alpha_offset=offsets[1])
        expected = [_mean_shape(model, e, calorimeter, particle) for e in energies]
        return (np.array(expected) - observed).ravel()

    fitted = least_squares(mismatch, x0=[0.0, 0.0], bounds=([-1.0, -1.0], [1.0, 1.0]))
    return float(fitted.x[0]), float(fitted.x[1])


def fit_surrogate(
    samples: xr.Dataset, calorimeter: SamplingCalorimeter, particle: str = "electron"
) -> SurrogateModel:
    """Fit the surrogate to shower samples of ``calorimeter``.

    ``samples`` has a coordinate ``energy`` (GeV) and ``visible_energy`` (energy, event) in GeV;
    with ``layer_energy`` (energy, event, layer) the profile offsets are fitted too. Response
    by weighted least squares on the means; with three or more energies, s², n², c² by
    non-negative least squares on the variances, else s² alone.
    """
    offsets = (0.0, 0.0)
    if "layer_energy" in samples and samples.sizes.get("layer") == calorimeter.layers:
        offsets = _profile_offsets(samples, calorimeter, particle)
    model = SurrogateModel(log_tmax_offset=offsets[0], log_alpha_offset=offsets[1])
    energies = samples["energy"].to_numpy().astype(float)
    visible = samples["visible_energy"].transpose("energy", "event").to_numpy()
    n = visible.shape[1]
    means, variances = visible.mean(axis=1), visible.var(axis=1, ddof=1)
    moments = [
        _containment_moments(model.fluctuations(e, calorimeter, particle), calorimeter.depth)
        for e in energies
    ]
    expected = calorimeter.sampling_fraction * energies * np.array([m for m, _ in moments])
    mean_weights = n / np.maximum(variances, 1e-30)
    response = float(np.sum(mean_weights * means * expected) / np.sum(mean_weights * expected**2))

    contained_variance = np.array([v for _, v in moments])
    leakage_spread = (response * calorimeter.sampling_fraction * energies) ** 2
    sampling_variance = variances - leakage_spread * contained_variance
    crossing_visible = calorimeter.sampling_fraction * calorimeter.energy_per_crossing / 1000
    errors = np.maximum(variances * math.sqrt(2 / (n - 1)), 1e-30)
    columns = np.stack([crossing_visible * means, np.ones_like(means), means**2], axis=1)
    if len(energies) < 3:
        columns = columns[:, :1]
    squares, _ = nnls(columns / errors[:, None], sampling_variance / errors)
    squares = np.concatenate([squares, np.zeros(3 - squares.size)])
    stochastic, noise, constant = np.sqrt(squares)
    return replace(
        model,
        response_scale=response,
        stochastic_scale=float(stochastic),
        extra_noise=float(noise),
        extra_constant=float(constant),
    )
