"""Alerts of the detector-noise twin, from a run or an ensemble result.

- Glitches: every trigger; vetoed ones are ``info`` (a witness saw the cause), unvetoed ones are
  ``watch`` below SNR 10, ``warning`` below 30 and ``danger`` above.
- Range: the inspiral range below 90 / 70 / 50 % of design is ``watch`` / ``warning`` /
  ``danger``.
- Unexplained noise: a band whose residual power stays above ``excess_threshold`` × design
  after subtraction (``watch``; ``warning`` above ten times that). In an ensemble: a band whose
  measured power lies above the members' 95 % quantile and ``excess_threshold`` × their median,
  i.e. above what the witnesses plus design noise make.

Times are ISO timestamps from the channels' ``start_time`` (seconds when there is none).
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from dte_twins.base import Alert

__all__ = ["RANGE_LEVELS", "noise_alerts"]

RANGE_LEVELS = ((0.5, "danger"), (0.7, "warning"), (0.9, "watch"))


def _when(result: xr.Dataset, seconds: float) -> str:
    start = result.attrs.get("start_time")
    if not start:
        return f"{seconds:.3f} s"
    moment = pd.Timestamp(start) + pd.Timedelta(seconds=float(seconds))
    return moment.isoformat(timespec="milliseconds")


def _band_where(result: xr.Dataset, band: int, detector: str) -> str:
    return f"{detector} {float(result.band_low[band]):g}–{float(result.band_high[band]):g} Hz"


def _glitch_alerts(result: xr.Dataset, detector: str) -> list[Alert]:
    alerts = []
    for k in range(result.sizes["trigger"]):
        trigger = result.isel(trigger=k)
        snr = float(trigger.trigger_snr)
        at = _when(result, float(trigger.trigger_time))
        where = f"{detector} strain, {float(trigger.trigger_frequency):.0f} Hz"
        if bool(trigger.trigger_vetoed):
            message = f"glitch SNR {snr:.1f} vetoed: {str(trigger.trigger_witness)} saw it"
            alerts.append(Alert("info", message, where, at))
        else:
            level = "danger" if snr >= 30 else "warning" if snr >= 10 else "watch"
            message = f"unvetoed glitch SNR {snr:.1f}: no witness channel explains it"
            alerts.append(Alert(level, message, where, at))
    return alerts


def _range_alerts(ratio: float, detector: str, span: str, what: str) -> list[Alert]:
    for limit, level in RANGE_LEVELS:
        if ratio < limit:
            message = f"{what} inspiral range {ratio:.0%} of design (below {limit:.0%})"
            return [Alert(level, message, f"{detector} strain", span)]
    return []


def _residual_alerts(result, detector, span, threshold) -> list[Alert]:
    alerts = []
    for band in range(result.sizes["band"]):
        excess = float(result.excess_after[band])
        if excess > threshold:
            level = "warning" if excess > 10 * threshold else "watch"
            message = (
                f"{excess:.3g} × design noise power left after subtraction "
                f"({float(result.explained_fraction[band]):.0%} explained by the witnesses)"
            )
            alerts.append(Alert(level, message, _band_where(result, band, detector), span))
    return alerts


def _ensemble_alerts(result, detector, span, threshold) -> list[Alert]:
    alerts = []
    upper = result.model_excess.quantile(0.95, dim="member")
    typical = result.model_excess.median("member")
    for band in range(result.sizes["band"]):
        measured = float(result.excess_before[band])
        ratio = measured / float(typical[band])
        if measured > float(upper[band]) and ratio > threshold:
            level = "warning" if ratio > 10 * threshold else "watch"
            message = (
                f"measured noise {ratio:.3g} × what witnesses plus design noise explain "
                "(median of the members; above their 95 % quantile)"
            )
            alerts.append(Alert(level, message, _band_where(result, band, detector), span))
    median_range = float(result.model_range_ratio.median("member"))
    return alerts + _range_alerts(median_range, detector, span, "modelled")


def noise_alerts(result: xr.Dataset, excess_threshold: float) -> list[Alert]:
    """All alerts of a run (glitches, range, unexplained bands) or of an ensemble."""
    detector = result.attrs.get("detector", "detector")
    span = (
        f"{_when(result, result.attrs['analysed_from'])}/"
        f"{_when(result, result.attrs['analysed_to'])}"
    )
    if "member" in result.dims:
        return _ensemble_alerts(result, detector, span, excess_threshold)
    return (
        _glitch_alerts(result, detector)
        + _range_alerts(float(result.range_ratio), detector, span, "measured")
        + _residual_alerts(result, detector, span, excess_threshold)
    )
