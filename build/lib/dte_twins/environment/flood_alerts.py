"""Alerts of the flood twin, from a single run or an ensemble.

- At the gauge, per day: danger when P(Q > danger) ≥ 0.5 (or a single run above it), warning
  likewise, watch when P(Q > watch) ≥ 0.2; consecutive days of one level form one alert.
- On the floodplain, at the peak: danger when exposed assets flood in a single run or in at least
  half the members, warning in at least a fifth; the message gives the damage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from dte_twins.base import ALERT_LEVELS, Alert

__all__ = ["LEVELS", "discharge_alerts", "impact_alerts"]

LEVELS = ALERT_LEVELS[1:]  # watch, warning, danger: "info" is not a discharge level


def _daily_levels(result: xr.Dataset, thresholds: dict[str, float]):
    """Rank (0 none, 1 watch, …) of each day and, for ensembles, the chance of each level."""
    discharge = result["discharge"]
    if "member" not in result.dims:
        values = discharge.to_numpy()[:, None] > np.array(list(thresholds.values()))[None, :]
        return values.sum(1), None
    chance = {
        level: (discharge > threshold).mean("member").to_numpy()
        for level, threshold in thresholds.items()
    }
    ranks = np.zeros(result.sizes["time"], dtype=int)
    for rank, level in enumerate(LEVELS, start=1):
        ranks = np.where(chance[level] >= (0.2 if level == "watch" else 0.5), rank, ranks)
    return ranks, chance


def discharge_alerts(result: xr.Dataset, thresholds: dict[str, float]) -> list[Alert]:
    """One alert per run of consecutive days at the same level, at the gauge."""
    ranks, chance = _daily_levels(result, thresholds)
    times = pd.DatetimeIndex(result["time"].to_numpy())
    alerts, start = [], 0
    for day in range(1, len(ranks) + 1):
        if day < len(ranks) and ranks[day] == ranks[start]:
            continue
        if ranks[start] > 0:
            level = LEVELS[ranks[start] - 1]
            message = f"{level}: discharge above {thresholds[level]:g} m³/s"
            if chance is not None:
                message += f" with probability up to {chance[level][start:day].max():.0%}"
            span = f"{times[start].date()}/{times[day - 1].date()}"
            alerts.append(Alert(level, message, where="gauge", when=span))
        start = day
    return alerts


def impact_alerts(result: xr.Dataset) -> list[Alert]:
    """An alert when exposed assets are flooded at the peak, with the damage."""
    damage = np.atleast_1d(result["peak_damage"].to_numpy())
    chance = float((damage > 0).mean())
    level = "danger" if chance >= 0.5 else "warning" if chance >= 0.2 else None
    if level is None:
        return []
    stage = result["stage"].mean("member") if "member" in result.dims else result["stage"]
    peak_day = pd.Timestamp(result["time"].to_numpy()[int(stage.argmax("time"))]).date()
    worst = np.quantile(damage, 0.95)
    if damage.size > 1:
        median = np.median(damage)
        what = f"in {chance:.0%} of members, damage median €{median:,.0f}, 95 % €{worst:,.0f}"
    else:
        what = f"damage €{worst:,.0f}"
    message = f"{level}: exposed assets flooded {what}"
    return [Alert(level, message, where="floodplain", when=str(peak_day))]
