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
]

MANNING_EXPONENT = 5 / 3


def manning_coefficient(width_m: float, slope: float, roughness: float) -> float:
    return width_m * np.sqrt(slope) / roughness


def discharge_from_stage(stage_m, a: float, b: float = MANNING_EXPONENT, datum_m: float = 0.0):
    depth = np.clip(np.asarray(stage_m, float) - datum_m, 0, None)
    return a * depth**b


def stage_from_discharge(
    discharge_m3s, a: float, b: float = MANNING_EXPONENT, datum_m: float = 0.0
):
    return datum_m + (np.clip(np.asarray(discharge_m3s, float), 0, None) / a) ** (1 / b)
