"""Small synthetic inputs for twin tests and benchmarks (the catalog builds the real ones)."""

import numpy as np
import pandas as pd
import xarray as xr


def synthetic_forcing(days=400, seed=3) -> pd.DataFrame:
    """Markov-chain wet days with gamma amounts (Seattle-like, SCIENCE.md) and a seasonal PET."""
    rng = np.random.default_rng(seed)
    wet = np.zeros(days, bool)
    for day in range(1, days):
        wet[day] = rng.random() < (0.673 if wet[day - 1] else 0.244)
    rain = np.where(wet, rng.gamma(0.80, 8.9, days), 0.0)
    pet = 2.0 + 1.5 * np.sin(2 * np.pi * (np.arange(days) - 80) / 365)
    index = pd.date_range("2020-01-01", periods=days, freq="D")
    return pd.DataFrame({"precipitation": rain, "pet": pet}, index=index)


def valley(width_m=600.0, length_m=2000.0, cell_m=10.0, side_slope=0.02, bed_slope=1e-4):
    """A V valley z = side_slope·|x| + bed_slope·y draining to y = 0, houses on both banks."""
    x = np.arange(-width_m / 2, width_m / 2 + cell_m / 2, cell_m)
    y = np.arange(0.0, length_m + cell_m / 2, cell_m)
    xx, yy = np.meshgrid(x, y)
    assets = np.where((np.abs(xx) > 30) & (np.abs(xx) < 120) & (yy % 200 < 50), 80.0, 0.0)
    return xr.Dataset(
        {
            "elevation": (("y", "x"), side_slope * np.abs(xx) + bed_slope * yy, {"units": "m"}),
            "asset_area": (("y", "x"), assets, {"units": "m²"}),
        },
        coords={"x": x, "y": y},
    )
