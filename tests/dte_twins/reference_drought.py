"""Plain reference of the drought twin's kernel: the Manabe bucket, one member and one day at a
time, with the textbook solution of each linear piece (S* = a/k, S(t) = S* + (S₀ − S*)e^(−kt))
and fluxes from the integral of S, not from the balance as the vectorised kernel does.

It is the test oracle of ``dte_twins.environment.bucket.simulate`` and the baseline the benchmark
compares that kernel against; it takes the same arguments and returns the same outputs.
"""

from __future__ import annotations

import math

import numpy as np

from dte_twins.environment.bucket import FLUXES


def _piece(storage, a, k, duration):
    """Storage after ``duration`` days of dS/dt = a − kS, and ∫S dt over them."""
    if k == 0:
        return storage + a * duration, storage * duration + a * duration**2 / 2
    equilibrium = a / k
    decay = math.exp(-k * duration)
    end = equilibrium + (storage - equilibrium) * decay
    integral = equilibrium * duration + (storage - equilibrium) * (1 - decay) / k
    return end, integral


def _time_to(storage, bound, a, k):
    """Days until dS/dt = a − kS brings the storage to ``bound`` (it is heading there)."""
    if k == 0:
        return (bound - storage) / a
    equilibrium = a / k
    return math.log((storage - equilibrium) / (bound - equilibrium)) / k


def bucket_one_day(storage, p, e, s_max, s_stress, rate):
    """One day of the bucket for one member: storage, ET, drainage, runoff."""
    et = drained = overflow = 0.0
    left = 1.0
    while left > 0:
        at_stress = p - e - rate * s_stress  # dS/dt at the stress point
        at_capacity = p - e - rate * s_max  # dS/dt at capacity
        if storage >= s_max and at_capacity >= 0:  # full: the surplus runs off
            et += e * left
            drained += rate * s_max * left
            overflow += at_capacity * left
            return s_max, et, drained, overflow
        if storage > s_stress or (storage >= s_stress and at_stress >= 0):  # ET at potential
            a, k = p - e, rate
            if at_capacity > 0:
                bound = s_max
            elif at_stress < 0:
                bound = s_stress
            else:
                bound = None
            coefficient_et = None
        else:  # ET proportional to storage
            a, k = p, e / s_stress + rate
            bound = s_stress if at_stress > 0 else None
            coefficient_et = e / s_stress
        step = left
        if bound is not None:
            step = min(left, _time_to(storage, bound, a, k))
        end, integral = _piece(storage, a, k, step)
        if bound is not None and step < left:
            end = bound
        et += e * step if coefficient_et is None else coefficient_et * integral
        drained += rate * integral
        storage = end
        left -= step
    return storage, et, drained, overflow


def bucket_reference(
    precipitation,
    pet,
    capacity,
    stress_fraction,
    drainage_time,
    initial_storage=None,
    observed_storage=None,
    gain=1.0,
):
    """Same arguments and outputs as ``bucket.simulate``, with plain loops."""
    p_all = np.atleast_2d(np.asarray(precipitation, float))
    e_all = np.atleast_2d(np.asarray(pet, float))
    scalars = [capacity, stress_fraction, drainage_time]
    if initial_storage is not None:
        scalars.append(initial_storage)
    members = max([p_all.shape[0], e_all.shape[0]] + [np.size(x) for x in scalars])
    days = p_all.shape[1]

    def member_value(x, m):
        x = np.asarray(x, float).reshape(-1)
        return float(x[0] if x.size == 1 else x[m])

    observed = None
    if observed_storage is not None:
        observed = np.broadcast_to(
            np.atleast_2d(np.asarray(observed_storage, float)), (members, days)
        )
    out = {name: np.zeros((members, days)) for name in FLUXES}
    final = np.zeros(members)
    for m in range(members):
        s_max = member_value(capacity, m)
        s_stress = member_value(stress_fraction, m) * s_max
        rate = 1.0 / member_value(drainage_time, m)
        storage = s_stress if initial_storage is None else member_value(initial_storage, m)
        if days and storage > s_max:
            out["runoff"][m, 0] = storage - s_max
            storage = s_max
        for day in range(days):
            p = p_all[m if p_all.shape[0] > 1 else 0, day]
            e = e_all[m if e_all.shape[0] > 1 else 0, day]
            storage, et, drained, overflow = bucket_one_day(storage, p, e, s_max, s_stress, rate)
            out["actual_et"][m, day] = et
            out["drainage"][m, day] = drained
            out["runoff"][m, day] += overflow
            if observed is not None and not math.isnan(observed[m, day]):
                wanted = min(max(observed[m, day], 0.0), s_max)
                out["increment"][m, day] = gain * (wanted - storage)
                storage += out["increment"][m, day]
            out["storage"][m, day] = storage
        final[m] = storage
    return out, final
