"""From river stage to flooded land and damage: HAND flood mapping on a DEM.

A terrain is an ``xarray.Dataset`` on a regular grid with dimensions ``(y, x)``, coordinates in
metres (projected), and

- ``elevation`` (m), the DEM;
- ``asset_area`` (m², optional), the floor area of exposed buildings in each cell;
- ``channel`` (bool, optional), the river cells; without it, cells draining at least
  ``attrs["channel_cells"]`` cells (default 1 % of the grid) are channels.

``prepare_terrain`` checks it and adds ``hand`` once (it depends on the terrain only), so every
run and ensemble member reuses it; the last few terrains' HAND is kept by content, so twins made
again on the same terrain in one process (each Panel session of a dashboard) skip the work. The
stage at the gauge is taken to hold along the whole river network of the map (one reach; see
``terrain`` for the method). Then, for a stage h:

    depth = max(0, h − HAND)       flooded area = Σ cell area · 1[HAND < h]
    damage = Σ asset_area · max_damage · f(depth)            (``damage``)
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
import xarray as xr

from dte_twins.environment.damage import asset_damage
from dte_twins.environment.terrain import height_above_nearest_drainage
from dte_twins.errors import InputError

__all__ = ["prepare_terrain", "cell_size", "flood_depth", "flood_impacts"]

#: stages at which damage is computed exactly; values in between are interpolated
DAMAGE_CURVE_POINTS = 256
#: terrains whose HAND is kept (by a digest of what it depends on). Measured in a Panel
#: process with 20 flood dashboard sessions opening at once: HAND was 70 % of each session's
#: start, and a third of the process's work.
HAND_KEPT = 4

_hands: OrderedDict[bytes, np.ndarray] = OrderedDict()
_hands_lock = threading.Lock()


def cell_size(terrain: xr.Dataset) -> tuple[float, float]:
    """Cell width and height in metres, from the coordinates."""
    return tuple(float(abs(terrain[axis][1] - terrain[axis][0])) for axis in ("x", "y"))


def prepare_terrain(terrain) -> xr.Dataset:
    """A checked copy of the terrain with ``hand`` (m) added; InputError says what is wrong."""
    if not isinstance(terrain, xr.Dataset):
        raise InputError(f"terrain must be an xarray Dataset, not {type(terrain).__name__}.")
    if "elevation" not in terrain:
        raise InputError(
            "terrain needs an 'elevation' variable (m) on dims (y, x); it has "
            f"{', '.join(map(str, terrain.data_vars)) or 'no variables'}."
        )
    elevation = terrain["elevation"]
    if elevation.dims != ("y", "x") or min(elevation.shape) < 3:
        raise InputError(
            f"terrain 'elevation' must have dims ('y', 'x') and at least 3×3 cells; it has "
            f"dims {elevation.dims} and shape {elevation.shape}."
        )
    # Read once (a catalog terrain is lazy Zarr), into a new Dataset: every run and member then
    # uses arrays in memory.
    terrain = terrain.compute()
    for axis in ("x", "y"):
        steps = np.diff(terrain[axis].to_numpy().astype(float))
        if not (np.all(steps != 0) and np.allclose(steps, steps[0], rtol=1e-6)):
            raise InputError(f"terrain coordinate {axis!r} must be regularly spaced (metres).")
    z = elevation.to_numpy().astype(float)
    if not np.isfinite(z).all():
        row, col = np.argwhere(~np.isfinite(z))[0]
        raise InputError(
            f"terrain 'elevation' must be finite everywhere; cell (y={row}, x={col}) is "
            f"{z[row, col]}. Fill missing cells before use."
        )
    if "asset_area" in terrain:
        area = terrain["asset_area"].to_numpy()
        if terrain["asset_area"].dims != ("y", "x") or not (np.isfinite(area) & (area >= 0)).all():
            raise InputError("terrain 'asset_area' must be ≥ 0 m² in every cell on dims (y, x).")
    dx, dy = cell_size(terrain)
    if "channel" in terrain:
        drainage = {"channel": terrain["channel"].to_numpy().astype(bool)}
    else:
        drainage = {"channel_cells": float(terrain.attrs.get("channel_cells", 0.01 * z.size))}
    hand = _hand_of(z, dx, dy, drainage)
    prepared = terrain  # a new Dataset from compute(): the caller's stays as it was
    prepared["hand"] = (("y", "x"), hand, {"units": "m", "long_name": "height above drainage"})
    if "asset_area" not in prepared:
        prepared["asset_area"] = (("y", "x"), np.zeros_like(z), {"units": "m²"})
    return prepared


def _hand_of(z: np.ndarray, dx: float, dy: float, drainage: dict) -> np.ndarray:
    """HAND of elevation ``z`` (a copy of the kept one when this terrain was seen lately)."""
    digest = hashlib.blake2b(repr((z.shape, dx, dy, sorted(drainage))).encode(), digest_size=20)
    digest.update(np.ascontiguousarray(z).tobytes())
    for value in drainage.values():
        digest.update(np.asarray(value).tobytes())
    key = digest.digest()
    with _hands_lock:
        kept = _hands.get(key)
        if kept is not None:
            _hands.move_to_end(key)
    if kept is None:
        kept = height_above_nearest_drainage(z, dx, dy, **drainage)["hand"]
        kept.setflags(write=False)
        with _hands_lock:
            _hands[key] = kept
            while len(_hands) > HAND_KEPT:
                _hands.popitem(last=False)
    return kept.copy()  # the caller's to change


def flood_depth(hand: np.ndarray, stage_m: float) -> np.ndarray:
    """Water depth (m) in each cell at a stage above the channel bed; NaN off the network → 0."""
    return np.clip(stage_m - np.nan_to_num(hand, nan=np.inf), 0.0, None)


def flood_impacts(terrain: xr.Dataset, stage_m: np.ndarray, max_damage_eur_m2: float) -> dict:
    """Flooded area (km²) and damage (€) for every stage of a series, and the peak depth map."""
    stage_m = np.asarray(stage_m, dtype=float)
    hand = terrain["hand"].to_numpy()
    dx, dy = cell_size(terrain)
    connected = np.sort(hand[np.isfinite(hand)])
    # A cell floods when HAND < stage: counting sorted HAND values is exact.
    flooded_area = np.searchsorted(connected, stage_m, side="left") * dx * dy / 1e6
    assets = terrain["asset_area"].to_numpy()
    exposed = (assets > 0) & np.isfinite(hand)
    levels = np.linspace(0.0, max(float(stage_m.max(initial=0.0)), 1e-9), DAMAGE_CURVE_POINTS)
    depth_at_levels = np.clip(levels[:, None] - hand[exposed][None, :], 0.0, None)
    damage_at_levels = asset_damage(depth_at_levels, assets[exposed], max_damage_eur_m2).sum(1)
    peak_depth = flood_depth(hand, float(stage_m.max(initial=0.0)))
    return {
        "flooded_area": flooded_area,
        "damage": np.interp(stage_m, levels, damage_at_levels),
        "max_depth": peak_depth,
        "peak_damage": float(asset_damage(peak_depth, assets, max_damage_eur_m2).sum()),
    }
