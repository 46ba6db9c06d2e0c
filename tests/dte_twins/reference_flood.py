"""Plain reference implementations of the flood twin's kernels: obviously correct loops.

They are test oracles for the vectorised kernels (``gr4j.simulate``, ``terrain``) and the
baseline the benchmark compares those kernels against.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from dte_twins.environment.terrain import FILL_EPSILON, NEIGHBOUR_OFFSETS


def gr4j_one(precipitation, pet, x1, x2, x3, x4):
    """GR4J for one parameter set, one day at a time (Perrin et al. 2003); discharge in mm/d."""

    def s_curve1(t):
        return 0.0 if t <= 0 else (1.0 if t >= x4 else (t / x4) ** 2.5)

    def s_curve2(t):
        if t <= 0:
            return 0.0
        if t <= x4:
            return 0.5 * (t / x4) ** 2.5
        return 1.0 - 0.5 * (2 - t / x4) ** 2.5 if t < 2 * x4 else 1.0

    uh1 = [s_curve1(j) - s_curve1(j - 1) for j in range(1, math.ceil(x4) + 1)]
    uh2 = [s_curve2(j) - s_curve2(j - 1) for j in range(1, math.ceil(2 * x4) + 1)]
    queue1, queue2 = [0.0] * len(uh1), [0.0] * len(uh2)
    store, routing = 0.3 * x1, 0.5 * x3
    discharge = np.empty(len(precipitation))
    for day, (p, e) in enumerate(zip(precipitation, pet, strict=True)):
        net_rain, net_evap = max(p - e, 0.0), max(e - p, 0.0)
        ratio = store / x1
        if net_rain > 0:
            th = math.tanh(net_rain / x1)
            to_store = x1 * (1 - ratio**2) * th / (1 + ratio * th)
            evap = 0.0
        else:
            th = math.tanh(net_evap / x1)
            to_store = 0.0
            evap = store * (2 - ratio) * th / (1 + (1 - ratio) * th)
        store += to_store - evap
        percolation = store * (1 - (1 + (4 * store / (9 * x1)) ** 4) ** -0.25)
        store -= percolation
        effective = percolation + net_rain - to_store
        for j in range(len(uh1)):
            queue1[j] += 0.9 * effective * uh1[j]
        for j in range(len(uh2)):
            queue2[j] += 0.1 * effective * uh2[j]
        q9, q1 = queue1.pop(0), queue2.pop(0)
        queue1.append(0.0)
        queue2.append(0.0)
        exchange = x2 * (routing / x3) ** 3.5
        routing = max(0.0, routing + q9 + exchange)
        outflow = routing * (1 - (1 + (routing / x3) ** 4) ** -0.25)
        routing -= outflow
        discharge[day] = outflow + max(0.0, q1 + exchange)
    return discharge


def gr4j_reference(precipitation, pet, x1, x2, x3, x4):
    """Several parameter sets (arrays of equal length), one after another."""
    sets = np.broadcast_arrays(*map(np.atleast_1d, (x1, x2, x3, x4)))
    return np.array([gr4j_one(precipitation, pet, *values) for values in zip(*sets, strict=True)])


def hand_reference(elevation, dx, dy, channel_cells):
    """Priority-flood filling (Barnes et al. 2014), D8, accumulation and HAND, cell by cell."""
    z = np.asarray(elevation, float)
    rows, cols = z.shape
    filled = np.full_like(z, np.inf)
    queue = []
    for r in range(rows):
        for c in range(cols):
            if r in (0, rows - 1) or c in (0, cols - 1):
                filled[r, c] = z[r, c]
                heapq.heappush(queue, (z[r, c], r, c))
    while queue:
        level, r, c = heapq.heappop(queue)
        for dr, dc in NEIGHBOUR_OFFSETS:
            nr, nc = r + dr, c + dc
            if 0 <= nr < rows and 0 <= nc < cols and filled[nr, nc] == np.inf:
                filled[nr, nc] = max(z[nr, nc], level + FILL_EPSILON)
                heapq.heappush(queue, (filled[nr, nc], nr, nc))
    receiver = {}
    for r in range(rows):
        for c in range(cols):
            best, target = 0.0, (r, c)
            if 0 < r < rows - 1 and 0 < c < cols - 1:
                for dr, dc in NEIGHBOUR_OFFSETS:
                    slope = (filled[r, c] - filled[r + dr, c + dc]) / math.hypot(dr * dy, dc * dx)
                    if slope > best:
                        best, target = slope, (r + dr, c + dc)
            receiver[r, c] = target
    accumulation = np.ones_like(z)
    for r, c in sorted(receiver, key=lambda cell: -filled[cell]):
        if receiver[r, c] != (r, c):
            accumulation[receiver[r, c]] += accumulation[r, c]
    channel = accumulation >= channel_cells
    hand = np.full_like(z, np.nan)
    for r in range(rows):
        for c in range(cols):
            cell = (r, c)
            while not channel[cell] and receiver[cell] != cell:
                cell = receiver[cell]
            if channel[cell]:
                hand[r, c] = filled[r, c] - filled[cell]
    return {"hand": hand, "filled": filled, "accumulation": accumulation, "channel": channel}
