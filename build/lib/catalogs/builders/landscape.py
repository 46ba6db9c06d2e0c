"""Synthetic floodplain: a DEM with a meandering river, tributaries and exposed buildings.

Terrain z(x, y) in metres on a grid of ``cell`` metres, the river flowing towards x = 0:

    z = s_x·x + s_v·|y − c(x)| + Σ_k tributary_k + relief(x, y)

- the valley centreline c(x) meanders as a sum of sinusoids with random phases;
- the valley sides rise at s_v (a V valley, whose flood width the HAND method knows exactly);
- tributaries are smaller V valleys joining the main one at random places;
- relief is a sum of random plane waves at several scales (a cheap fractal surface).

Buildings (``asset_area``, m² of floor per cell) cluster in villages on the floodplain at random
points along the river. Every random number comes from a generator keyed by the seed, and every
term is evaluated from global coordinates, so any block of the grid is computed on its own: large
sizes are built chunk by chunk with Dask and give the same values as small ones where they
overlap. Marked synthetic in the metadata.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

__all__ = ["floodplain", "CHUNK"]

CHUNK = 1024  # cells per side of one block
CELL_M = 25.0


def _parameters(seed: int, length_m: float, width_m: float) -> dict:
    rng = np.random.default_rng(seed)
    meander_wavelengths = length_m / rng.uniform(1.5, 6.0, 4)
    tributaries = max(2, int(length_m / 3000))
    return {
        "meander": (
            rng.uniform(0.03, 0.08, 4) * width_m,  # amplitudes
            2 * np.pi / meander_wavelengths,
            rng.uniform(0, 2 * np.pi, 4),
        ),
        "tributary_x": rng.uniform(0.1, 0.9, tributaries) * length_m,
        "tributary_side": rng.choice([-1.0, 1.0], tributaries),
        "relief": (
            rng.uniform(0.3, 2.0, 24) * np.repeat([8.0, 2.0, 0.5], 8) / 4,  # amplitudes (m)
            rng.normal(size=(24, 2)) / np.repeat([2000.0, 400.0, 80.0], 8)[:, None],
            rng.uniform(0, 2 * np.pi, 24),
        ),
        "villages": np.column_stack(
            [
                rng.uniform(0.05, 0.95, 3 + tributaries) * length_m,
                rng.normal(0, 120, 3 + tributaries),
            ]
        ),
        "asset_seed": int(rng.integers(2**32)),
    }


def _centreline(x, meander):
    amplitude, wavenumber, phase = meander
    return np.sum(amplitude[:, None] * np.sin(wavenumber[:, None] * x[None, :] + phase[:, None]), 0)


def _elevation_block(x, y, p):
    xx, yy = np.meshgrid(x, y)
    centre = _centreline(x, p["meander"])[None, :]
    distance = np.abs(yy - centre)
    z = 40.0 + 0.002 * xx + 0.03 * distance
    for x0, side in zip(p["tributary_x"], p["tributary_side"], strict=True):
        # a side valley coming down from the hills towards the river at x0
        along = side * (yy - centre)
        notch = np.clip(0.02 * np.abs(xx - x0 - 0.3 * np.clip(along, 0, None)) - 4.0, None, 0.0)
        z += np.where(along > 0, notch, 0.0)
    amplitude, wave, phase = p["relief"]
    for a, (kx, ky), ph in zip(amplitude, wave, phase, strict=True):
        z += a * np.sin(2 * np.pi * (kx * xx + ky * yy) + ph) * np.clip(distance / 300, 0, 1)
    return z.astype("float32")


def _assets_block(x, y, p, block_id):
    xx, yy = np.meshgrid(x, y)
    centre = _centreline(x, p["meander"])[None, :]
    density = np.zeros(xx.shape)
    for vx, vy in p["villages"]:
        density += np.exp(-(((xx - vx) / 400) ** 2) - ((yy - centre - vy) / 150) ** 2)
    rng = np.random.Generator(np.random.Philox(key=p["asset_seed"], counter=block_id))
    built = rng.random(xx.shape) < 0.6 * density
    return np.where(built, rng.uniform(60, 400, xx.shape), 0.0).astype("float32")


def floodplain(scale: float, seed: int = 20261124) -> xr.Dataset:
    """The floodplain at a size ∝ ``scale`` (default: 320 × 160 cells of 25 m, 8 × 4 km)."""
    columns = max(64, int(round(320 * np.sqrt(scale))))
    rows = max(32, columns // 2)
    length_m, width_m = columns * CELL_M, rows * CELL_M
    p = _parameters(seed, length_m, width_m)
    x = (np.arange(columns) + 0.5) * CELL_M
    y = (np.arange(rows) + 0.5) * CELL_M - width_m / 2
    chunks = (min(rows, CHUNK), min(columns, CHUNK))
    template = da.zeros((rows, columns), chunks=chunks, dtype="float32")

    def block(kind):
        def compute(_, block_info=None):
            (r0, r1), (c0, c1) = block_info[0]["array-location"]
            if kind == "elevation":
                return _elevation_block(x[c0:c1], y[r0:r1], p)
            if kind == "channel":
                centre = _centreline(x[c0:c1], p["meander"])
                return np.abs(y[r0:r1, None] - centre[None, :]) < CELL_M / 2
            block_id = [r0 // CHUNK, c0 // CHUNK, 0, 0]
            return _assets_block(x[c0:c1], y[r0:r1], p, block_id)

        dtype = bool if kind == "channel" else "float32"
        return da.map_blocks(compute, template, dtype=dtype)

    return xr.Dataset(
        {
            "elevation": (("y", "x"), block("elevation"), {"units": "m"}),
            "asset_area": (("y", "x"), block("assets"), {"units": "m²"}),
            "channel": (("y", "x"), block("channel"), {"long_name": "river cells"}),
        },
        coords={
            "x": ("x", x, {"units": "m", "long_name": "distance downstream of the outlet"}),
            "y": ("y", y, {"units": "m", "long_name": "distance across the valley"}),
        },
        attrs={"synthetic": 1, "cell_size_m": CELL_M, "crs": "local metric grid"},
    )
