"""Electromagnetic showers in a sampling calorimeter: the shower shapes (longitudinal profile and
its fluctuations, lateral profile) and a hit-level reference Monte Carlo built on them.

Longitudinal profile (PDG RPP "Passage of particles through matter"; Longo & Sestili 1975), t in
radiation lengths:

    dE/dt = E0 · b (b t)^(a−1) e^(−b t) / Γ(a),   t_max = (a − 1)/b = ln(E0/E_c) + C,

C = −0.5 for electrons and +0.5 for photons, b ≈ 0.5. The energy in [t1, t2] is
E0 [P(a, b t2) − P(a, b t1)] with P the regularised lower incomplete gamma function.

Shower-to-shower fluctuations (GFLASH, Grindhammer & Peters, hep-ex/0001020), y = E0/E_c, Z the
mass-weighted atomic number: ln T and ln α are correlated normals with

    ⟨ln T⟩ = ln(ln y − 0.812),           σ_lnT = 1/(−1.4 + 1.26 ln y),
    ⟨ln α⟩ = ln(0.81 + (0.458 + 2.26/Z) ln y),   σ_lnα = 1/(−0.58 + 0.86 ln y),
    ρ = 0.705 − 0.023 ln y,

T = t_max, α = a, b = (α − 1)/T. Photons start their shower about one X0 later (C_γ − C_e = 1), so
their ⟨ln T⟩ uses ln y − 0.812 + 1. Draws with α < 1.1 are set to 1.1 so every profile peaks.

Lateral profile: a core and a tail, each holding the fraction r²/(r² + R²) within r; with
R_core = 0.2 R_M the core share p and R_tail are solved so that 90 % of the energy lies within
1 R_M and 99 % within 3.5 R_M (PDG).

Reference Monte Carlo, per event:
1. draw (ln T, ln α) as above and deposit E0 [P(α, b t_{l+1}) − P(α, b t_l)] in cell l; what lies
   beyond the last cell leaks;
2. the energy of cell l is carried by N_l ~ Poisson(E_l/ε) crossings of the active layer, ε the
   energy per crossing (``SamplingCalorimeter.energy_per_crossing``);
3. every crossing is a hit: it leaves an exponentially distributed energy of mean f·ε in the
   active layer (path length d/cos θ over the broad angular spread of soft electrons, ranging
   out and Landau tails: a relative spread of about 1) at radius r = R √(u/(1−u)) from the axis
   (R the core or tail radius) and a uniform azimuth.

So the visible energy is a compound Poisson sum with mean f·E and variance 2 f² ε E: the stochastic
term a = √(2 ε[GeV]) emerges from counting hits, it is not put in by hand.

Depths are in radiation lengths of the stack (its effective medium sets E_c and Z), radii in its
effective Molière radius; the lateral shape is taken the same at every depth.

The fast surrogate fitted on these showers is in ``shower_surrogate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammainc

from dte_twins.physics.materials import SamplingCalorimeter

__all__ = [
    "PARTICLES",
    "CONTAINMENT_RADII",
    "MAP_CELLS",
    "MAP_CELL_WIDTH",
    "analytic_profile_parameters",
    "profile_density",
    "longitudinal_fractions",
    "ProfileFluctuations",
    "gflash_fluctuations",
    "profile_parameters",
    "lateral_containment",
    "lateral_cell_fractions",
    "map_edges_rm",
    "ShowerSample",
    "simulate_showers",
    "STOCHASTIC_SCALE",
]

PARTICLES = ("electron", "photon")
_SHOWER_START = {"electron": -0.5, "photon": 0.5}  # PDG's C in t_max = ln y + C
PROFILE_SLOPE = 0.5  # PDG's b
ALPHA_FLOOR = 1.1

CORE_RADIUS = 0.2  # R_M
CONTAINMENT_RADII = (0.5, 1.0, 2.0, 3.5)  # R_M
MAP_CELLS = 21  # the lateral map is MAP_CELLS × MAP_CELLS cells centred on the shower axis
MAP_CELL_WIDTH = 0.5  # R_M
#: Exponential hit energies: variance of the compound Poisson sum is 2 f² ε E.
STOCHASTIC_SCALE = math.sqrt(2.0)
_HITS_PER_CHUNK = 1_000_000  # bounds the memory of one vectorised step


def _single_fraction(radius: float, width: float) -> float:
    return radius * radius / (radius * radius + width * width)


def _core_and_tail() -> tuple[float, float]:
    """Core share p and tail radius that put 90 % within 1 R_M and 99 % within 3.5 R_M."""

    def core_share(tail):
        inner_tail = _single_fraction(1.0, tail)
        return (0.90 - inner_tail) / (_single_fraction(1.0, CORE_RADIUS) - inner_tail)

    def outer_miss(tail):
        p = core_share(tail)
        outer = p * _single_fraction(3.5, CORE_RADIUS) + (1 - p) * _single_fraction(3.5, tail)
        return outer - 0.99

    tail = brentq(outer_miss, 0.3, 1.0)
    return core_share(tail), tail


CORE_FRACTION, TAIL_RADIUS = _core_and_tail()


# --- longitudinal profile --------------------------------------------------------------------
def analytic_profile_parameters(energy_gev, critical_energy_mev: float, particle="electron"):
    """PDG's mean profile: (a, b, t_max) with t_max = ln(E0/E_c) + C and b = 0.5."""
    tmax = np.log(np.asarray(energy_gev, float) * 1000 / critical_energy_mev)
    tmax = tmax + _SHOWER_START[particle]
    return 1 + PROFILE_SLOPE * tmax, PROFILE_SLOPE, tmax


def profile_density(t, energy, a, b):
    """dE/dt of the gamma profile, energy per radiation length."""
    t = np.asarray(t, float)
    log_density = (a - 1) * np.log(b * t) - b * t - math.lgamma(a)
    return energy * b * np.exp(log_density)


def longitudinal_fractions(edges, alpha, beta):
    """Share of the energy between consecutive depths ``edges`` (X0); shape (..., len(edges)−1)."""
    alpha, beta = np.asarray(alpha, float)[..., None], np.asarray(beta, float)[..., None]
    return np.diff(gammainc(alpha, beta * np.asarray(edges, float)), axis=-1)


@dataclass(frozen=True)
class ProfileFluctuations:
    """Means, spreads and correlation of (ln T, ln α) at one energy."""

    mean_log_tmax: float
    mean_log_alpha: float
    sigma_log_tmax: float
    sigma_log_alpha: float
    correlation: float


def gflash_fluctuations(
    energy_gev: float, critical_energy_mev: float, z: float, particle: str = "electron"
) -> ProfileFluctuations:
    """GFLASH's parametrisation of the profile fluctuations (homogeneous medium)."""
    log_y = math.log(energy_gev * 1000 / critical_energy_mev)
    photon_delay = _SHOWER_START[particle] - _SHOWER_START["electron"]
    return ProfileFluctuations(
        mean_log_tmax=math.log(log_y - 0.812 + photon_delay),
        mean_log_alpha=math.log(0.81 + (0.458 + 2.26 / z) * log_y),
        sigma_log_tmax=1 / (-1.4 + 1.26 * log_y),
        sigma_log_alpha=1 / (-0.58 + 0.86 * log_y),
        correlation=0.705 - 0.023 * log_y,
    )


def profile_parameters(normals, fluctuations: ProfileFluctuations):
    """(T, α, b) per event from pairs of independent standard normals, shape (..., 2)."""
    normals = np.asarray(normals, float)
    f = fluctuations
    rho = f.correlation
    log_tmax = f.mean_log_tmax + f.sigma_log_tmax * normals[..., 0]
    log_alpha = f.mean_log_alpha + f.sigma_log_alpha * (
        rho * normals[..., 0] + math.sqrt(1 - rho * rho) * normals[..., 1]
    )
    tmax, alpha = np.exp(log_tmax), np.maximum(np.exp(log_alpha), ALPHA_FLOOR)
    return tmax, alpha, (alpha - 1) / tmax


# --- lateral profile -------------------------------------------------------------------------
def lateral_containment(radius_rm):
    """Share of the energy within ``radius_rm`` Molière radii of the axis."""
    r = np.asarray(radius_rm, float)
    return CORE_FRACTION * _single_fraction(r, CORE_RADIUS) + (1 - CORE_FRACTION) * (
        _single_fraction(r, TAIL_RADIUS)
    )


def _quadrant_share(x, y, width):
    """∫₀ˣ∫₀ʸ of the density R²/(π(r²+R²)²) of one component (odd in x and in y)."""
    a, b = np.sqrt(x * x + width * width), np.sqrt(y * y + width * width)
    return (x / a * np.arctan(y / a) + y / b * np.arctan(x / b)) / (2 * np.pi)


def lateral_cell_fractions(edges_rm) -> np.ndarray:
    """Share of the energy in each square cell of a grid with ``edges_rm`` (R_M) on both axes."""
    edges = np.asarray(edges_rm, float)
    x, y = edges[None, :], edges[:, None]
    shares = 0.0
    for weight, width in ((CORE_FRACTION, CORE_RADIUS), (1 - CORE_FRACTION, TAIL_RADIUS)):
        corner = _quadrant_share(x, y, width)
        cells = corner[1:, 1:] - corner[:-1, 1:] - corner[1:, :-1] + corner[:-1, :-1]
        shares = shares + weight * cells
    return shares  # (y cell, x cell)


def map_edges_rm() -> np.ndarray:
    """Cell edges of the lateral map on either axis, in Molière radii from the shower axis."""
    half = MAP_CELLS * MAP_CELL_WIDTH / 2
    return np.linspace(-half, half, MAP_CELLS + 1)


# --- reference Monte Carlo -------------------------------------------------------------------
@dataclass
class ShowerSample:
    """Events at one beam energy; energies are visible (active-layer) energies in GeV."""

    layer_energy: np.ndarray  # (events, layers)
    radial_energy: np.ndarray  # (events, CONTAINMENT_RADII): energy within each radius
    lateral_map: np.ndarray  # (MAP_CELLS, MAP_CELLS) summed over events, [y, x]
    leakage: np.ndarray  # (events,) share of the deposited energy beyond the last layer
    tmax: np.ndarray  # (events,) X0
    alpha: np.ndarray  # (events,)


def _fluctuations_for(energy, calorimeter: SamplingCalorimeter, particle):
    return gflash_fluctuations(energy, calorimeter.critical_energy, calorimeter.mean_z, particle)


def simulate_showers(
    beam_energy: float,
    calorimeter: SamplingCalorimeter,
    n_events: int,
    rng: np.random.Generator,
    particle: str = "electron",
) -> ShowerSample:
    """Hit-level showers of ``n_events`` particles of ``beam_energy`` GeV, vectorised.

    Three streams spawned from ``rng`` (profile normals, crossing counts, hit uniforms) are each
    consumed event by event, so a per-event loop with the same streams draws the same numbers.
    """
    profile_rng, count_rng, hit_rng = rng.spawn(3)
    fluctuations = _fluctuations_for(beam_energy, calorimeter, particle)
    edges = calorimeter.layer_edges
    n_layers = calorimeter.layers
    crossing = calorimeter.energy_per_crossing / 1000  # GeV
    visible_per_crossing = calorimeter.sampling_fraction * crossing
    moliere = calorimeter.moliere_radius_cm
    radii = np.asarray(CONTAINMENT_RADII) * moliere
    cell_width = MAP_CELL_WIDTH * moliere
    map_half_width = MAP_CELLS * cell_width / 2

    layer_energy = np.zeros((n_events, n_layers))
    radial_energy = np.zeros((n_events, len(radii)))
    lateral_map = np.zeros(MAP_CELLS * MAP_CELLS)
    leakage, tmax, alpha = (np.zeros(n_events) for _ in range(3))
    chunk = max(1, int(_HITS_PER_CHUNK * crossing / beam_energy))
    for start in range(0, n_events, chunk):
        events = slice(start, min(start + chunk, n_events))
        n = events.stop - start
        t, a, b = profile_parameters(profile_rng.standard_normal((n, 2)), fluctuations)
        fractions = longitudinal_fractions(edges, a, b)
        tmax[events], alpha[events] = t, a
        leakage[events] = 1 - gammainc(a, b * edges[-1])
        counts = count_rng.poisson(np.maximum(beam_energy * fractions / crossing, 0.0))

        uniforms = hit_rng.random((int(counts.sum()), 4))
        energy = -visible_per_crossing * np.log1p(-uniforms[:, 0])
        width = np.where(uniforms[:, 1] < CORE_FRACTION, CORE_RADIUS, TAIL_RADIUS) * moliere
        radius = width * np.sqrt(uniforms[:, 2] / (1 - uniforms[:, 2]))
        azimuth = 2 * np.pi * uniforms[:, 3]

        cell = np.repeat(np.arange(n * n_layers), counts.ravel())
        layer_energy[events] = np.bincount(cell, energy, minlength=n * n_layers).reshape(n, -1)
        event = cell // n_layers
        for k, limit in enumerate(radii):
            radial_energy[events, k] = np.bincount(event, energy * (radius < limit), minlength=n)
        column = np.floor((radius * np.cos(azimuth) + map_half_width) / cell_width)
        row = np.floor((radius * np.sin(azimuth) + map_half_width) / cell_width)
        inside = (column >= 0) & (column < MAP_CELLS) & (row >= 0) & (row < MAP_CELLS)
        index = (row[inside] * MAP_CELLS + column[inside]).astype(np.intp)
        lateral_map += np.bincount(index, energy[inside], minlength=MAP_CELLS * MAP_CELLS)
    return ShowerSample(
        layer_energy,
        radial_energy,
        lateral_map.reshape(MAP_CELLS, MAP_CELLS),
        leakage,
        tmax,
        alpha,
    )
