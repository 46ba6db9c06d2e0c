"""The detector-noise twin's input: checks of the channels and the regressors built from them.

Channels are an ``xarray.Dataset`` with a ``strain`` time series and witness time series on one
uniform ``time`` coordinate in seconds (``detector_model.simulate_detector`` makes them); every
other 1-D series on ``time`` is a witness, anything else (the true glitch list of a simulation)
is ignored. The regressors of the Wiener filter are the witnesses, then the products named by
the twin's ``bilinear_pairs`` ('a*b, c*d').
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from dte_twins.errors import InputError

__all__ = [
    "MIN_SAMPLE_RATE",
    "check_channels",
    "witness_names",
    "parse_pairs",
    "regressor_names",
    "regressors",
]

MIN_SAMPLE_RATE = 64.0  # Hz; the comparison with design starts at 10 Hz
_PAIR = re.compile(r"^\s*([\w.-]+)\s*\*\s*([\w.-]+)\s*$")


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """'a*b, c*d' → [('a', 'b'), ('c', 'd')]; ValueError naming the first malformed part."""
    pairs = []
    for part in filter(str.strip, text.split(",")):
        match = _PAIR.match(part)
        if not match:
            raise ValueError(part)
        pairs.append(match.groups())
    return pairs


def witness_names(channels: xr.Dataset) -> list[str]:
    """Every 1-D time series of the channels except the strain."""
    return [
        str(name)
        for name, variable in channels.data_vars.items()
        if name != "strain" and variable.dims == ("time",)
    ]


def regressor_names(channels: xr.Dataset, pairs: str) -> list[str]:
    return witness_names(channels) + [f"{a}*{b}" for a, b in parse_pairs(pairs)]


def regressors(channels: xr.Dataset, pairs: str) -> np.ndarray:
    """Witness series, then the products of the pairs, as rows of one array; KeyError names
    a channel that is missing."""
    series = [channels[name].to_numpy().astype(float) for name in witness_names(channels)]
    for a, b in parse_pairs(pairs):
        series.append(channels[a].to_numpy() * channels[b].to_numpy())
    return np.vstack(series)


def _check_time(value: xr.Dataset) -> float:
    """The sample rate the time coordinate implies, after checking it is finite and uniform."""
    time = value["time"].to_numpy().astype(float)
    bad = ~np.isfinite(time)
    if bad.any():
        raise InputError(f"channels time is not a number at index {int(bad.argmax())}.")
    if len(time) < 16:
        raise InputError(f"channels hold {len(time)} samples; at least 16 are needed.")
    steps = np.diff(time)
    step = float(np.median(steps))
    irregular = np.abs(steps - step) > 1e-6 * abs(step)
    if step <= 0 or irregular.any():
        index = int(irregular.argmax()) if irregular.any() else 0
        raise InputError(
            f"channels time must rise in equal steps; the step at index {index} is "
            f"{steps[index]:g} s, the usual step {step:g} s."
        )
    sample_rate = 1 / step
    stated = value.attrs.get("sample_rate")
    if stated is not None and abs(float(stated) - sample_rate) > 1e-6 * sample_rate:
        raise InputError(
            f"channels attrs give sample_rate = {float(stated):g} Hz, but the time steps are "
            f"{step:g} s ({sample_rate:g} Hz)."
        )
    if sample_rate < MIN_SAMPLE_RATE:
        raise InputError(
            f"channels are sampled at {sample_rate:g} Hz; at least {MIN_SAMPLE_RATE:g} Hz is "
            "needed."
        )
    return sample_rate


def check_channels(value) -> xr.Dataset:
    """The channels, checked; ``attrs['sample_rate']`` (Hz) set from the time steps.

    Raises ``InputError`` naming what is wrong: not a Dataset, no strain, a time that is not a
    number or not uniform, a sample rate that disagrees, no witness, a channel that is not
    finite (with its time) or constant.
    """
    if not isinstance(value, xr.Dataset):
        raise InputError(
            f"channels must be an xarray.Dataset of time series, not {type(value).__name__}."
        )
    if "time" not in value.coords or value["time"].ndim != 1:
        raise InputError("channels need a 1-D 'time' coordinate in seconds.")
    if "strain" not in value.data_vars or value["strain"].dims != ("time",):
        raise InputError(
            "channels have no 'strain' time series; they have "
            f"{', '.join(map(str, value.data_vars)) or 'no variables'}."
        )
    sample_rate = _check_time(value)
    witnesses = witness_names(value)
    if not witnesses:
        raise InputError("channels need at least one witness time series besides 'strain'.")
    time = value["time"].to_numpy()
    for channel in ["strain", *witnesses]:
        values = value[channel].to_numpy()
        broken = ~np.isfinite(values)
        if broken.any():
            at = int(broken.argmax())
            raise InputError(
                f"channel {channel!r} is not a finite number at time {time[at]:g} s (index {at})."
            )
        if np.ptp(values) == 0:
            raise InputError(f"channel {channel!r} is constant; it must record a signal.")
    checked = value.copy()
    checked.attrs["sample_rate"] = float(np.round(sample_rate, 9))
    return checked
