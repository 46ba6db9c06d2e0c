"""Plain per-event reference of the hit-level shower kernel ``showers.simulate_showers``.

The same signature and the same random streams (profile normals, crossing counts, hit uniforms,
spawned from ``rng`` in that order), walked event by event, layer by layer and hit by hit. Tests
use it as an oracle; the benchmark times the vectorised kernel against it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammainc

from dte_twins.physics.materials import SamplingCalorimeter
from dte_twins.physics.showers import (
    ALPHA_FLOOR,
    CONTAINMENT_RADII,
    CORE_FRACTION,
    CORE_RADIUS,
    MAP_CELL_WIDTH,
    MAP_CELLS,
    TAIL_RADIUS,
    ShowerSample,
    gflash_fluctuations,
)

__all__ = ["simulate_showers"]


def simulate_showers(
    beam_energy: float,
    calorimeter: SamplingCalorimeter,
    n_events: int,
    rng: np.random.Generator,
    particle: str = "electron",
) -> ShowerSample:
    profile_rng, count_rng, hit_rng = rng.spawn(3)
    shape = gflash_fluctuations(
        beam_energy, calorimeter.critical_energy, calorimeter.mean_z, particle
    )
    rho = shape.correlation
    edges = calorimeter.layer_edges
    crossing = calorimeter.energy_per_crossing / 1000
    visible_per_crossing = calorimeter.sampling_fraction * crossing
    moliere = calorimeter.moliere_radius_cm
    cell_width = MAP_CELL_WIDTH * moliere
    half_width = MAP_CELLS * cell_width / 2

    layer_energy = np.zeros((n_events, calorimeter.layers))
    radial_energy = np.zeros((n_events, len(CONTAINMENT_RADII)))
    lateral_map = np.zeros((MAP_CELLS, MAP_CELLS))
    leakage, tmax, alpha = np.zeros(n_events), np.zeros(n_events), np.zeros(n_events)
    for event in range(n_events):
        z_tmax, z_alpha = profile_rng.standard_normal(2)
        log_tmax = shape.mean_log_tmax + shape.sigma_log_tmax * z_tmax
        log_alpha = shape.mean_log_alpha + shape.sigma_log_alpha * (
            rho * z_tmax + math.sqrt(1 - rho * rho) * z_alpha
        )
        # NumPy's exp, as the kernel uses: the Poisson means must agree to the last bit.
        tmax[event] = np.exp(log_tmax)
        alpha[event] = max(np.exp(log_alpha), ALPHA_FLOOR)
        beta = (alpha[event] - 1) / tmax[event]

        behind, counts = gammainc(alpha[event], beta * edges[0]), []
        for layer in range(calorimeter.layers):
            ahead = gammainc(alpha[event], beta * edges[layer + 1])
            mean_crossings = max(beam_energy * (ahead - behind) / crossing, 0.0)
            counts.append(int(count_rng.poisson(mean_crossings)))
            behind = ahead
        leakage[event] = 1 - behind

        for layer, crossings in enumerate(counts):
            for u in hit_rng.random((crossings, 4)):
                energy = -visible_per_crossing * math.log1p(-u[0])
                width = (CORE_RADIUS if u[1] < CORE_FRACTION else TAIL_RADIUS) * moliere
                radius = width * math.sqrt(u[2] / (1 - u[2]))
                azimuth = 2 * math.pi * u[3]
                layer_energy[event, layer] += energy
                for k, limit in enumerate(CONTAINMENT_RADII):
                    if radius < limit * moliere:
                        radial_energy[event, k] += energy
                column = math.floor((radius * math.cos(azimuth) + half_width) / cell_width)
                row = math.floor((radius * math.sin(azimuth) + half_width) / cell_width)
                if 0 <= column < MAP_CELLS and 0 <= row < MAP_CELLS:
                    lateral_map[row, column] += energy
    return ShowerSample(layer_energy, radial_energy, lateral_map, leakage, tmax, alpha)
