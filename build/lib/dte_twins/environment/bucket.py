"""The soil-moisture bucket of Manabe (1969), integrated exactly within each day and vectorised
over members (ensemble members, parameter sets, grid cells).

Storage S (mm) between 0 and the capacity Smax obeys

    dS/dt = P − β·PET − Q,   β = min(1, S/(p·Smax)),   Q = max(0, S − Smax) + S/τ,

with daily precipitation P and potential evapotranspiration PET (mm/d) held constant over the
day. β is the evaporative efficiency: ET runs at the potential rate above the stress point p·Smax
and falls linearly to zero below it. Q is drainage S/τ (τ in days, infinite for none) plus
saturation excess: water above Smax leaves at once, so S never exceeds Smax and the excess is
reported as ``runoff``.

Time discretisation (why it is exact): on each side of the stress point the equation is linear,
dS/dt = a − kS, with

- below p·Smax: a = P, k = PET/(p·Smax) + 1/τ;
- above p·Smax: a = P − PET, k = 1/τ;
- at Smax with a − k·Smax ≥ 0: S stays at Smax and the surplus a − k·Smax is runoff.

A linear piece has the exact solution S(t) = S₀ + (a − kS₀)·t·φ(−kt), φ(z) = (eᶻ − 1)/z, and
reaches a boundary B after t = ln(1 + x)/k, x = k(B − S₀)/(a − kB) (written with log1p so k = 0,
τ = ∞ with PET = 0, is no special case). With constant forcing S moves monotonically within a
day (an autonomous one-dimensional equation), so a day is at most three pieces, e.g. below the
stress point → above it → saturated. Each piece is integrated exactly, so the linear case of
SCIENCE.md B test 1 (p = 1, S₀ = Smax = 150, P = 2, PET = 3, τ = 50: S(t) = 50 + 100·e^(−0.04t),
S(25 d) = 86.79) is reproduced to rounding error, with no sub-daily steps.

Fluxes come from the same pieces: ET = β·PET and drainage S/τ are split from the piece's outflow
a·t − ΔS in proportion to their coefficients, so the water balance ΣP − ΣET − Σdrainage − Σrunoff
+ Σincrement − ΔS closes to rounding error (tests check 1e−9·ΣP).

Assimilation inside the kernel (nudging, Hoke & Anthes 1976): on days with an observed storage
S_obs, the end-of-day storage moves by gain·(S_obs − S); gain 1 is direct insertion. The move is
reported as ``increment`` so the balance still closes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["simulate", "FLUXES"]

#: Daily outputs of ``simulate``, each of shape (members, days).
FLUXES = ("storage", "actual_et", "drainage", "runoff", "increment")

# A day is at most three exact pieces (see the module docstring); one more covers rounding.
_PIECES_PER_DAY = 4


def _as_members(value, members: int, name: str) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim > 1 or array.size not in (1, members):
        raise ValueError(f"{name} must be a scalar or have one value per member ({members})")
    return np.broadcast_to(array.reshape(-1), (members,)).astype(float)


def simulate(
    precipitation,
    pet,
    capacity,
    stress_fraction,
    drainage_time,
    initial_storage=None,
    observed_storage=None,
    gain: float = 1.0,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Run the bucket over daily forcing (mm/d, ≥ 0) of shape (days,) or (members, days).

    ``capacity`` Smax (mm), ``stress_fraction`` p (0 < p ≤ 1) and ``drainage_time`` τ (days,
    may be ``np.inf``) are scalars or arrays of shape (members,). ``initial_storage`` defaults to
    p·Smax (no stress); water above Smax leaves as runoff on the first day. ``observed_storage``
    (mm, NaN where nothing was observed; shape (days,) or (members, days)) nudges the storage at
    the end of each observed day with the given ``gain`` (1 = direct insertion).

    Returns the daily ``FLUXES`` (mm for storage, mm/d otherwise; shape (members, days)) and the
    final storage (members,), from which a later call can continue.
    """
    p_in = np.atleast_2d(np.asarray(precipitation, dtype=float))
    e_in = np.atleast_2d(np.asarray(pet, dtype=float))
    sizes = (np.size(capacity), np.size(stress_fraction), np.size(drainage_time))
    members = max(p_in.shape[0], e_in.shape[0], *sizes)
    if initial_storage is not None:
        members = max(members, np.size(initial_storage))
    days = p_in.shape[1]
    if e_in.shape[1] != days:
        raise ValueError(f"pet has {e_in.shape[1]} days but precipitation has {days}")
    precip = np.broadcast_to(p_in, (members, days))
    evap = np.broadcast_to(e_in, (members, days))
    s_max = _as_members(capacity, members, "capacity")
    s_stress = _as_members(stress_fraction, members, "stress_fraction") * s_max
    if np.any(s_max <= 0) or np.any(s_stress <= 0) or np.any(s_stress > s_max):
        raise ValueError("capacity must be > 0 and 0 < stress_fraction ≤ 1")
    tau = _as_members(drainage_time, members, "drainage_time")
    if np.any(tau <= 0):
        raise ValueError("drainage_time must be > 0 (np.inf for no drainage)")
    rate = 1.0 / tau  # 0 for τ = ∞
    if initial_storage is None:
        storage = s_stress.copy()
    else:
        storage = _as_members(initial_storage, members, "initial_storage").copy()
        if np.any(storage < 0) or not np.all(np.isfinite(storage)):
            raise ValueError("initial_storage must be finite and ≥ 0")
    targets = None
    if observed_storage is not None:
        targets = np.broadcast_to(
            np.atleast_2d(np.asarray(observed_storage, float)), (members, days)
        )

    # Outputs are filled day by day, so they are stored day-major; callers get (members, days)
    # views of them.
    out = {name: np.zeros((days, members)) for name in FLUXES}
    # Water above capacity at the start is saturation excess of the first day.
    if days:
        out["runoff"][0] = np.maximum(storage - s_max, 0.0)
    np.minimum(storage, s_max, out=storage)
    soil = _Soil.of(s_max, s_stress, rate)

    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 cases are replaced right after
        block_days = max(1, min(_BLOCK_DAYS, _BLOCK_VALUES // members))
        for first in range(0, days, block_days):
            block = slice(first, min(first + block_days, days))
            weather = _Weather.of(precip[:, block], evap[:, block], soil)
            for row, day in enumerate(range(block.start, block.stop)):
                today = weather.day(row)
                et, drained, overflow = _one_day(storage, today, soil)
                out["actual_et"][day] = et
                out["drainage"][day] = drained
                out["runoff"][day] += overflow
                if targets is not None:
                    target = targets[:, day]
                    seen = ~np.isnan(target)
                    if seen.any():
                        wanted = np.clip(np.where(seen, target, storage), 0.0, s_max)
                        increment = gain * (wanted - storage)
                        storage = storage + increment
                        out["increment"][day] = increment
                out["storage"][day] = storage
    return {name: values.T for name, values in out.items()}, storage


# Storage-independent quantities are computed for blocks of days at once (fewer NumPy calls per
# day than computing them daily) without holding them for the whole record: at most 128 days
# and about a million values per array.
_BLOCK_DAYS = 128
_BLOCK_VALUES = 2**20


@dataclass(frozen=True)
class _Soil:
    """Per-member constants (all shape (members,))."""

    capacity: np.ndarray  # Smax
    stress: np.ndarray  # p·Smax
    rate: np.ndarray  # 1/τ
    drains: np.ndarray  # 1/τ > 0
    drainage_at_capacity: np.ndarray  # Smax/τ

    @classmethod
    def of(cls, capacity, stress, rate) -> _Soil:
        return cls(capacity, stress, rate, rate > 0, rate * capacity)

    def subset(self, members: np.ndarray) -> _Soil:
        return _Soil(*(getattr(self, f.name)[members] for f in fields(self)))


@dataclass(frozen=True)
class _Weather:
    """Per day and member, everything the day's pieces need that does not depend on storage;
    arrays of shape (days, members), or (members,) for one day."""

    p: np.ndarray
    e: np.ndarray
    net: np.ndarray  # P − PET: dS/dt above the stress point before drainage
    k_below: np.ndarray  # PET/(p·Smax) + 1/τ: the decay rate below the stress point
    et_share: np.ndarray  # PET/(p·Smax) / k_below: ET's share of the outflow below it
    drainage_share: np.ndarray  # (1/τ) / k_below
    at_stress: np.ndarray  # dS/dt at S = p·Smax (the same on both sides)
    at_capacity: np.ndarray  # dS/dt at Smax if nothing overflowed
    falls_at_stress: np.ndarray  # at_stress < 0
    rises_at_stress: np.ndarray  # at_stress > 0
    moves_above: np.ndarray  # above the stress point, heading for a boundary
    fills: np.ndarray  # at_capacity ≥ 0: a full bucket stays full

    @classmethod
    def of(cls, precipitation, pet, soil: _Soil) -> _Weather:
        p, e = np.ascontiguousarray(precipitation.T), np.ascontiguousarray(pet.T)
        net = p - e
        e_below = e / soil.stress
        k_below = e_below + soil.rate
        k_safe = np.where(k_below > 0, k_below, np.inf)  # k = 0: neither ET nor drainage
        at_stress = net - soil.rate * soil.stress
        at_capacity = net - soil.drainage_at_capacity
        falls = at_stress < 0
        return cls(
            p,
            e,
            net,
            k_below,
            e_below / k_safe,
            soil.rate / k_safe,
            at_stress,
            at_capacity,
            falls,
            at_stress > 0,
            falls | (at_capacity > 0),
            at_capacity >= 0,
        )

    def day(self, row: int) -> _Weather:
        return _Weather(*(getattr(self, f.name)[row] for f in fields(self)))

    def subset(self, members: np.ndarray) -> _Weather:
        return _Weather(*(getattr(self, f.name)[members] for f in fields(self)))


def _one_day(storage, today: _Weather, soil: _Soil):
    """Advance ``storage`` in place by one day; return the day's ET, drainage and runoff (mm).

    The first piece runs for every member; later pieces only for members whose storage reached
    a boundary (the stress point or capacity) before the end of the day.
    """
    et, drained, overflow, left, moved = _piece(storage, np.ones(storage.size), today, soil)
    storage[:] = moved
    for _ in range(_PIECES_PER_DAY - 1):
        going = np.flatnonzero(left > 0)
        if going.size == 0:
            break
        parts = _piece(storage[going], left[going], today.subset(going), soil.subset(going))
        et[going] += parts[0]
        drained[going] += parts[1]
        overflow[going] += parts[2]
        left[going] = parts[3]
        storage[going] = parts[4]
    return et, drained, overflow


def _piece(storage, left, w: _Weather, soil: _Soil):
    """Integrate one linear piece dS/dt = a − kS exactly, until the day ends or the storage meets
    a boundary. Returns ET, drainage, runoff (mm), the time left in the day, the storage reached.
    """
    saturated = (storage >= soil.capacity) & w.fills
    below = (storage < soil.stress) | ((storage == soil.stress) & w.falls_at_stress)
    a = np.where(below, w.p, w.net)
    k = np.where(below, w.k_below, soil.rate)
    # The boundary a piece heads for, and the rate there, come from the same expressions that
    # decided the heading, so the sign of the hit time cannot flip by rounding.
    to_stress = below | w.falls_at_stress
    bound = np.where(to_stress, soil.stress, soil.capacity)
    reaches = np.where(below, w.rises_at_stress, w.moves_above) & ~saturated
    ratio = (bound - storage) / np.where(to_stress, w.at_stress, w.at_capacity)
    x = k * ratio  # ≥ 0 wherever the boundary is reached
    log_ratio = np.log1p(x) / x  # ln(1 + x)/x, 1 at x = 0
    log_ratio[x == 0] = 1.0
    hit_time = np.where(reaches, ratio * log_ratio, np.inf)
    hits = hit_time <= left
    step = np.where(hits, hit_time, left)
    z = -k * step
    phi = np.expm1(z) / z  # (eᶻ − 1)/z, 1 at z = 0
    phi[z == 0] = 1.0
    moved = np.where(hits, bound, storage + (a - k * storage) * step * phi)
    # Rounding may leave a hair outside [0, Smax]; the fluxes follow from ``moved``, so clipping
    # keeps the balance closed.
    moved = np.where(saturated, storage, np.clip(moved, 0.0, soil.capacity))
    outflow = a * step - (moved - storage)  # ∫kS dt over the piece, by its own balance
    # Below the stress point ET and drainage share the outflow by their coefficients; above it
    # ET runs at the potential rate and drainage takes the rest.
    et = np.where(below, w.et_share * outflow, w.e * step)
    drained = np.where(
        saturated,
        soil.drainage_at_capacity * step,
        np.where(below, w.drainage_share * outflow, np.where(soil.drains, outflow, 0.0)),
    )
    overflow = np.where(saturated, w.at_capacity * step, 0.0)
    return et, drained, overflow, left - step, moved
