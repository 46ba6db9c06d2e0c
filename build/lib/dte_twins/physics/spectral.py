"""Spectral tools for detector noise: Welch PSD, whitening, cross-spectral matrices, coherence and
multi-channel Wiener filters (SCIENCE.md C).

Conventions: one-sided PSDs S(f) in unit²/Hz (∫S df = variance); spectra follow ``numpy.fft.rfft``
(e^(−2πi f t)); a cross-spectrum S_ab = ⟨conj(A) B⟩ as in ``scipy.signal.csd``.

- Welch: Hann segments of ``fft_length`` seconds overlapping by half, each detrended by its mean.
- Whitening with a one-sided PSD: x_w = IFFT[X / √(S f_s/2)], which turns Gaussian noise of PSD S
  into unit-variance white noise (its PSD is 2/f_s).
- Wiener filter (Tiwari 2015): the strain y is predicted from witnesses x_i as Y = Σ H_i X_i with
  H = S_yx S_xx⁻¹ per frequency (one witness: H = S_xy/S_xx); the residual PSD is S_yy(1 − C),
  C = S_yx S_xx⁻¹ S_xy / S_yy the multiple coherence. Without coupling, the coherence estimated
  from K segments follows Beta(p, K − p) for p witnesses, so bins below its (1 − α) quantile are
  set to H = 0: the filter does not fit noise.
- Prewhitening (Blackman & Tukey 1958): seismic spectra fall by orders of magnitude within a few
  Welch bins, and a Hann window's leakage would then swamp the bins above. So PSDs are refined
  (the median-Welch PSD of the data whitened by a first estimate corrects that estimate), the
  strain and the witnesses are whitened by them before cross-spectra are estimated, and
  the cross-spectra are recoloured, S_ij = S^w_ij g_i g_j with g = √(S f_s/2); filters are applied
  to whitened witnesses, H^w = H g_x/g_y, and residual PSDs are measured on whitened data.
- Time-domain Wiener–Hopf FIR: the causal taps h_i[m], m < L, that minimise the mean-square
  residual, from the block-Toeplitz normal equations
  Σ_i Σ_m h_i[m] r_{x_i x_j}[m − m'] = r_{x_j y}[m'], r_ab[d] = Σ_t a[t] b[t + d].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal, stats

__all__ = [
    "OVERLAP_PENALTY",
    "welch_psd",
    "whiten",
    "refined_psd",
    "color",
    "CrossSpectra",
    "cross_spectra",
    "wiener_filter",
    "coherence",
    "fir_from_transfer",
    "apply_witness_filters",
    "octave_bands",
    "band_power",
    "prewhitened_cross_spectra",
    "Regression",
    "regress_on_witnesses",
]

# Welch with Hann windows at 50 % overlap: consecutive segments are correlated, so K segments
# weigh as about K / 1.06 independent ones (Welch 1967).
OVERLAP_PENALTY = 1.06


def _segment_length(sample_rate: float, fft_length: float) -> int:
    return int(round(fft_length * sample_rate))


def welch_psd(x, sample_rate: float, fft_length: float, average: str = "mean"):
    """One-sided PSD by Welch's method; ``average='median'`` resists glitches."""
    n = _segment_length(sample_rate, fft_length)
    return signal.welch(
        np.asarray(x, dtype=float),
        fs=sample_rate,
        window="hann",
        nperseg=n,
        noverlap=n // 2,
        average=average,
    )


_TINY = np.finfo(float).tiny / np.finfo(float).eps


def _psd_on(frequency, psd_frequencies, psd):
    """A Welch PSD at other frequencies: log-linear interpolation (steep spectra stay steep);
    0 Hz, where mean-removed segments hold no power, takes the first resolved bin's value."""
    log_psd = np.log(np.maximum(psd[1:], _TINY))
    return np.exp(np.interp(frequency, psd_frequencies[1:], log_psd))


def whiten(x, sample_rate: float, psd_frequencies, psd, taper: float = 0.5):
    """x_w = IFFT[X / √(S f_s/2)], after a Tukey taper of ``taper`` seconds at each end.

    The PSD is interpolated onto the record's frequencies; the mean is removed.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    alpha = min(1.0, 2 * taper * sample_rate / n)
    spectrum = np.fft.rfft((x - x.mean()) * signal.windows.tukey(n, alpha))
    frequency = np.fft.rfftfreq(n, 1 / sample_rate)
    spectrum /= np.sqrt(_psd_on(frequency, psd_frequencies, psd) * sample_rate / 2)
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n)


def refined_psd(x, sample_rate: float, fft_length: float, taper: float = 0.5, passes: int = 2):
    """Median-Welch PSD corrected for leakage by prewhitening: S ← S · S_w f_s/2 per pass.

    Where a spectrum falls by orders of magnitude within a few bins, the Hann window leaks the
    loud bins into the quiet ones; whitened by the first estimate, the data are nearly flat, so
    their PSD S_w is leak-free and corrects the first estimate.
    """
    frequencies, psd = welch_psd(x, sample_rate, fft_length, "median")
    psd = np.maximum(psd, _TINY)
    for _ in range(passes - 1):
        flat = welch_psd(
            whiten(x, sample_rate, frequencies, psd, taper), sample_rate, fft_length, "median"
        )[1]
        psd = np.maximum(psd * flat * sample_rate / 2, _TINY)
    return frequencies, psd


def color(x_white, sample_rate: float, psd_frequencies, psd):
    """The inverse of whitening (without taper): IFFT[X √(S f_s/2)]."""
    x_white = np.asarray(x_white, dtype=float)
    n = len(x_white)
    spectrum = np.fft.rfft(x_white)
    frequency = np.fft.rfftfreq(n, 1 / sample_rate)
    density = _psd_on(frequency, psd_frequencies, psd)
    return np.fft.irfft(spectrum * np.sqrt(density * sample_rate / 2), n)


@dataclass(frozen=True)
class CrossSpectra:
    """Averaged one-sided cross-spectra of a target y and p witnesses x, per frequency.

    ``witness[f, i, j] = ⟨conj(X_i) X_j⟩``, ``target_witness[f, j] = ⟨conj(X_j) Y⟩``,
    ``target[f] = ⟨|Y|²⟩``; ``segments`` is the (effective) number of segments averaged.
    """

    frequencies: np.ndarray
    witness: np.ndarray
    target_witness: np.ndarray
    target: np.ndarray
    segments: float

    def combined(self, newer: CrossSpectra, memory: float = 1.0) -> CrossSpectra:
        """Average with newer spectra, each weighted by its segments; ``memory`` < 1 forgets."""
        if self.witness.shape != newer.witness.shape or not np.allclose(
            self.frequencies, newer.frequencies
        ):
            raise ValueError("cross-spectra on different frequencies or witnesses cannot combine")
        old, new = memory * self.segments, newer.segments
        total = old + new

        def mix(a, b):
            return (old * a + new * b) / total

        return CrossSpectra(
            self.frequencies,
            mix(self.witness, newer.witness),
            mix(self.target_witness, newer.target_witness),
            mix(self.target, newer.target),
            total,
        )


def _segment_spectra(channels: np.ndarray, window: np.ndarray, start: int, stop: int):
    """rfft of windowed, mean-removed, half-overlapping segments ``start:stop`` of every channel."""
    n = len(window)
    step = n // 2
    index = (np.arange(start, stop) * step)[:, None] + np.arange(n)[None, :]
    segments = channels[:, index]  # (channels, segments, n)
    segments = segments - segments.mean(axis=-1, keepdims=True)
    return np.fft.rfft(segments * window, axis=-1)


def cross_spectra(
    target, witnesses, sample_rate: float, fft_length: float, chunk: int = 64
) -> CrossSpectra:
    """Welch cross-spectra of ``target`` (n,) and ``witnesses`` (p, n); p may be 0."""
    target = np.asarray(target, dtype=float)
    witnesses = np.asarray(witnesses, dtype=float).reshape(-1, len(target))
    channels = np.vstack([witnesses, target[None, :]])
    n = _segment_length(sample_rate, fft_length)
    count = (len(target) - n) // (n // 2) + 1
    if count < 1:
        raise ValueError(f"{len(target)} samples are fewer than one {n}-sample segment")
    window = signal.windows.hann(n, sym=False)
    scale = np.full(n // 2 + 1, 2.0 / (sample_rate * np.sum(window**2)))
    scale[0] /= 2
    if n % 2 == 0:
        scale[-1] /= 2
    p = len(witnesses)
    matrix = np.zeros((n // 2 + 1, p + 1, p + 1), dtype=complex)
    # In chunks of segments, so an hour of data at 2 kHz needs no gigabytes.
    for start in range(0, count, chunk):
        spectra = _segment_spectra(channels, window, start, min(start + chunk, count))
        matrix += np.einsum("ikf,jkf->fij", spectra.conj(), spectra)
    matrix *= scale[:, None, None] / count
    return CrossSpectra(
        frequencies=np.fft.rfftfreq(n, 1 / sample_rate),
        witness=matrix[:, :p, :p],
        target_witness=matrix[:, :p, p],
        target=matrix[:, p, p].real,
        segments=count / OVERLAP_PENALTY,
    )


def wiener_filter(spectra: CrossSpectra, significance: float = 0.01):
    """H = S_yx S_xx⁻¹ per frequency, zeroed where the coupling is not significant.

    Returns ``H`` (f, p) and the multiple coherence C (f,). Each witness is scaled to unit PSD
    before solving, so channels in metres, tesla and radians condition alike.
    """
    p = spectra.witness.shape[-1]
    if p == 0:
        zeros = np.zeros(len(spectra.frequencies))
        return np.zeros((len(zeros), 0), dtype=complex), zeros
    scale = np.sqrt(np.maximum(np.einsum("fii->fi", spectra.witness).real, 1e-300))
    normalised = spectra.witness / (scale[:, :, None] * scale[:, None, :])
    normalised = normalised + 1e-9 * np.eye(p)  # ridge: exactly collinear witnesses stay solvable
    rhs = spectra.target_witness / scale
    solution = np.linalg.solve(normalised, rhs[..., None])[..., 0]
    explained = np.einsum("fi,fi->f", rhs.conj(), solution).real
    coherence_ = np.clip(explained / np.maximum(spectra.target, 1e-300), 0.0, 1.0)
    freedom = spectra.segments - p
    if freedom <= 0:
        chance = 1.0
    else:
        chance = float(stats.beta.ppf(1 - significance, p, freedom))
    transfer = np.where((coherence_ > chance)[:, None], solution / scale, 0.0)
    return transfer, coherence_


def coherence(spectra: CrossSpectra):
    """Ordinary coherence |S_xy|²/(S_xx S_yy) of the target with each witness, shape (p, f)."""
    auto = np.einsum("fii->fi", spectra.witness).real
    denominator = np.maximum(auto * spectra.target[:, None], 1e-300)
    return (np.abs(spectra.target_witness) ** 2 / denominator).T


def fir_from_transfer(transfer, n_taps: int):
    """Impulse responses (p, n_taps) of transfer functions on ``rfftfreq(n_taps)``.

    Acausal filters: lag 0 sits at index ``n_taps // 2``.
    """
    taps = np.fft.irfft(np.asarray(transfer).T, n_taps, axis=-1)
    return np.roll(taps, n_taps // 2, axis=-1)


def apply_witness_filters(witnesses, taps, zero_lag: int | None = None):
    """Σ_i (h_i ∗ x_i)[t]: the strain predicted from witnesses (p, n) by FIR taps (p, m).

    ``zero_lag`` is the index of lag 0 in the taps (default ``m // 2``, as ``fir_from_transfer``
    gives; 0 for causal filters). Samples beyond the record count as zero.
    """
    witnesses = np.atleast_2d(np.asarray(witnesses, dtype=float))
    taps = np.atleast_2d(np.asarray(taps, dtype=float))
    n, m = witnesses.shape[-1], taps.shape[-1]
    zero_lag = m // 2 if zero_lag is None else zero_lag
    if len(witnesses) == 0:
        return np.zeros(n)
    full = signal.oaconvolve(witnesses, taps, mode="full", axes=-1).sum(axis=0)
    return full[zero_lag : zero_lag + n]


def octave_bands(frequencies: np.ndarray, nyquist: float) -> np.ndarray:
    """Octave band edges from four Welch bins (what the resolution supports) up to Nyquist."""
    start = 2.0 ** np.ceil(np.log2(4 * frequencies[1]))
    if start >= nyquist:  # too coarse a resolution for octaves: one band
        return np.array([frequencies[1], nyquist])
    edges = start * 2.0 ** np.arange(int(np.floor(np.log2(nyquist / start))) + 1)
    if edges[-1] < nyquist:
        edges = np.append(edges, nyquist)
    return edges


def band_power(frequencies, psd, edges) -> np.ndarray:
    """∫S df over each band [low, high), as sums of PSD bins times the bin width."""
    df = frequencies[1] - frequencies[0]
    index = np.searchsorted(edges, frequencies, side="right") - 1
    inside = (index >= 0) & (index < len(edges) - 1)
    return np.bincount(index[inside], weights=psd[inside] * df, minlength=len(edges) - 1)


@dataclass(frozen=True)
class Regression:
    """A target regressed on witnesses, in the whitened domain (see the module docstring).

    ``spectra`` are this data's recoloured cross-spectra, ``transfer`` the physical H used (learnt
    or fitted), ``psd`` the median-Welch PSDs used for whitening (target first, then witnesses).
    """

    frequencies: np.ndarray
    psd: np.ndarray
    spectra: CrossSpectra
    transfer: np.ndarray
    multiple_coherence: np.ndarray
    whitened: np.ndarray  # (1 + p, n): the target, then the witnesses
    whitened_prediction: np.ndarray

    @property
    def whitened_residual(self) -> np.ndarray:
        return self.whitened[0] - self.whitened_prediction


def prewhitened_cross_spectra(
    target, witnesses, sample_rate: float, fft_length: float, taper: float = 0.5, margin=1.5
):
    """Leak-free cross-spectra of a target and witnesses (see the module docstring).

    Returns the frequencies, the whitening PSDs (target first), the whitened channels (1 + p, n)
    and the recoloured ``CrossSpectra``. They leave out ``margin`` seconds at each end: there the
    taper's edges spread the loud low frequencies of every channel alike, which would look like
    coherence.
    """
    channels = np.vstack([np.asarray(target, dtype=float)[None, :], np.asarray(witnesses)])
    psd = []
    whitened = np.empty_like(channels)
    for k, series in enumerate(channels):
        frequencies, density = refined_psd(series, sample_rate, fft_length, taper)
        psd.append(density)
        whitened[k] = whiten(series, sample_rate, frequencies, density, taper)
    psd = np.array(psd)
    gain = np.sqrt(psd * sample_rate / 2).T  # (f, channels)
    skip = int(round(margin * sample_rate))
    inside = slice(skip, channels.shape[1] - skip)
    white = cross_spectra(whitened[0, inside], whitened[1:, inside], sample_rate, fft_length)
    spectra = CrossSpectra(
        white.frequencies,
        white.witness * (gain[:, 1:, None] * gain[:, None, 1:]),
        white.target_witness * gain[:, 1:] * gain[:, :1],
        white.target * gain[:, 0] ** 2,
        white.segments,
    )
    return frequencies, psd, whitened, spectra


def regress_on_witnesses(
    target,
    witnesses,
    sample_rate: float,
    fft_length: float,
    taper: float = 0.5,
    margin: float = 1.5,
    learnt: CrossSpectra | None = None,
    significance: float = 0.01,
) -> Regression:
    """Predict ``target`` (n,) from ``witnesses`` (p, n) by a prewhitened Wiener filter.

    The filter comes from ``learnt`` cross-spectra if given (same fft_length and witnesses),
    else from this data's own (``prewhitened_cross_spectra``).
    """
    frequencies, psd, whitened, spectra = prewhitened_cross_spectra(
        target, witnesses, sample_rate, fft_length, taper, margin
    )
    transfer, multiple = wiener_filter(learnt if learnt is not None else spectra, significance)
    gain = np.sqrt(psd).T
    transfer_white = transfer * gain[:, 1:] / gain[:, :1]
    n_taps = _segment_length(sample_rate, fft_length)
    prediction = apply_witness_filters(whitened[1:], fir_from_transfer(transfer_white, n_taps))
    return Regression(frequencies, psd, spectra, transfer, multiple, whitened, prediction)
