"""Alerts of the drought twin from one run or an ensemble: drought episodes by US Drought Monitor
class, dry months by SPI, and forecasts of dropping into D1 (ensemble probability, conformal band).

Levels: D0 info, D1 watch, D2 warning, D3–D4 danger; SPI at or below the alert threshold but
above −1 info, moderate watch, severe warning, extreme danger; a forecast probability of D1 at
or above the alert probability, or a conformal band wholly below D1, is a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from dte_twins.base import Alert
from dte_twins.environment.drought_indices import SPI_CLASSES, USDM_CLASSES

__all__ = ["drought_alerts", "CLASS_LEVELS", "USDM_NAMES"]

CLASS_LEVELS = ("info", "watch", "warning", "danger", "danger")  # by D-class 0–4
SPI_LEVELS = ("info", "watch", "warning", "danger")  # by SPI class 0–3
USDM_NAMES = (
    "abnormally dry",
    "moderate drought",
    "severe drought",
    "extreme drought",
    "exceptional drought",
)


def _runs(flags: np.ndarray):
    """(start, stop) of each run of True values."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)


def _day(value) -> str:
    return str(pd.Timestamp(value).date())


def drought_alerts(result: xr.Dataset, settings: dict) -> list[Alert]:
    where = settings["site_name"]
    return [
        *_episode_alerts(result, settings, where),
        *_spi_alerts(result, settings, where),
        *_forecast_alerts(result, settings, where),
    ]


def _episode_alerts(result, settings, where):
    classes = result["drought_class"].to_numpy()
    times = result["time"].to_numpy()
    alerts = []
    for start, stop in _runs(classes >= settings["alert_class"]):
        worst = int(classes[start:stop].max())
        lowest = float(result["percentile"][start:stop].min())
        storage = float(result["storage"][start:stop].min())
        message = (
            f"{USDM_CLASSES[worst]} {USDM_NAMES[worst]}: soil moisture down to percentile "
            f"{lowest:.1f} ({storage:.0f} mm)"
        )
        alerts.append(
            Alert(
                CLASS_LEVELS[worst], message, where, f"{_day(times[start])}/{_day(times[stop - 1])}"
            )
        )
    return alerts


def _spi_alerts(result, settings, where):
    values = result["spi"].to_numpy()
    months = pd.DatetimeIndex(result["month"].to_numpy())
    scale = settings["spi_months"]
    alerts = []
    for start, stop in _runs(values <= settings["spi_alert"]):
        worst = float(values[start:stop].min())
        severity = int(result["spi_class"][start:stop].max())
        name = SPI_CLASSES[severity - 1] + " drought" if severity else "dry"
        end = months[stop - 1] + pd.offsets.MonthEnd(0)
        alerts.append(
            Alert(
                SPI_LEVELS[severity],
                f"SPI-{scale} down to {worst:.2f} ({name})",
                where,
                f"{_day(months[start])}/{_day(end)}",
            )
        )
    return alerts


def _forecast_alerts(result, settings, where):
    times = result["forecast_time"].to_numpy()
    span = f"{_day(times[0])}/{_day(times[-1])}"
    below = result["forecast_below_d1"]
    chance = float(below.mean("member")) if "member" in below.dims else float(below)
    alerts = []
    if chance >= settings["forecast_alert_probability"]:
        alerts.append(
            Alert(
                "warning",
                f"P(soil moisture in D1 or worse within {times.size} d) = {chance:.0%}",
                where,
                span,
            )
        )
    # shared by every member (prepared once), so never along "member"
    confident = result["surrogate_upper"].to_numpy() < result["d1_storage"].to_numpy()
    if confident.any():
        days = np.flatnonzero(confident)
        coverage = 1 - settings["alpha"]
        alerts.append(
            Alert(
                "warning",
                f"surrogate forecast in D1 or worse with {coverage:.0%} confidence on "
                f"{days.size} of {times.size} days",
                where,
                f"{_day(times[days[0]])}/{_day(times[days[-1]])}",
            )
        )
    return alerts
