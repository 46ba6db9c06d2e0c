"""Flood impacts on exposed assets: depth-damage curves (Huizinga, de Moel & Szewczyk 2017).

The JRC global flood depth-damage functions give the damage share f(d) of a building's maximum
damage at water depth d; for residential buildings in Europe

    d (m) : 0    0.5  1    1.5  2    3    4    5    ≥6
    f     : 0    .25  .40  .50  .60  .75  .85  .95  1

linear in between. Damage of an asset = area (m²) × maximum damage (€/m², per country in the JRC
tables) × f(d).
"""

from __future__ import annotations

import numpy as np

__all__ = ["EUROPE_RESIDENTIAL", "damage_fraction", "asset_damage"]

#: (depth in m, damage fraction), JRC Europe residential (Huizinga et al. 2017)
EUROPE_RESIDENTIAL = (
    (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0),
    (0.0, 0.25, 0.40, 0.50, 0.60, 0.75, 0.85, 0.95, 1.0),
)


def damage_fraction(depth_m, curve=EUROPE_RESIDENTIAL):
    """Share of the maximum damage at each water depth (0 where dry or NaN)."""
    depths, fractions = curve
    depth = np.nan_to_num(np.asarray(depth_m, dtype=float), nan=0.0)
    return np.interp(depth, depths, fractions, left=0.0, right=fractions[-1])


def asset_damage(depth_m, asset_area_m2, max_damage_eur_m2: float, curve=EUROPE_RESIDENTIAL):
    """Damage in € of each asset (or each cell's buildings) at the given depth."""
    return np.asarray(asset_area_m2, float) * max_damage_eur_m2 * damage_fraction(depth_m, curve)
