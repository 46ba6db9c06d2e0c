"""Synthetic soil map: texture and the bucket parameters the drought twin needs, per cell.

Sand and clay fractions vary smoothly over the map (sums of random plane waves, like the
floodplain's relief); silt is the rest. Hydraulic properties follow Saxton & Rawls (2006)
style linear pedotransfer approximations, kept simple and documented here:

- field capacity θ_fc ≈ 0.36 − 0.25·sand + 0.25·clay and wilting point θ_wp ≈ 0.03 + 0.35·clay
  (m³/m³), so plant-available water θ_fc − θ_wp is largest in loams and smallest in sands;
- the bucket capacity over a rooting depth d (0.4–1.2 m, deeper in finer soils) is
  Smax = 1000·d·(θ_fc − θ_wp) mm, within the 50–300 mm range of SCIENCE.md B;
- the drainage time τ (days) grows with clay: τ = 10 + 190·clay;
- the stress fraction p = 0.5 + 0.3·sand (sandy soils let plants draw closer to dryness).

Every value comes from the seed and global coordinates, block by block, so large maps build in
chunks with Dask. Marked synthetic.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

__all__ = ["soil_properties"]

CELL_M = 500.0
CHUNK = 1024


def _texture_field(x, y, waves, base, spread):
    xx, yy = np.meshgrid(x, y)
    field = np.zeros(xx.shape)
    for amplitude, kx, ky, phase in waves:
        field += amplitude * np.sin(2 * np.pi * (kx * xx + ky * yy) + phase)
    return np.clip(base + spread * np.tanh(field), 0.02, 0.9)


def soil_properties(scale: float, seed: int = 20261124) -> xr.Dataset:
    """A soil map of ``64·√scale`` cells a side (500 m cells; 32 km at the default size)."""
    cells = max(16, int(round(64 * np.sqrt(scale))))
    rng = np.random.default_rng([seed, 7])
    sand_waves = np.column_stack(
        [rng.uniform(0.2, 1, 12), rng.normal(0, 1 / 20_000, (12, 2)), rng.uniform(0, 6.3, 12)]
    )
    clay_waves = np.column_stack(
        [rng.uniform(0.2, 1, 12), rng.normal(0, 1 / 20_000, (12, 2)), rng.uniform(0, 6.3, 12)]
    )
    x = (np.arange(cells) + 0.5) * CELL_M
    y = (np.arange(cells) + 0.5) * CELL_M
    units = {
        "sand": "1",
        "clay": "1",
        "rooting_depth": "m",
        "capacity": "mm",
        "drainage_time": "d",
        "stress_fraction": "1",
    }
    template = da.zeros((cells, cells), chunks=min(cells, CHUNK), dtype="float32")

    def layers(_, block_info=None):
        """Every layer of one block, stacked in the order of ``units``: textures drawn once."""
        (r0, r1), (c0, c1) = block_info[0]["array-location"]
        sand = _texture_field(x[c0:c1], y[r0:r1], sand_waves, 0.4, 0.3)
        clay = np.minimum(_texture_field(x[c0:c1], y[r0:r1], clay_waves, 0.2, 0.15), 0.95 - sand)
        depth = 0.4 + 0.8 * np.clip(1 - sand, 0, 1)
        capacity = 1000 * depth * ((0.36 - 0.25 * sand + 0.25 * clay) - (0.03 + 0.35 * clay))
        values = {
            "sand": sand,
            "clay": clay,
            "rooting_depth": depth,
            "capacity": np.clip(capacity, 50, 300),
            "drainage_time": 10 + 190 * clay,
            "stress_fraction": 0.5 + 0.3 * sand,
        }
        return np.stack([values[name] for name in units]).astype("float32")

    stacked = da.map_blocks(
        layers, template, new_axis=0, chunks=((len(units),), *template.chunks), dtype="float32"
    )
    return xr.Dataset(
        {
            name: (("y", "x"), stacked[index], {"units": unit})
            for index, (name, unit) in enumerate(units.items())
        },
        coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
        attrs={"synthetic": 1, "cell_size_m": CELL_M},
    )
