"""Synthetic river gauges: daily rainfall, temperature, evapotranspiration and discharge.

Per gauge (catchment of random area and GR4J parameters drawn around SCIENCE.md's medians):

- wet days from a two-state Markov chain, p01 and p11 with a seasonal cycle around Seattle's
  0.244 and 0.673; wet-day amounts Gamma(k = 0.80, θ = 8.9 mm) (Richardson 1981), plus a few
  multi-day storms of 40–120 mm/d so the record holds extremes;
- temperature: a seasonal cycle plus AR(1) anomalies (°C);
- PET by Oudin (2005) at the gauge's latitude;
- discharge from GR4J (Perrin et al. 2003) in m³/s, with 5 % lognormal measurement error.

Rows are written gauge by gauge (one Parquet row group each), so a size of thousands of gauges
streams to disk without holding them in memory. Marked synthetic in the metadata.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from dte_twins.environment import gr4j
from dte_twins.environment.evapotranspiration import oudin_pet
from dte_twins.environment.hydraulics import mm_per_day_to_m3s

__all__ = ["gauge_records", "gauge_count", "YEARS"]

YEARS = 30
START = "1991-01-01"


def gauge_count(scale: float) -> int:
    return max(1, int(round(4 * scale)))


def _one_gauge(gauge: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, gauge])
    time = pd.date_range(START, periods=int(YEARS * 365.25), freq="D")
    days = len(time)
    season = np.cos(2 * np.pi * (time.day_of_year.to_numpy() - 15) / 365.25)  # +1 in winter
    p01, p11 = 0.244 + 0.06 * season, 0.673 + 0.08 * season
    wet = np.zeros(days, bool)
    draws = rng.random(days)
    for day in range(1, days):
        wet[day] = draws[day] < (p11[day] if wet[day - 1] else p01[day])
    rain = np.where(wet, rng.gamma(0.80, 8.9, days), 0.0)
    for start in rng.choice(days - 3, size=YEARS // 3, replace=False):
        rain[start : start + rng.integers(1, 4)] += rng.uniform(40, 120)
    anomaly = np.zeros(days)
    noise = rng.normal(0, 2.0, days)
    for day in range(1, days):
        anomaly[day] = 0.7 * anomaly[day - 1] + noise[day]
    latitude = rng.uniform(45, 55)
    temperature = 9.0 - 8.0 * season + anomaly
    pet = oudin_pet(temperature, latitude, time.day_of_year)
    area = float(np.exp(rng.uniform(np.log(50), np.log(3000))))
    x = (rng.uniform(200, 800), rng.uniform(-1.5, 0.5), rng.uniform(40, 200), rng.uniform(1.2, 3))
    runoff = gr4j.simulate(rain, pet, *x)[0]["discharge"][0]
    discharge = mm_per_day_to_m3s(runoff, area) * rng.lognormal(-(0.05**2) / 2, 0.05, days)
    return pd.DataFrame(
        {
            "gauge": f"G{gauge:05d}",
            "precipitation": rain,
            "temperature": temperature,
            "pet": pet,
            "discharge": discharge,
            "area_km2": area,
            "latitude": latitude,
        },
        index=pd.Index(time, name="time"),
    )


def gauge_records(scale: float, seed: int = 20261124) -> Iterator[pd.DataFrame]:
    """Daily records of ``gauge_count(scale)`` gauges over 30 years, one gauge at a time."""
    for gauge in range(gauge_count(scale)):
        yield _one_gauge(gauge, seed)
