"""Drought indices: the Standardized Precipitation Index and soil-moisture percentiles with the
US Drought Monitor classes.

SPI (McKee, Doesken & Kleist 1993): k-month precipitation totals are fitted with a gamma
distribution G (shape κ, scale θ) by maximum likelihood on the non-zero totals; with q the share
of zero totals, H(x) = q + (1 − q)·G(x) and SPI = Φ⁻¹(H). McKee fits each calendar month
separately (≥ 30 years recommended); ``spi`` does so when it is given each total's calendar month.
Classes: SPI ≤ −1 moderate, ≤ −1.5 severe, ≤ −2 extreme drought.

Maximum likelihood for the gamma shape solves ln κ − ψ(κ) = A, A = ln x̄ − mean(ln x); Thom's
(1958) approximation κ = (1 + √(1 + 4A/3))/(4A), the one McKee used, starts Newton's method, which
then converges in a few steps (ψ' is positive and decreasing, so the iteration is monotone);
θ = x̄/κ.

Soil-moisture percentile: the rank of a day's storage among the storages of the same time of year
(every day within ± a window of days of the calendar date, all years), in Weibull's plotting
position 100·#(reference ≤ x)/(n + 1). US Drought Monitor classes (Svoboda et al. 2002):
D0 abnormally dry ≤ 30, D1 moderate ≤ 20, D2 severe ≤ 10, D3 extreme ≤ 5, D4 exceptional ≤ 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = [
    "USDM_CLASSES",
    "USDM_UPPER_PERCENTILES",
    "SPI_CLASSES",
    "SPI_THRESHOLDS",
    "fit_gamma",
    "spi",
    "spi_class",
    "monthly_totals",
    "rolling_totals",
    "percentile_of",
    "seasonal_percentile",
    "seasonal_threshold",
    "usdm_class",
]

USDM_CLASSES = ("D0", "D1", "D2", "D3", "D4")
#: a percentile at or below these is in D0 … D4
USDM_UPPER_PERCENTILES = (30.0, 20.0, 10.0, 5.0, 2.0)
SPI_CLASSES = ("moderate", "severe", "extreme")
#: an SPI at or below these is a moderate, severe, extreme drought
SPI_THRESHOLDS = (-1.0, -1.5, -2.0)
# |SPI| beyond this carries no information a gamma fit of a few decades can support.
SPI_LIMIT = 3.09  # Φ⁻¹(0.999)


def fit_gamma(totals) -> tuple[float, float, float]:
    """Maximum-likelihood gamma fit of the non-zero totals: (shape κ, scale θ, zero share q).

    Needs at least two distinct positive totals; raises ValueError otherwise.
    """
    x = np.asarray(totals, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0 or np.any(x < 0):
        raise ValueError("gamma fit needs totals ≥ 0")
    positive = x[x > 0]
    zero_share = 1.0 - positive.size / x.size
    if positive.size < 2 or np.ptp(positive) == 0:
        raise ValueError("gamma fit needs at least two different positive totals")
    mean = positive.mean()
    a = np.log(mean) - np.log(positive).mean()  # > 0 by Jensen's inequality
    shape = (1 + np.sqrt(1 + 4 * a / 3)) / (4 * a)
    for _ in range(50):
        step = (np.log(shape) - special.digamma(shape) - a) / (
            1 / shape - special.polygamma(1, shape)
        )
        shape = max(shape - step, shape / 10)
        if abs(step) < 1e-12 * shape:
            break
    return float(shape), float(mean / shape), float(zero_share)


def _spi_of(totals: np.ndarray, reference: np.ndarray) -> np.ndarray:
    shape, scale, zero_share = fit_gamma(reference)
    cumulative = zero_share + (1 - zero_share) * stats.gamma.cdf(totals, shape, scale=scale)
    return np.clip(stats.norm.ppf(cumulative), -SPI_LIMIT, SPI_LIMIT)


def spi(totals, calendar_month=None) -> np.ndarray:
    """SPI of k-month totals (NaN totals give NaN).

    With ``calendar_month`` (1–12 for each total) every calendar month gets its own gamma fit,
    as McKee et al. do; without it one fit serves all totals.
    """
    x = np.asarray(totals, dtype=float)
    result = np.full(x.shape, np.nan)
    known = ~np.isnan(x)
    if calendar_month is None:
        result[known] = _spi_of(x[known], x[known])
        return result
    months = np.asarray(calendar_month)
    for month in np.unique(months[known]):
        chosen = known & (months == month)
        result[chosen] = _spi_of(x[chosen], x[chosen])
    return result


def spi_class(values) -> np.ndarray:
    """0 no drought, 1 moderate, 2 severe, 3 extreme."""
    v = np.asarray(values, dtype=float)
    return sum((v <= threshold).astype(np.int8) for threshold in SPI_THRESHOLDS)


def monthly_totals(daily: pd.Series) -> pd.Series:
    """Totals of complete calendar months (a month missing any day is left out), by month start."""
    days = daily.groupby(daily.index.to_period("M"))
    totals, counts = days.sum(), days.count()
    complete = counts.to_numpy() == totals.index.days_in_month
    totals = totals[complete]
    totals.index = totals.index.to_timestamp()
    return totals


def rolling_totals(monthly: pd.Series, months: int) -> pd.Series:
    """Totals over ``months`` consecutive months, dated by their last month; only where every
    month of the window is present."""
    regular = monthly.asfreq("MS")
    summed = regular.rolling(months, min_periods=months).sum()
    return summed.dropna()


def percentile_of(values, reference) -> np.ndarray:
    """Weibull percentile of each value among the reference values: 100·#(ref ≤ x)/(n + 1)."""
    ordered = np.sort(np.asarray(reference, dtype=float))
    at_or_below = np.searchsorted(ordered, np.asarray(values, dtype=float), side="right")
    return 100.0 * at_or_below / (ordered.size + 1)


def _day_of_year(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).day_of_year.to_numpy()


def _same_season(days_of_year: np.ndarray, day: int, window: int) -> np.ndarray:
    distance = np.abs(days_of_year - day)
    return np.minimum(distance, 366 - distance) <= window


def _seasonal_reference(reference, reference_days, day: int, window: int) -> np.ndarray:
    if window >= 183:
        return reference
    return reference[_same_season(reference_days, day, window)]


def seasonal_threshold(dates, reference, reference_dates, window: int, upper_percentile: float):
    """Per date, the value below which ``seasonal_percentile`` is ≤ ``upper_percentile``
    (inf when every value is).

    percentile ≤ u ⇔ #(ref ≤ x) ≤ m = ⌊u(n+1)/100⌋ ⇔ x < the (m+1)-th smallest reference value.
    """
    reference = np.asarray(reference, dtype=float)
    days, reference_days = _day_of_year(dates), _day_of_year(reference_dates)
    result = np.empty(days.size)
    for i, day in enumerate(days):
        ordered = np.sort(_seasonal_reference(reference, reference_days, day, window))
        allowed = int(np.floor(upper_percentile * (ordered.size + 1) / 100 + 1e-9))
        result[i] = ordered[allowed] if allowed < ordered.size else np.inf
    return result


def seasonal_percentile(values, dates, reference, reference_dates, window: int = 15):
    """Percentile of each value among the reference values within ± ``window`` days of the
    same calendar day, all years of the reference (183 or more: the whole reference).

    ``values`` has its last axis along ``dates`` (leading axes, e.g. ensemble members, share
    each date's reference).
    """
    values = np.asarray(values, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if window >= 183:
        return percentile_of(values, reference)
    days, reference_days = _day_of_year(dates), _day_of_year(reference_dates)
    result = np.empty(values.shape)
    for day in np.unique(days):
        chosen = days == day
        result[..., chosen] = percentile_of(
            values[..., chosen], _seasonal_reference(reference, reference_days, day, window)
        )
    return result


def usdm_class(percentile) -> np.ndarray:
    """−1 no drought, 0 … 4 for D0 … D4."""
    p = np.asarray(percentile, dtype=float)
    # The tolerance keeps a percentile exactly on a bound (20 = 100·20/100) in the class even
    # when 100·k/(n+1) rounds a hair above it, as ``seasonal_threshold`` assumes.
    return sum((p <= bound + 1e-9).astype(np.int8) for bound in USDM_UPPER_PERCENTILES) - 1
