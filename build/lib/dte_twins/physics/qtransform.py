"""The Q-transform of whitened data and the triggers it finds (Chatterji et al. 2004).

A tile at centre frequency f and quality factor Q is the whitened spectrum times a bisquare
(Connes) window w(ν) = (1 − ((ν − f)/Δ)²)², Δ = √11 f/Q (so the window's energy has frequency
spread f/Q), brought back to time by an inverse FFT: |c(t)|² is the tile energy at time t.

- Tiling (the mismatch metric of Chatterji 2004, ds² = (2πf/Q)² dt² + (2 + Q²)/(4f²) df² +
  dQ²/(2Q²)): Q planes, frequency rows and time tiles are spaced ds = 2√(μ/3) apart for a maximum
  mismatch μ (0.2 by default); a row holds a power of two of tiles, at least as many as its window
  has frequency bins. Rows keep Δ·T ≥ 1 bin and f + Δ below Nyquist.
- Normalised energy Z = |c|² / ⟨|c|²⟩: ``norm='mean'`` divides by the row's mean (as gwpy's
  ``norm='mean'``), ``'median'`` by its median/ln 2, ``'white'`` by the expectation for unit
  white noise (N Σw²). In Gaussian noise Z ~ Exp(1): a tile exceeds Z by chance with
  probability e^(−Z). A signal of matched-filter SNR ρ in the best tile gives Z ≈ 1 + ρ²/2, so
  the SNR estimate is ρ = √(2(Z − 1)).
- Triggers: tiles above a threshold, clustered in time (the loudest tile of each cluster). A
  trigger is vetoed when a witness channel has a trigger within the veto window (the witness saw
  its cause); the loudest such witness is named.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "QPlane",
    "QRow",
    "q_planes",
    "q_transform",
    "iter_q_rows",
    "energy_for_snr",
    "snr_for_energy",
    "loud_tiles",
    "cluster_tiles",
    "search_transients",
    "witnesses_of",
]

WINDOW_WIDTH = np.sqrt(11.0)  # Δ = √11 f / Q
NORMS = ("mean", "median", "white")


@dataclass(frozen=True)
class QPlane:
    """Rows of one Q: centre frequencies (Hz) and the number of time tiles of each row."""

    q: float
    frequencies: np.ndarray
    tiles: np.ndarray


@dataclass(frozen=True)
class QRow:
    """Normalised tile energies of one row; tile j is at time j·duration/len(energy)."""

    q: float
    frequency: float
    duration: float
    energy: np.ndarray

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.energy)) * self.duration / len(self.energy)


def _step(mismatch: float) -> float:
    return 2 * np.sqrt(mismatch / 3)


def q_planes(
    duration: float,
    sample_rate: float,
    q_range=(4.0, 64.0),
    frequency_range=(20.0, 400.0),
    mismatch: float = 0.2,
) -> list[QPlane]:
    """The tiling of the time–frequency–Q space for ``duration`` seconds of data."""
    q_low, q_high = q_range
    step = _step(mismatch)
    n_planes = max(1, int(np.ceil(np.log(q_high / q_low) / np.sqrt(2) / step)))
    qs = q_low * (q_high / q_low) ** ((np.arange(n_planes) + 0.5) / n_planes)
    planes = []
    for q in qs:
        lowest = max(frequency_range[0], 1.0 * q / (WINDOW_WIDTH * duration))
        highest = min(frequency_range[1], sample_rate / 2 / (1 + WINDOW_WIDTH / q))
        if lowest >= highest:
            continue
        length = np.sqrt(2 + q**2) / 2 * np.log(highest / lowest)
        n_rows = max(1, int(np.ceil(length / step)))
        frequencies = lowest * (highest / lowest) ** ((np.arange(n_rows) + 0.5) / n_rows)
        needed = np.maximum(
            duration * 2 * np.pi * frequencies / (q * step),
            2 * WINDOW_WIDTH * frequencies / q * duration + 1,
        )
        tiles = 2 ** np.ceil(np.log2(needed)).astype(int)
        planes.append(QPlane(float(q), frequencies, tiles))
    return planes


def _normalise(energy: np.ndarray, norm: str, white_expectation: float) -> np.ndarray:
    if norm == "mean":
        reference = energy.mean()
    elif norm == "median":
        reference = np.median(energy) / np.log(2)
    else:
        reference = white_expectation
    return energy / reference if reference > 0 else np.zeros_like(energy)


def iter_q_rows(whitened, sample_rate: float, planes: list[QPlane], norm: str = "mean"):
    """Yield the ``QRow`` of every row of every plane (one row in memory at a time)."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, not {norm!r}")
    whitened = np.asarray(whitened, dtype=float)
    n = len(whitened)
    duration = n / sample_rate
    spectrum = np.fft.rfft(whitened)
    for plane in planes:
        for frequency, n_tiles in zip(plane.frequencies, plane.tiles, strict=True):
            half_width = WINDOW_WIDTH * frequency / plane.q
            low = max(int(np.ceil((frequency - half_width) * duration)), 1)
            high = min(int(np.floor((frequency + half_width) * duration)), len(spectrum) - 1)
            bins = np.arange(low, high + 1)
            window = (1 - ((bins / duration - frequency) / half_width) ** 2) ** 2
            padded = np.zeros(n_tiles, dtype=complex)
            # heterodyne to the row's centre bin: only |c|² matters
            padded[(bins - int(round(frequency * duration))) % n_tiles] = window * spectrum[bins]
            energy = np.abs(np.fft.ifft(padded) * n_tiles) ** 2
            expected = n * np.sum(window**2)
            yield QRow(plane.q, float(frequency), duration, _normalise(energy, norm, expected))


def q_transform(
    whitened,
    sample_rate: float,
    q_range=(4.0, 64.0),
    frequency_range=(20.0, 400.0),
    mismatch: float = 0.2,
    norm: str = "mean",
) -> list[QRow]:
    """All rows of the Q-transform of whitened data (the twin's transient kernel)."""
    planes = q_planes(len(whitened) / sample_rate, sample_rate, q_range, frequency_range, mismatch)
    return list(iter_q_rows(whitened, sample_rate, planes, norm))


def energy_for_snr(snr):
    """Z = 1 + ρ²/2."""
    return 1 + np.asarray(snr, dtype=float) ** 2 / 2


def snr_for_energy(energy):
    """ρ = √(2 (Z − 1)), 0 below Z = 1."""
    return np.sqrt(2 * np.maximum(np.asarray(energy, dtype=float) - 1, 0))


_TILE_FIELDS = ("time", "frequency", "q", "energy")


def loud_tiles(rows, threshold: float, edge: float = 0.0) -> dict[str, np.ndarray]:
    """Tiles with Z ≥ ``threshold``, at least ``edge`` seconds from either end of the data."""
    found = {name: [] for name in _TILE_FIELDS}
    for row in rows:
        times = row.times
        keep = (row.energy >= threshold) & (times >= edge) & (times <= row.duration - edge)
        if keep.any():
            found["time"].append(times[keep])
            found["frequency"].append(np.full(keep.sum(), row.frequency))
            found["q"].append(np.full(keep.sum(), row.q))
            found["energy"].append(row.energy[keep])
    return {name: np.concatenate(v) if v else np.zeros(0) for name, v in found.items()}


def cluster_tiles(tiles: dict[str, np.ndarray], window: float) -> dict[str, np.ndarray]:
    """One trigger per cluster: tiles whose times follow each other within ``window`` s form a
    cluster, represented by its loudest tile."""
    order = np.argsort(tiles["time"], kind="stable")
    times = tiles["time"][order]
    cluster = np.concatenate([[0], np.cumsum(np.diff(times) > window)]) if len(times) else times
    # loudest first within each cluster, clusters in time order
    ranked = order[np.lexsort((-tiles["energy"][order], cluster))]
    # ``cluster`` rises with time, so in ``ranked`` order each cluster starts where it changes
    first = np.concatenate([[True], np.diff(cluster) > 0]) if len(times) else []
    kept = ranked[np.asarray(first, dtype=bool)]
    return {name: values[kept] for name, values in tiles.items()}


def _add_to_image(image: np.ndarray, row: QRow, edges) -> None:
    band = np.searchsorted(edges, row.frequency, side="right") - 1
    if not 0 <= band < image.shape[0]:
        return
    n_times, n_tiles = image.shape[1], len(row.energy)
    if n_tiles >= n_times:
        binned = row.energy.reshape(n_times, n_tiles // n_times).max(axis=1)
    else:
        binned = np.repeat(row.energy, n_times // n_tiles)
    np.maximum(image[band], binned, out=image[band])


def search_transients(
    whitened,
    sample_rate: float,
    planes: list[QPlane],
    threshold: float,
    edge: float,
    cluster_window: float,
    norm: str = "median",
    image_times: int = 0,
    image_frequency_edges=None,
):
    """Clustered triggers (Z ≥ ``threshold``) and, if asked, the Q-scan image, in one pass.

    ``norm='median'`` by default: a loud glitch barely moves a row's median, while it would
    raise its mean and so lower its own Z. Only loud tiles are kept, row by row.
    """
    pieces = []
    image = None
    if image_times:
        image = np.zeros((len(image_frequency_edges) - 1, image_times))
    for row in iter_q_rows(whitened, sample_rate, planes, norm):
        pieces.append(loud_tiles([row], threshold, edge))
        if image is not None:
            _add_to_image(image, row, image_frequency_edges)
    tiles = {
        name: np.concatenate([piece[name] for piece in pieces]) if pieces else np.zeros(0)
        for name in _TILE_FIELDS
    }
    return cluster_tiles(tiles, cluster_window), image


def witnesses_of(triggers: dict, witness_triggers: dict[str, dict], window: float) -> np.ndarray:
    """Per trigger, the witness channel with the loudest trigger within ``window`` s ('' if
    none). Witness triggers must be in time order, as ``search_transients`` gives them."""
    times = triggers["time"]
    witness = np.full(len(times), "", dtype=object)
    loudest = np.zeros(len(times))
    for channel, seen in witness_triggers.items():
        low = np.searchsorted(seen["time"], times - window, "left")
        high = np.searchsorted(seen["time"], times + window, "right")
        for k in np.flatnonzero(high > low):
            energy = seen["energy"][low[k] : high[k]].max()
            if energy > loudest[k]:
                loudest[k], witness[k] = energy, channel
    return witness.astype(str)
