"""From discharge to river level: rating curves (WMO-No. 1044).

Q = a·(h − h0)^b and its inverse h = h0 + (Q/a)^(1/b). For a wide rectangular channel with
Manning's friction, a = B·√S / n and b = 5/3 (B width in m, S bed slope, n Manning's n in
s m^−1/3); b is 1.5 for a weir and 2.5 for a V-notch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "manning_coefficient",
    "discharge_from_stage",
    "stage_from_discharge",
    "MANNING_EXPONENT",
    "mm_per_day_to_m3s",
    "m3s_to_mm_per_day",
]

MANNING_EXPONENT = 5 / 3
SECONDS_PER_DAY = 86_400.0


def mm_per_day_to_m3s(runoff_mm, area_km2: float):
    """Runoff depth over a catchment (mm/d) as discharge at its outlet (m³/s)."""
    return np.asarray(runoff_mm) * area_km2 * 1e3 / SECONDS_PER_DAY


def m3s_to_mm_per_day(discharge_m3s, area_km2: float):
    return np.asarray(discharge_m3s, dtype=float) * SECONDS_PER_DAY / (area_km2 * 1e3)


def manning_coefficient(width_m: float, slope: float, roughness: float) -> float:
    return width_m * np.sqrt(slope) / roughness


def discharge_from_stage(stage_m, a: float, b: float = MANNING_EXPONENT, datum_m: float = 0.0):
    depth = np.clip(np.asarray(stage_m, float) - datum_m, 0, None)
    return a * depth**b


def stage_from_discharge(
    discharge_m3s, a: float, b: float = MANNING_EXPONENT, datum_m: float = 0.0
):
    return datum_m + (np.clip(np.asarray(discharge_m3s, float), 0, None) / a) ** (1 / b)
