"""A fast statistical surrogate of the bucket: ridge regression from lagged forcing to future soil
moisture, with split-conformal prediction intervals.

Features at issue day t: the last L days of precipitation and of PET, P(t−L+1 … t) and
PET(t−L+1 … t) (SCIENCE.md B: 30–90 lagged days), and optionally the model's storage S(t) on the
issue day, all standardised. The storage matters when the bucket remembers longer than L days
(slow drainage, a deep bucket): lagged forcing alone then cannot tell a wet start from a dry one,
and the band must widen to cover both. Targets: the model's storage on
the next H days, S(t+1 … t+H); one ridge regression per lead, solved together,

    W = (XᵀX + λ·n·I)⁻¹ Xᵀ(Y − Ȳ)  on standardised X (the intercept Ȳ is not penalised).

Because the targets are the bucket's own runs, the surrogate learns the model (it is an
emulator), and because its inputs stop at t, its error includes the unknown weather of the lead
days: the interval is a forecast interval.

Split conformal (Lei et al. 2018, JASA 113:1094): on a calibration block of issue days, later in
time than the training block and separated from it by H days so no target day is shared, the
half-width at each lead is the ⌈(n+1)(1−α)⌉-th smallest absolute residual; ŷ ± q̂ then covers the
truth with probability ≥ 1 − α for exchangeable data (infinite when n < (1−α)/α). Coverage on held-
out data is 1 − α ± 3√(α(1−α)/n) (SCIENCE.md B test 4). Time series are not exchangeable; the time
blocks keep the estimate honest (no peeking at the future), not exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "lagged_features",
    "future_targets",
    "fit_ridge",
    "conformal_halfwidth",
    "calibration_size",
    "RidgeSurrogate",
    "train_surrogate",
]


def lagged_features(precipitation, pet, lags: int, storage=None) -> np.ndarray:
    """Rows of [P(t−L+1 … t), PET(t−L+1 … t)] (and S(t) when ``storage`` is given) for each
    issue day t = L−1 … days−1."""
    p, e = np.asarray(precipitation, float), np.asarray(pet, float)
    columns = [np.lib.stride_tricks.sliding_window_view(x, lags) for x in (p, e)]
    if storage is not None:
        columns.append(np.asarray(storage, float)[lags - 1 :, None])
    return np.hstack(columns)


def future_targets(storage, lags: int, horizon: int) -> np.ndarray:
    """Rows of S(t+1 … t+H) for each issue day t = L−1 … days−H−1."""
    s = np.asarray(storage, float)
    return np.lib.stride_tricks.sliding_window_view(s[lags:], horizon)


def fit_ridge(features, targets, penalty: float):
    """Ridge on standardised features: (feature mean, feature scale, weights, intercepts)."""
    x, y = np.asarray(features, float), np.asarray(targets, float)
    mean = x.mean(0)
    scale = x.std(0)
    scale[scale == 0] = 1.0  # a constant feature (e.g. no rain at that lag) carries no weight
    standard = (x - mean) / scale
    intercept = y.mean(0)
    gram = np.einsum("ni,nj->ij", standard, standard) + penalty * x.shape[0] * np.eye(x.shape[1])
    weights = _cholesky_solve(gram, np.einsum("ni,nk->ik", standard, y - intercept))
    return mean, scale, weights, intercept


# Products here use np.einsum and a Cholesky written out in NumPy, not BLAS/LAPACK: a threaded
# BLAS sums in an order that depends on its thread count, so the same ensemble would differ in
# the last bits between a notebook and a Dask worker (which runs BLAS on one thread).
def _cholesky_solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve A·X = B for a symmetric positive definite A (A = LLᵀ)."""
    n = matrix.shape[0]
    lower = np.zeros_like(matrix)
    for j in range(n):
        row = lower[j, :j]
        diagonal = math.sqrt(matrix[j, j] - np.einsum("k,k->", row, row))
        lower[j, j] = diagonal
        lower[j + 1 :, j] = (
            matrix[j + 1 :, j] - np.einsum("ik,k->i", lower[j + 1 :, :j], row)
        ) / diagonal
    forward = np.zeros_like(rhs)
    for i in range(n):
        forward[i] = (rhs[i] - np.einsum("k,kr->r", lower[i, :i], forward[:i])) / lower[i, i]
    solution = np.zeros_like(rhs)
    for i in reversed(range(n)):
        done = solution[i + 1 :]
        solution[i] = (forward[i] - np.einsum("k,kr->r", lower[i + 1 :, i], done)) / lower[i, i]
    return solution


def conformal_halfwidth(residuals, alpha: float) -> np.ndarray:
    """⌈(n+1)(1−α)⌉-th smallest |residual| of each column (inf when that exceeds n)."""
    r = np.abs(np.atleast_2d(np.asarray(residuals, float).T).T)
    n = r.shape[0]
    rank = math.ceil((n + 1) * (1 - alpha) - 1e-9)  # guard (n+1)(1−α) landing just above a whole
    if rank > n:
        return np.full(r.shape[1:], np.inf)
    return np.sort(r, axis=0)[rank - 1]


def calibration_size(days: int, lags: int, horizon: int, calibration_share: float) -> tuple:
    """(training, calibration) issue days a record of ``days`` days gives."""
    issues = days - lags - horizon + 1
    calibration = int(round(max(issues - horizon, 0) * calibration_share))
    training = issues - horizon - calibration
    return max(training, 0), calibration


@dataclass(frozen=True)
class RidgeSurrogate:
    """A trained surrogate: predict the next ``horizon`` days of storage from lagged forcing."""

    lags: int
    horizon: int
    alpha: float
    uses_storage: bool
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    weights: np.ndarray  # (features, horizon)
    intercept: np.ndarray  # (horizon,)
    halfwidth: np.ndarray  # conformal q̂ per lead (horizon,)
    calibration_rmse: np.ndarray  # per lead, on the calibration block

    def predict_features(self, features) -> np.ndarray:
        standard = (np.atleast_2d(features) - self.feature_mean) / self.feature_scale
        return np.einsum("ni,ik->nk", standard, self.weights) + self.intercept

    def forecast(self, precipitation, pet, storage=None) -> tuple[np.ndarray, ...]:
        """Storage forecast for the ``horizon`` days after the forcing ends: (mean, low, high).

        ``storage`` is the storage on the last day, for a surrogate trained with it.
        """
        p, e = np.asarray(precipitation, float), np.asarray(pet, float)
        if p.size < self.lags:
            raise ValueError(f"the surrogate needs the last {self.lags} days of forcing")
        if self.uses_storage and storage is None:
            raise ValueError("this surrogate needs the storage on the issue day")
        parts = [p[-self.lags :], e[-self.lags :]]
        if self.uses_storage:
            parts.append(np.atleast_1d(np.asarray(storage, float))[-1:])
        features = np.concatenate(parts)
        mean = self.predict_features(features)[0]
        return mean, mean - self.halfwidth, mean + self.halfwidth


def train_surrogate(
    precipitation,
    pet,
    storage,
    lags: int,
    horizon: int,
    alpha: float,
    penalty: float = 0.1,
    calibration_share: float = 0.35,
    use_storage: bool = True,
) -> RidgeSurrogate:
    """Train on the first block of issue days, calibrate the band on the last block.

    ``storage`` is the model's daily storage over the same days as the forcing (the targets,
    and a feature when ``use_storage``). Raises ValueError when the record leaves no training
    or calibration days.
    """
    features = lagged_features(precipitation, pet, lags, storage if use_storage else None)
    targets = future_targets(storage, lags, horizon)
    features = features[: targets.shape[0]]  # issue days whose targets are all known
    training, calibration = calibration_size(np.size(storage), lags, horizon, calibration_share)
    if training < 2 or calibration < 1:
        raise ValueError(
            f"{np.size(storage)} days leave {training} training and {calibration} calibration "
            f"issue days for {lags} lags and a {horizon}-day horizon"
        )
    mean, scale, weights, intercept = fit_ridge(features[:training], targets[:training], penalty)
    model = RidgeSurrogate(
        lags, horizon, alpha, use_storage, mean, scale, weights, intercept, *(None,) * 2
    )
    held = slice(training + horizon, training + horizon + calibration)
    residuals = targets[held] - model.predict_features(features[held])
    return RidgeSurrogate(
        lags,
        horizon,
        alpha,
        use_storage,
        mean,
        scale,
        weights,
        intercept,
        conformal_halfwidth(residuals, alpha),
        np.sqrt(np.mean(residuals**2, axis=0)),
    )
