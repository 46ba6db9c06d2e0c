"""Potential evapotranspiration from temperature and the sun (FAO-56; Oudin et al. 2005).

- Extraterrestrial radiation (FAO-56 eq. 21), MJ m⁻² d⁻¹:
  Ra = (24·60/π)·Gsc·dr·[ωs·sinφ·sinδ + cosφ·cosδ·sin ωs], Gsc = 0.0820 MJ m⁻² min⁻¹,
  dr = 1 + 0.033·cos(2πJ/365), δ = 0.409·sin(2πJ/365 − 1.39), ωs = arccos(−tanφ·tanδ).
- Oudin: PE = Ra/2.45 · (T + 5)/100 mm d⁻¹ when T > −5 °C, else 0 (2.45 MJ kg⁻¹ is the latent
  heat of vaporisation, 1 kg m⁻² = 1 mm).
- Hargreaves (FAO-56 eq. 52): 0.0023·0.408·Ra·(T̄ + 17.8)·√(Tmax − Tmin) mm d⁻¹.
"""

from __future__ import annotations

import numpy as np

__all__ = ["extraterrestrial_radiation", "oudin_pet", "hargreaves_pet"]

SOLAR_CONSTANT = 0.0820  # MJ m⁻² min⁻¹
LATENT_HEAT = 2.45  # MJ kg⁻¹


def extraterrestrial_radiation(latitude_deg: float, day_of_year) -> np.ndarray:
    """Ra in MJ m⁻² d⁻¹ for a latitude (degrees, south negative) and day(s) of the year."""
    phi = np.deg2rad(latitude_deg)
    day = np.asarray(day_of_year, dtype=float)
    dr = 1 + 0.033 * np.cos(2 * np.pi * day / 365)
    delta = 0.409 * np.sin(2 * np.pi * day / 365 - 1.39)
    omega = np.arccos(np.clip(-np.tan(phi) * np.tan(delta), -1.0, 1.0))
    return (
        (24 * 60 / np.pi)
        * SOLAR_CONSTANT
        * dr
        * (omega * np.sin(phi) * np.sin(delta) + np.cos(phi) * np.cos(delta) * np.sin(omega))
    )


def oudin_pet(temperature_c, latitude_deg: float, day_of_year) -> np.ndarray:
    ra = extraterrestrial_radiation(latitude_deg, day_of_year)
    t = np.asarray(temperature_c, dtype=float)
    return np.where(t > -5, ra / LATENT_HEAT * (t + 5) / 100, 0.0)


def hargreaves_pet(t_min, t_max, latitude_deg: float, day_of_year) -> np.ndarray:
    ra = extraterrestrial_radiation(latitude_deg, day_of_year)
    t_min, t_max = np.asarray(t_min, float), np.asarray(t_max, float)
    t_mean = (t_min + t_max) / 2
    return 0.0023 * 0.408 * ra * (t_mean + 17.8) * np.sqrt(np.clip(t_max - t_min, 0, None))
