"""Terrain analysis for flood mapping: depression filling, D8 flow, accumulation, HAND.

Height Above the Nearest Drainage (HAND; Rennó et al. 2008, Nobre et al. 2011) is the elevation
of a cell above the first channel cell its water reaches downstream. With a river stage h above
the channel bed, a cell floods when HAND < h, to a depth d = max(0, h − HAND) (the HAND flood
mapping used operationally by NOAA's National Water Model, Zheng et al. 2018).

Steps, all vectorised over the grid:

1. Depression filling (Planchon & Darboux 2001): the lowest surface W ≥ z from which every cell
   descends to the grid's edge by at least ε per step, iterated as
   W ← max(z, min(W, min_neighbours(W_n + ε))) from W = +∞ inside and W = z on the edge.
2. D8 flow directions (O'Callaghan & Mark 1984): each cell drains to the neighbour of steepest
   descent on W (drop over distance; diagonals √2 longer). Edge cells are outlets.
3. Flow accumulation: a = 1 + Σ a(upstream), solved at once as the sparse triangular system
   (I − R) a = 1, R[j, i] = 1 when cell i drains to j.
4. Channels: cells draining at least ``channel_cells`` cells. HAND = W − W(channel reached), found
   by pointer doubling along the D8 receivers; cells that reach the edge without meeting a
   channel are not connected to the river and get NaN.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.linalg import spsolve

__all__ = [
    "fill_depressions",
    "flow_receivers",
    "flow_accumulation",
    "height_above_nearest_drainage",
    "nearest_drainage",
    "NEIGHBOUR_OFFSETS",
]

#: (row, column) offsets of the eight neighbours
NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))

#: minimal drop per step on the filled surface (m); small against any DEM's vertical precision
FILL_EPSILON = 1e-5


def _shifted(grid: np.ndarray, dr: int, dc: int, fill: float) -> np.ndarray:
    """``out[r, c] = grid[r + dr, c + dc]``, ``fill`` where that falls off the grid."""
    rows, cols = grid.shape
    out = np.full_like(grid, fill)
    out[max(0, -dr) : rows - max(0, dr), max(0, -dc) : cols - max(0, dc)] = grid[
        max(0, dr) : rows - max(0, -dr), max(0, dc) : cols - max(0, -dc)
    ]
    return out


def fill_depressions(elevation: np.ndarray, epsilon: float = FILL_EPSILON) -> np.ndarray:
    """The depression-free surface of Planchon & Darboux (2001) draining to the grid's edge."""
    z = np.asarray(elevation, dtype=float)
    if z.ndim != 2 or min(z.shape) < 3:
        raise ValueError(f"elevation must be a 2-D grid of at least 3×3 cells, not {z.shape}")
    filled = np.full_like(z, np.inf)
    edge = np.zeros(z.shape, bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    filled[edge] = z[edge]
    while True:
        lowest_neighbour = np.min(
            [_shifted(filled, dr, dc, np.inf) for dr, dc in NEIGHBOUR_OFFSETS], axis=0
        )
        updated = np.maximum(z, np.minimum(filled, lowest_neighbour + epsilon))
        updated[edge] = z[edge]
        if np.array_equal(updated, filled):
            return filled
        filled = updated


def flow_receivers(filled: np.ndarray, dx: float = 1.0, dy: float = 1.0) -> np.ndarray:
    """Flat index of the cell each cell drains to (D8, steepest descent); outlets drain to
    themselves."""
    rows, cols = filled.shape
    index = np.arange(filled.size).reshape(filled.shape)
    best_slope = np.zeros(filled.shape)
    receiver = index.copy()
    for dr, dc in NEIGHBOUR_OFFSETS:
        distance = np.hypot(dr * dy, dc * dx)
        slope = (filled - _shifted(filled, dr, dc, np.inf)) / distance
        steeper = slope > best_slope
        best_slope = np.where(steeper, slope, best_slope)
        receiver = np.where(steeper, _shifted(index, dr, dc, -1), receiver)
    edge = np.zeros(filled.shape, bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    receiver[edge] = index[edge]  # water leaving over the edge leaves the map
    return receiver.ravel()


def flow_accumulation(receivers: np.ndarray) -> np.ndarray:
    """Number of cells draining through each cell (itself included)."""
    n = receivers.size
    cells = np.arange(n)
    moving = receivers != cells
    routing = sparse.csc_matrix(
        (np.ones(moving.sum()), (receivers[moving], cells[moving])), shape=(n, n)
    )
    return spsolve(sparse.identity(n, format="csc") - routing, np.ones(n))


def nearest_drainage(receivers: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Flat index of the first channel cell (or outlet) each cell's water reaches."""
    cells = np.arange(receivers.size)
    # Pointer doubling: every cell jumps along its receivers until it sits on a channel cell or
    # an outlet; log2(longest flow path) rounds.
    target = np.where(channel, cells, receivers)
    while True:
        jumped = np.where(channel[target], target, target[target])
        if np.array_equal(jumped, target):
            return target
        target = jumped


def height_above_nearest_drainage(
    elevation: np.ndarray,
    dx: float,
    dy: float,
    channel_cells: float | None = None,
    channel: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """HAND and the quantities behind it, for a grid of cell size dx × dy metres.

    Channels are the given ``channel`` mask, else cells draining at least ``channel_cells``
    cells. Returns ``hand`` (m; NaN off the river's drainage), ``filled`` elevation,
    ``accumulation`` (cells) and ``channel`` (bool), each shaped like ``elevation``.
    """
    if (channel is None) == (channel_cells is None):
        raise ValueError("give either channel_cells or a channel mask")
    filled = fill_depressions(elevation)
    receivers = flow_receivers(filled, dx, dy)
    accumulation = flow_accumulation(receivers)
    if channel is None:
        channel = accumulation >= channel_cells
    channel = np.asarray(channel, bool).ravel()
    target = nearest_drainage(receivers, channel)
    flat = filled.ravel()
    hand = np.where(channel[target], flat - flat[target], np.nan)
    shape = filled.shape
    return {
        "hand": hand.reshape(shape),
        "filled": filled,
        "accumulation": accumulation.reshape(shape),
        "channel": channel.reshape(shape),
    }
