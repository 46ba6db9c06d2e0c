"""The drought twin's forcing: what a daily weather table must hold, and its potential
evapotranspiration by the method chosen (equations in ``evapotranspiration``).

A forcing is a pandas DataFrame with one row per day, no gaps, and ``precipitation`` (mm/d) plus
``pet`` (mm/d) or ``temperature`` (°C). Optional: ``t_min``/``t_max`` (°C, Hargreaves),
``solar_radiation`` or ``net_radiation`` (MJ m⁻² d⁻¹) and ``pressure`` (kPa, Priestley–Taylor),
and observed ``soil_moisture`` (m³/m³, may have gaps) for calibration and validation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dte_twins.environment.evapotranspiration import (
    STANDARD_PRESSURE,
    daylight_hours,
    hargreaves_pet,
    net_radiation_estimate,
    oudin_pet,
    priestley_taylor_pet,
    thornthwaite_heat_index,
    thornthwaite_pet,
)
from dte_twins.errors import InputError

__all__ = [
    "PET_METHODS",
    "missing_columns",
    "potential_evapotranspiration",
    "check_forcing",
    "check_soil_moisture",
    "check_storage",
]

#: PET method -> forcing columns it needs (a tuple: any one of them)
PET_METHODS = {
    "forcing": ["pet"],
    "priestley_taylor": ["temperature", ("net_radiation", "solar_radiation")],
    "hargreaves": ["t_min", "t_max"],
    "thornthwaite": ["temperature"],
    "oudin": ["temperature"],
}
# The order 'auto' tries; Thornthwaite, a monthly method, only when asked for.
_AUTO_ORDER = ("forcing", "priestley_taylor", "hargreaves", "oudin")
# Columns a forcing may carry: unit, and whether they may be negative.
_COLUMNS = {
    "precipitation": ("mm/d", False),
    "pet": ("mm/d", False),
    "temperature": ("°C", True),
    "t_min": ("°C", True),
    "t_max": ("°C", True),
    "solar_radiation": ("MJ m⁻² d⁻¹", False),
    "net_radiation": ("MJ m⁻² d⁻¹", True),
    "pressure": ("kPa", False),
}


def missing_columns(forcing: pd.DataFrame, method: str) -> list[str]:
    """The columns ``method`` needs that ``forcing`` lacks."""
    missing = []
    for need in PET_METHODS[method]:
        options = need if isinstance(need, tuple) else (need,)
        if not any(option in forcing for option in options):
            missing.append(" or ".join(options))
    return missing


def potential_evapotranspiration(
    forcing: pd.DataFrame, method: str, latitude: float
) -> tuple[np.ndarray, str]:
    """Daily PET (mm/d) by a method of ``PET_METHODS`` or "auto"; returns (PET, method used)."""
    if method == "auto":
        method = next((m for m in _AUTO_ORDER if not missing_columns(forcing, m)), "oudin")
    day = forcing.index.day_of_year
    if method == "forcing":
        pet = forcing["pet"].to_numpy(float)
    elif method == "priestley_taylor":
        if "net_radiation" in forcing:
            net = forcing["net_radiation"].to_numpy(float)
        else:
            net = net_radiation_estimate(forcing["solar_radiation"].to_numpy(float))
        pressure = (
            forcing["pressure"].to_numpy(float) if "pressure" in forcing else STANDARD_PRESSURE
        )
        pet = priestley_taylor_pet(net, forcing["temperature"].to_numpy(float), pressure)
    elif method == "hargreaves":
        pet = hargreaves_pet(forcing["t_min"], forcing["t_max"], latitude, day)
    elif method == "thornthwaite":
        temperature = forcing["temperature"]
        monthly = temperature.groupby(forcing.index.month).mean()
        # A record shorter than a year stands in for its missing months by its own average.
        heat_index = thornthwaite_heat_index(monthly) * 12 / monthly.size
        pet = thornthwaite_pet(temperature, heat_index, daylight_hours(latitude, day), days=1)
    else:
        pet = oudin_pet(forcing["temperature"].to_numpy(float), latitude, day)
    return np.asarray(pet, float), method


def _first_bad_day(values: pd.Series, bad: pd.Series) -> str:
    return str(pd.Timestamp(values.index[bad.to_numpy().argmax()]).date())


def check_forcing(value) -> pd.DataFrame:
    """The forcing sorted by date, or an InputError naming the column and day at fault."""
    if not isinstance(value, pd.DataFrame):
        raise InputError(
            f"forcing must be a pandas DataFrame indexed by date, not {type(value).__name__}."
        )
    if not isinstance(value.index, pd.DatetimeIndex):
        raise InputError("forcing must be indexed by date (a pandas DatetimeIndex).")
    if "precipitation" not in value or not ({"pet", "temperature"} & set(value.columns)):
        raise InputError(
            "forcing needs a 'precipitation' column (mm/d) and a 'pet' (mm/d) or "
            f"'temperature' (°C) column; it has {', '.join(map(str, value.columns))}."
        )
    value = value.sort_index()
    if len(value) < 2:
        raise InputError("forcing needs at least two days.")
    gaps = np.flatnonzero(np.diff(value.index.to_numpy()) != np.timedelta64(1, "D"))
    if gaps.size:
        before, after = value.index[gaps[0]], value.index[gaps[0] + 1]
        raise InputError(
            f"forcing must have one row per day without gaps; after {before.date()} comes {after}."
        )
    for column, (unit, may_be_negative) in _COLUMNS.items():
        if column not in value:
            continue
        numbers = pd.to_numeric(value[column], errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers)
        if not may_be_negative:
            bad |= numbers < 0
        if bad.any():
            allowed = "a number" if may_be_negative else "a number ≥ 0"
            raise InputError(
                f"forcing column {column!r} ({unit}) must be {allowed} every day; "
                f"{_first_bad_day(value, bad)} has {value[column][bad].iloc[0]!r}."
            )
    if {"t_min", "t_max"} <= set(value.columns):
        bad = value["t_min"] > value["t_max"]
        if bad.any():
            raise InputError(f"forcing has t_min above t_max on {_first_bad_day(value, bad)}.")
    if "soil_moisture" in value:
        check_soil_moisture(value["soil_moisture"], "forcing")
    return value


def check_soil_moisture(values: pd.Series, where: str) -> None:
    """Volumetric soil moisture from 0 to 1 (NaN allowed: days without a reading)."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()) | (numbers < 0) | (numbers > 1)
    if bad.any():
        raise InputError(
            f"{where} column 'soil_moisture' must be a volumetric fraction from 0 to 1 (m³/m³); "
            f"{_first_bad_day(values, bad)} has {values[bad].iloc[0]!r}."
        )


def check_storage(values: pd.Series) -> None:
    """Storage in mm, at least 0 (NaN allowed)."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()) | (numbers < 0)
    if bad.any():
        raise InputError(
            f"observations column 'storage' must be ≥ 0 mm; {_first_bad_day(values, bad)} has "
            f"{values[bad].iloc[0]!r}."
        )
