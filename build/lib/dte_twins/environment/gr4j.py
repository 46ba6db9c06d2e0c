"""GR4J, the daily four-parameter rainfall-runoff model (Perrin, Michel & Andréassian 2003,
J. Hydrol. 279:275), vectorised over ensemble members.

State and fluxes, all in mm (per day for fluxes):

- production store S (capacity X1): net rainfall Pn = max(P−E, 0) fills it by
  Ps = X1(1−(S/X1)²)tanh(Pn/X1) / (1+(S/X1)tanh(Pn/X1)); net evaporation En = max(E−P, 0) empties it
  by Es = S(2−S/X1)tanh(En/X1) / (1+(1−S/X1)tanh(En/X1)); percolation Perc = S[1−(1+(4S/9X1)⁴)^−¼];
- effective rainfall Pr = Perc + Pn − Ps is split 0.9 into unit hydrograph UH1 (time base X4 days)
  and 0.1 into UH2 (time base 2·X4), from the S-curves SH1 = (t/X4)^2.5 and
  SH2 = ½(t/X4)^2.5 (t ≤ X4), 1 − ½(2 − t/X4)^2.5 (X4 < t < 2X4);
- routing store R (capacity X3) with groundwater exchange F = X2(R/X3)^3.5:
  R = max(0, R + Q9 + F), Qr = R[1−(1+(R/X3)⁴)^−¼]; direct flow Qd = max(0, Q1 + F); Q = Qr + Qd.

Actual evapotranspiration is AE = min(P, E) + Es. With X2 = 0 the water balance closes exactly:
ΣP − ΣAE − ΣQ − ΔS − ΔR − (water still in the unit-hydrograph queues) = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["unit_hydrographs", "routing_outflow", "GR4JState", "simulate"]


def _sh1(t: np.ndarray, x4: float) -> np.ndarray:
    return np.where(t < x4, (t / x4) ** 2.5, 1.0)


def _sh2(t: np.ndarray, x4: float) -> np.ndarray:
    return np.where(
        t <= x4,
        0.5 * (t / x4) ** 2.5,
        np.where(t < 2 * x4, 1.0 - 0.5 * np.clip(2.0 - t / x4, 0.0, None) ** 2.5, 1.0),
    )


def unit_hydrographs(x4: float) -> tuple[np.ndarray, np.ndarray]:
    """Ordinates of UH1 (length ceil(X4)) and UH2 (length ceil(2·X4)); each sums to 1."""
    n1, n2 = math.ceil(x4), math.ceil(2 * x4)
    t1, t2 = np.arange(n1 + 1, dtype=float), np.arange(n2 + 1, dtype=float)
    return np.diff(_sh1(t1, x4)), np.diff(_sh2(t2, x4))


def _padded_unit_hydrographs(x4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UH1 and UH2 of every member, zero-padded to the longest: (members, n1), (members, n2)."""
    pairs = [unit_hydrographs(float(value)) for value in x4]
    n1, n2 = max(a.size for a, _ in pairs), max(b.size for _, b in pairs)
    uh1, uh2 = np.zeros((x4.size, n1)), np.zeros((x4.size, n2))
    for row, (a, b) in enumerate(pairs):
        uh1[row, : a.size], uh2[row, : b.size] = a, b
    return uh1, uh2


@dataclass
class GR4JState:
    """Stores and unit-hydrograph queues, one row per ensemble member (all in mm)."""

    production: np.ndarray  # S, shape (members,)
    routing: np.ndarray  # R, shape (members,)
    queue1: np.ndarray  # water on its way through UH1, shape (members, len(UH1))
    queue2: np.ndarray  # water on its way through UH2, shape (members, len(UH2))

    @classmethod
    def initial(cls, members: int, x1, x3, x4) -> GR4JState:
        """The usual start: S = 0.3·X1, R = 0.5·X3, empty unit hydrographs."""
        uh1, uh2 = _padded_unit_hydrographs(np.broadcast_to(np.asarray(x4, float), (members,)))
        return cls._empty(members, x1, x3, uh1.shape[1], uh2.shape[1])

    @classmethod
    def _empty(cls, members: int, x1, x3, width1: int, width2: int) -> GR4JState:
        return cls(
            production=np.broadcast_to(0.3 * np.asarray(x1, float), (members,)).copy(),
            routing=np.broadcast_to(0.5 * np.asarray(x3, float), (members,)).copy(),
            queue1=np.zeros((members, width1)),
            queue2=np.zeros((members, width2)),
        )

    def water(self) -> np.ndarray:
        """Water held by the model, per member (mm)."""
        return self.production + self.routing + self.queue1.sum(1) + self.queue2.sum(1)

    def fitted(self, width1: int, width2: int) -> GR4JState:
        """A copy whose queues have the given lengths (X4 changed since this state was reached).

        Longer queues get empty slots; shorter ones deliver what no longer fits on their last
        day, so no water is lost.
        """
        return GR4JState(
            self.production.copy(),
            self.routing.copy(),
            _fit_queue(self.queue1, width1),
            _fit_queue(self.queue2, width2),
        )


def _fit_queue(queue: np.ndarray, width: int) -> np.ndarray:
    if queue.shape[1] <= width:
        return np.pad(queue, ((0, 0), (0, width - queue.shape[1])))
    fitted = queue[:, :width].copy()
    fitted[:, -1] += queue[:, width:].sum(1)
    return fitted


def routing_outflow(routing_store, x3):
    """Outflow of the routing store: Qr = R[1 − (1 + (R/X3)⁴)^−¼] (mm/d)."""
    return routing_store * (1 - (1 + (routing_store / x3) ** 4) ** -0.25)


def simulate(
    precipitation: np.ndarray,
    evapotranspiration: np.ndarray,
    x1,
    x2,
    x3,
    x4,
    state: GR4JState | None = None,
) -> tuple[dict[str, np.ndarray], GR4JState]:
    """Run GR4J over daily forcing of shape (days,) or (members, days).

    Parameters are scalars, or arrays of shape (members,) to run many parameter sets at once
    (calibration). Returns the daily fluxes (``discharge``, ``actual_et``, ``production_store``,
    ``routing_store``; shape (members, days)) and the final state, which a later call can
    continue from (how a twin follows its physical counterpart day by day).
    """
    p = np.atleast_2d(np.asarray(precipitation, dtype=float))
    e = np.atleast_2d(np.asarray(evapotranspiration, dtype=float))
    members = max(p.shape[0], e.shape[0], *(np.size(x) for x in (x1, x2, x3, x4)))
    days = p.shape[1]
    p, e = np.broadcast_to(p, (members, days)), np.broadcast_to(e, (members, days))
    x1, x2, x3, x4 = (np.broadcast_to(np.asarray(x, float), (members,)) for x in (x1, x2, x3, x4))
    uh1, uh2 = _padded_unit_hydrographs(x4)
    if state is None:
        state = GR4JState._empty(members, x1, x3, uh1.shape[1], uh2.shape[1])
    else:
        state = state.fitted(uh1.shape[1], uh2.shape[1])
    s, r, q1, q2 = state.production, state.routing, state.queue1, state.queue2

    out = {
        name: np.empty((members, days))
        for name in ("discharge", "actual_et", "production_store", "routing_store")
    }
    for day in range(days):
        pd_, ed = p[:, day], e[:, day]
        pn = np.maximum(pd_ - ed, 0.0)
        en = np.maximum(ed - pd_, 0.0)
        ratio = s / x1
        tpn, ten = np.tanh(pn / x1), np.tanh(en / x1)
        ps = x1 * (1 - ratio**2) * tpn / (1 + ratio * tpn)
        es = s * (2 - ratio) * ten / (1 + (1 - ratio) * ten)
        s = s + ps - es
        perc = s * (1 - (1 + (4 * s / (9 * x1)) ** 4) ** -0.25)
        s = s - perc
        pr = perc + pn - ps

        q1 += 0.9 * pr[:, None] * uh1
        q2 += 0.1 * pr[:, None] * uh2
        q9, qdirect = q1[:, 0].copy(), q2[:, 0].copy()
        q1[:, :-1], q1[:, -1] = q1[:, 1:], 0.0
        q2[:, :-1], q2[:, -1] = q2[:, 1:], 0.0

        exchange = x2 * (r / x3) ** 3.5
        r = np.maximum(0.0, r + q9 + exchange)
        qr = routing_outflow(r, x3)
        r = r - qr
        qd = np.maximum(0.0, qdirect + exchange)

        out["discharge"][:, day] = qr + qd
        out["actual_et"][:, day] = np.minimum(pd_, ed) + es
        out["production_store"][:, day] = s
        out["routing_store"][:, day] = r
    return out, GR4JState(s, r, q1, q2)
