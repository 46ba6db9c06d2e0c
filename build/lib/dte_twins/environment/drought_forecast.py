"""The drought twin's forecasts of the next days, from the state a run of the past ended in.

Two forecasts side by side:

- the surrogate: ridge regression of the bucket's storage on lagged forcing (``surrogate``),
  trained on this run of the bucket, with its split-conformal band;
- the bucket itself, from today's state, driven by the weather that followed the same calendar
  day in earlier years of the record (ensemble streamflow prediction, Day 1985, J. Water Resour.
  Plann. Manage. 111:157). A single run uses every analog span and reports the share of them that
  drops into D1 or worse within the forecast; an ensemble member draws one span with its own
  random stream and scales its rain by a lognormal factor exp(σz − σ²/2), so that the share of
  members is the probability.

Percentiles of forecast days are taken against the run's own storages (the same climatology as the
past days), and ``d1_storage`` is the storage below which a day is in D1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from dte_twins.environment import bucket
from dte_twins.environment import drought_indices as indices
from dte_twins.environment.surrogate import train_surrogate

__all__ = ["PastRun", "analog_starts", "surrogate_outlook", "analog_outlook", "CALIBRATION_SHARE"]

CALIBRATION_SHARE = 0.35  # of the surrogate's issue days, the latest, for the conformal band
D1 = indices.USDM_CLASSES.index("D1")


@dataclass(frozen=True)
class PastRun:
    """What a forecast needs from the run over the record."""

    dates: pd.DatetimeIndex
    precipitation: np.ndarray  # mm/d
    pet: np.ndarray  # mm/d
    storage: np.ndarray  # mm, mean over cells
    capacities: np.ndarray  # mm, per cell
    final_storage: np.ndarray  # mm, per cell, at the end of the last day
    drainage_time: float  # d, may be inf


def analog_starts(dates: pd.DatetimeIndex, horizon: int, window: int) -> np.ndarray:
    """Indices of days whose next ``horizon`` days of weather can stand for the coming ones.

    Days within ± ``window`` days of tomorrow's calendar day whose whole span lies in the record;
    any span of the record when there is none (records shorter than a year).
    """
    tomorrow = (dates[-1] + pd.Timedelta(days=1)).day_of_year
    candidates = np.arange(len(dates) - horizon + 1)
    distance = np.abs(dates.day_of_year.to_numpy()[candidates] - tomorrow)
    chosen = candidates[np.minimum(distance, 366 - distance) <= window]
    return chosen if chosen.size else candidates


def _lead_coords(past: PastRun, horizon: int) -> dict:
    lead = np.arange(1, horizon + 1)
    forecast_time = past.dates[-1] + pd.to_timedelta(lead, "D")
    return {
        "lead": ("lead", lead, {"units": "d"}),
        "forecast_time": ("lead", forecast_time.to_numpy()),
    }


def _dataset(variables: dict, coords: dict) -> xr.Dataset:
    return xr.Dataset(
        {name: ("lead", values, {"units": unit}) for name, (values, unit) in variables.items()},
        coords=coords,
    )


def surrogate_outlook(past: PastRun, settings: dict) -> xr.Dataset:
    """The surrogate's forecast with its conformal band, and the D1 storage, along ``lead``:
    deterministic, the same for every ensemble member."""
    horizon, window = settings["forecast_days"], settings["percentile_window"]
    coords = _lead_coords(past, horizon)
    forecast_time = pd.DatetimeIndex(coords["forecast_time"][1])
    model = train_surrogate(
        past.precipitation,
        past.pet,
        past.storage,
        settings["surrogate_lags"],
        horizon,
        settings["alpha"],
        settings["ridge_penalty"],
        CALIBRATION_SHARE,
        use_storage=settings["surrogate_uses_storage"],
    )
    mean, low, high = model.forecast(past.precipitation, past.pet, past.storage)
    climatology = (past.storage, past.dates, window)
    result = _dataset(
        {
            "surrogate_storage": (mean, "mm"),
            "surrogate_lower": (low, "mm"),
            "surrogate_upper": (high, "mm"),
            "d1_storage": (
                indices.seasonal_threshold(
                    forecast_time, *climatology, indices.USDM_UPPER_PERCENTILES[D1]
                ),
                "mm",
            ),
        },
        coords,
    )
    result["surrogate_lower"].attrs["coverage"] = 1 - settings["alpha"]
    result["surrogate_upper"].attrs["coverage"] = 1 - settings["alpha"]
    result["surrogate_storage"].attrs["calibration_rmse_mm"] = float(model.calibration_rmse.mean())
    return result


def analog_outlook(
    past: PastRun, settings: dict, rng: np.random.Generator, member: bool
) -> xr.Dataset:
    """The bucket run from today with past weather (all analogs, or one per member), along
    ``lead``, and the share of runs reaching D1 or worse within the forecast."""
    horizon, window = settings["forecast_days"], settings["percentile_window"]
    coords = _lead_coords(past, horizon)
    forecast_time = pd.DatetimeIndex(coords["forecast_time"][1])
    runs = _bucket_runs(past, settings, rng, member)
    climatology = (past.storage, past.dates, window)
    percentile = indices.seasonal_percentile(runs, forecast_time, *climatology)
    below = (indices.usdm_class(percentile) >= D1).any(axis=1)
    typical = np.median(runs, axis=0)
    result = _dataset(
        {
            "forecast_storage": (typical, "mm"),
            "forecast_percentile": (
                indices.seasonal_percentile(typical, forecast_time, *climatology),
                "%",
            ),
        },
        coords,
    )
    result["forecast_below_d1"] = (
        (),
        float(below.mean()),
        {
            "units": "1",
            "runs": int(runs.shape[0]),
            "long_name": "share of runs in D1 or worse within the forecast",
        },
    )
    return result


def _bucket_runs(past: PastRun, settings, rng, member) -> np.ndarray:
    """Storage (mean over cells) of each analog run: shape (runs, horizon)."""
    horizon = settings["forecast_days"]
    starts = analog_starts(past.dates, horizon, settings["analog_window"])
    if member:
        starts = starts[[rng.integers(starts.size)]]
    span = starts[:, None] + np.arange(horizon)[None, :]  # (runs, horizon) day indices
    rain, evap = past.precipitation[span], past.pet[span]
    if member:
        sigma = settings["rainfall_spread"]
        rain = rain * np.exp(sigma * rng.standard_normal() - sigma**2 / 2)
    runs, cells = span.shape[0], past.capacities.size
    fluxes, _ = bucket.simulate(  # members ordered run by run, cell by cell
        np.repeat(rain, cells, axis=0),
        np.repeat(evap, cells, axis=0),
        np.tile(past.capacities, runs),
        settings["stress_fraction"],
        past.drainage_time,
        initial_storage=np.tile(past.final_storage, runs),
    )
    return fluxes["storage"].reshape(runs, cells, horizon).mean(1)
