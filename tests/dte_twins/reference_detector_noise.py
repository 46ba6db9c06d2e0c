"""Plain NumPy references for the detector-noise twin's kernels: the test oracles, and the
baselines the benchmark times the vectorised kernels against.

- ``apply_witness_filters_reference``: the Wiener prediction Σ_i h_i ∗ x_i, one ``np.convolve``
  per witness channel (kernel: ``spectral.apply_witness_filters``, overlap-add FFT convolution of
  all channels at once).
- ``q_transform_reference``: the Q-transform tile by tile, each tile an explicit sum over its
  window's frequency bins, with the tiling written out in loops (kernel: ``qtransform.q_transform``,
  one inverse FFT per row).
- ``witness_filter_arguments``: realistic arguments for the first pair at a given duration.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg

__all__ = [
    "apply_witness_filters_reference",
    "q_transform_reference",
    "witness_filter_arguments",
]


def apply_witness_filters_reference(witnesses, taps, zero_lag=None):
    witnesses = np.atleast_2d(np.asarray(witnesses, dtype=float))
    taps = np.atleast_2d(np.asarray(taps, dtype=float))
    n, m = witnesses.shape[1], taps.shape[1]
    zero_lag = m // 2 if zero_lag is None else zero_lag
    total = np.zeros(n + m - 1)
    for witness, impulse_response in zip(witnesses, taps, strict=True):
        total += np.convolve(witness, impulse_response)
    return total[zero_lag : zero_lag + n]


def q_transform_reference(
    whitened,
    sample_rate,
    q_range=(4.0, 64.0),
    frequency_range=(20.0, 400.0),
    mismatch=0.2,
    norm="mean",
):
    """Rows as (q, frequency, energy) tuples, in the kernel's order."""
    x = np.asarray(whitened, dtype=float)
    n = len(x)
    duration = n / sample_rate
    spectrum = np.fft.rfft(x)
    step = 2 * math.sqrt(mismatch / 3)
    q_low, q_high = q_range
    n_planes = max(1, math.ceil(math.log(q_high / q_low) / math.sqrt(2) / step))
    rows = []
    for plane in range(n_planes):
        q = q_low * (q_high / q_low) ** ((plane + 0.5) / n_planes)
        lowest = max(frequency_range[0], q / (math.sqrt(11) * duration))
        highest = min(frequency_range[1], sample_rate / 2 / (1 + math.sqrt(11) / q))
        if lowest >= highest:
            continue
        n_rows = max(1, math.ceil(math.sqrt(2 + q * q) / 2 * math.log(highest / lowest) / step))
        for row in range(n_rows):
            f = lowest * (highest / lowest) ** ((row + 0.5) / n_rows)
            half_width = math.sqrt(11) * f / q
            needed = max(duration * 2 * math.pi * f / (q * step), 2 * half_width * duration + 1)
            n_tiles = 2 ** math.ceil(math.log2(needed))
            bins, weights = [], []
            for k in range(1, len(spectrum)):
                offset = (k / duration - f) / half_width
                if abs(offset) <= 1:
                    bins.append(k)
                    weights.append((1 - offset**2) ** 2)
            bins, weights = np.array(bins), np.array(weights)
            energy = np.zeros(n_tiles)
            for tile in range(n_tiles):
                phase = np.exp(2j * np.pi * bins * tile / n_tiles)
                energy[tile] = abs(np.sum(weights * spectrum[bins] * phase)) ** 2
            if norm == "mean":
                energy /= energy.mean()
            elif norm == "median":
                energy /= np.median(energy) / math.log(2)
            else:
                energy /= n * np.sum(weights**2)
            rows.append((q, f, energy))
    return rows


def witness_filter_arguments(duration=32.0, sample_rate=1024, fft_length=2.0, seed=0):
    """(whitened witnesses (p, n), FIR taps (p, fft_length·sample_rate)) of a simulated detector,
    as the twin passes them to ``apply_witness_filters``; duration 32 s is the twin's default
    size, 1024 s its large one."""
    from dte_twins.physics.detector_model import simulate_detector
    from dte_twins.physics.spectral import fir_from_transfer, regress_on_witnesses

    channels = simulate_detector(duration, sample_rate, rng=np.random.default_rng(seed))
    witnesses = np.vstack(
        [channels[name].to_numpy() for name in ("seismic", "magnetic", "angular")]
        + [channels.angular.to_numpy() * channels.magnetic.to_numpy()]
    )
    regression = regress_on_witnesses(
        channels.strain.to_numpy(), witnesses, sample_rate, fft_length
    )
    gain = np.sqrt(regression.psd)
    transfer = regression.transfer * gain[1:].T / gain[0][:, None]
    taps = fir_from_transfer(transfer, int(fft_length * sample_rate))
    return regression.whitened[1:], taps


def wiener_hopf_fir(target, witnesses, n_taps: int):
    """Causal multi-channel Wiener–Hopf FIR: taps (p, n_taps) with lag 0 at index 0."""
    target = np.asarray(target, dtype=float)
    witnesses = np.atleast_2d(np.asarray(witnesses, dtype=float))
    p, n = witnesses.shape
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    spectra = np.fft.rfft(np.vstack([witnesses, target[None, :]]), size, axis=-1)
    # correlation[i, j, d] = Σ_t c_i[t] c_j[t + d], lags d from −(L−1) to L−1
    lags = np.arange(-(n_taps - 1), n_taps)
    full = np.fft.irfft(spectra.conj()[:, None, :] * spectra[None, :, :], size, axis=-1)
    correlation = full[:, :, lags % size]
    normal = np.zeros((p * n_taps, p * n_taps))
    rhs = np.zeros(p * n_taps)
    shifts = np.arange(n_taps)[None, :] - np.arange(n_taps)[:, None]  # m − m'
    for j in range(p):
        rhs[j * n_taps : (j + 1) * n_taps] = correlation[j, p, n_taps - 1 :]
        for i in range(p):
            block = correlation[i, j, shifts + n_taps - 1]  # r_ij[m − m'] at row m', column m
            normal[j * n_taps : (j + 1) * n_taps, i * n_taps : (i + 1) * n_taps] = block
    taps = linalg.solve(normal, rhs, assume_a="sym")
    return taps.reshape(p, n_taps)
