"""Potential evapotranspiration from temperature and the sun (FAO-56; Oudin et al. 2005).

- Extraterrestrial radiation (FAO-56 eq. 21), MJ m⁻² d⁻¹:
  Ra = (24·60/π)·Gsc·dr·[ωs·sinφ·sinδ + cosφ·cosδ·sin ωs], Gsc = 0.0820 MJ m⁻² min⁻¹,
  dr = 1 + 0.033·cos(2πJ/365), δ = 0.409·sin(2πJ/365 − 1.39), ωs = arccos(−tanφ·tanδ).
- Oudin: PE = Ra/2.45 · (T + 5)/100 mm d⁻¹ when T > −5 °C, else 0 (2.45 MJ kg⁻¹ is the latent
  heat of vaporisation, 1 kg m⁻² = 1 mm).
- Hargreaves (FAO-56 eq. 52): 0.0023·0.408·Ra·(T̄ + 17.8)·√(Tmax − Tmin) mm d⁻¹.
- Priestley & Taylor (1972): 1.26·Δ/(Δ + γ)·Rn/2.45 mm d⁻¹, with the slope of the saturation
  vapour pressure curve Δ = 4098·e_s/(T + 237.3)², e_s = 0.6108·exp(17.27T/(T + 237.3)) kPa
  (FAO-56 eqs. 11, 13) and the psychrometric constant γ = 0.000665·p kPa °C⁻¹ (eq. 8); the soil
  heat flux is neglected at a daily step. Without a net radiometer, Rn ≈ 0.77·Rs − 2 MJ m⁻² d⁻¹
  (albedo 0.23 and a typical net long-wave loss; SCIENCE.md B), never below 0.
- Thornthwaite (1948): 16·(L/12)·(N/30)·(10T/I)^a mm for N days of daylight L hours (0 when
  T ≤ 0 °C), heat index I = Σ over the twelve monthly means (T_m/5)^1.514 (T_m > 0), and
  a = 6.75e−7·I³ − 7.71e−5·I² + 0.01792·I + 0.49239; L = 24·ωs/π (FAO-56 eq. 34).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "extraterrestrial_radiation",
    "oudin_pet",
    "hargreaves_pet",
    "saturation_vapour_pressure",
    "vapour_pressure_slope",
    "psychrometric_constant",
    "net_radiation_estimate",
    "priestley_taylor_pet",
    "daylight_hours",
    "thornthwaite_heat_index",
    "thornthwaite_pet",
    "STANDARD_PRESSURE",
]

SOLAR_CONSTANT = 0.0820  # MJ m⁻² min⁻¹
LATENT_HEAT = 2.45  # MJ kg⁻¹
PRIESTLEY_TAYLOR_ALPHA = 1.26
STANDARD_PRESSURE = 101.3  # kPa at sea level (FAO-56 eq. 7 at z = 0)


def _sunset_hour_angle(latitude_deg: float, day_of_year):
    """ωs (FAO-56 eq. 25) and the solar declination δ (eq. 24), radians."""
    phi = np.deg2rad(latitude_deg)
    delta = 0.409 * np.sin(2 * np.pi * np.asarray(day_of_year, dtype=float) / 365 - 1.39)
    return np.arccos(np.clip(-np.tan(phi) * np.tan(delta), -1.0, 1.0)), delta


def extraterrestrial_radiation(latitude_deg: float, day_of_year) -> np.ndarray:
    """Ra in MJ m⁻² d⁻¹ for a latitude (degrees, south negative) and day(s) of the year."""
    phi = np.deg2rad(latitude_deg)
    day = np.asarray(day_of_year, dtype=float)
    dr = 1 + 0.033 * np.cos(2 * np.pi * day / 365)
    omega, delta = _sunset_hour_angle(latitude_deg, day)
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


def saturation_vapour_pressure(temperature_c) -> np.ndarray:
    """e_s in kPa (FAO-56 eq. 11)."""
    t = np.asarray(temperature_c, dtype=float)
    return 0.6108 * np.exp(17.27 * t / (t + 237.3))


def vapour_pressure_slope(temperature_c) -> np.ndarray:
    """Δ = de_s/dT in kPa °C⁻¹ (FAO-56 eq. 13)."""
    t = np.asarray(temperature_c, dtype=float)
    return 4098 * saturation_vapour_pressure(t) / (t + 237.3) ** 2


def psychrometric_constant(pressure_kpa=STANDARD_PRESSURE) -> np.ndarray:
    """γ in kPa °C⁻¹ (FAO-56 eq. 8)."""
    return 0.000665 * np.asarray(pressure_kpa, dtype=float)


def net_radiation_estimate(solar_radiation) -> np.ndarray:
    """Rn ≈ 0.77·Rs − 2 MJ m⁻² d⁻¹ from global radiation Rs, at least 0 (SCIENCE.md B)."""
    return np.maximum(0.77 * np.asarray(solar_radiation, dtype=float) - 2.0, 0.0)


def priestley_taylor_pet(
    net_radiation, temperature_c, pressure_kpa=STANDARD_PRESSURE, alpha=PRIESTLEY_TAYLOR_ALPHA
) -> np.ndarray:
    """PET in mm d⁻¹ from net radiation (MJ m⁻² d⁻¹), air temperature and pressure; ≥ 0."""
    slope = vapour_pressure_slope(temperature_c)
    gamma = psychrometric_constant(pressure_kpa)
    pet = alpha * slope / (slope + gamma) * np.asarray(net_radiation, dtype=float) / LATENT_HEAT
    return np.maximum(pet, 0.0)


def daylight_hours(latitude_deg: float, day_of_year) -> np.ndarray:
    """Maximum daylight hours N = 24·ωs/π (FAO-56 eq. 34)."""
    omega, _ = _sunset_hour_angle(latitude_deg, day_of_year)
    return 24 / np.pi * omega


def thornthwaite_heat_index(monthly_mean_temperature_c) -> float:
    """I = Σ (T_m/5)^1.514 over the twelve monthly mean temperatures (months ≤ 0 °C add 0)."""
    t = np.clip(np.asarray(monthly_mean_temperature_c, dtype=float), 0.0, None)
    return float(np.sum((t / 5) ** 1.514))


def thornthwaite_pet(temperature_c, heat_index: float, daylight, days=30) -> np.ndarray:
    """PET in mm over ``days`` days of mean temperature T and ``daylight`` hours (Thornthwaite).

    With ``days=1`` this is a daily rate in mm d⁻¹. A heat index of 0 (no month above 0 °C)
    gives no PET.
    """
    t = np.asarray(temperature_c, dtype=float)
    if heat_index <= 0:
        return np.zeros_like(t)
    i = heat_index
    exponent = 6.75e-7 * i**3 - 7.71e-5 * i**2 + 0.01792 * i + 0.49239
    warm = np.clip(t, 0.0, None)
    return (
        16
        * (np.asarray(daylight, float) / 12)
        * (np.asarray(days, float) / 30)
        * (10 * warm / i) ** exponent
    )
