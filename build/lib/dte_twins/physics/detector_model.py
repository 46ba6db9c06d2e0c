"""A simulated gravitational-wave detector: the physical counterpart of the detector-noise twin
and the source of the catalog's synthetic detector data.

The strain channel is (SCIENCE.md C)

    h(t) = n(t) + (T_seis ∗ x_ground)(t) + k_mag B(t) + β a(t) B(t) + h_scatter(t) + Σ blips,

recorded with three auxiliary (witness) channels: a seismometer, a magnetometer and an optical
lever.

- **Fundamental noise** n: Gaussian, coloured by the design PSD (below). It is made by colouring
  white noise in the frequency domain, X_k = W_k √(S(f_k) f_s / 2), the inverse of whitening.
- **Design PSD**: a noise budget of the power laws gwinc gives for Advanced LIGO (ASD slopes):
  seismic f^−10 (dominant below ~8 Hz), suspension thermal f^−2.5 (dominant at 10 Hz), quantum
  radiation pressure f^−2, coating Brownian f^−0.5 (dominant near 100 Hz) and shot noise
  √(1 + (f/f_p)²) with the signal-recycled cavity pole f_p = 575 Hz (f^+1 above it). The
  amplitudes reproduce pycbc's ``aLIGOZeroDetHighPower`` at 10–1000 Hz within 8 %. (The Ajith
  (2011) fit, 1e−49[x^−4.14 − 5x^−2 + 111(1 − x² + x⁴/2)/(1 + x²/2)], describes an earlier
  design and departs from that curve by up to a factor 2.7 in ASD, so it is not used.) Simulated
  data and the twin hold the PSD constant below ``DESIGN_FLOOR_FREQUENCY`` = 10 Hz, where the
  design is not defined; this keeps the dynamic range of the data finite.
- **Seismic**: ground displacement with ASD A/((f/1 Hz)² + 0.3²) m/√Hz reaches the test mass
  through a damped pendulum, P(f) = f0²/(f0² − f² + i f f0/Q) (→ (f0/f)² per stage above f0;
  f0 = 0.5 Hz, Q = 1), times a residual factor k_seis that lumps the isolation platforms; the
  arm-length servo suppresses what is left below its bandwidth f_s = 0.5 Hz (second-order
  high-pass); strain is mirror motion over the arm length L = 4 km. At the default k_seis the
  seismic noise exceeds the design ASD 8-fold at 2 Hz and up to about 3.5 Hz. The seismometer
  adds its own self-noise.
- **Magnetic**: a mains line B0 sin(2π f_line t) (50 or 60 Hz) on a white field floor, coupling
  linearly (k_mag, strain/T) and **bilinearly** with the slow (< 1 Hz) angular motion a(t) of a
  test mass: β a(t) B(t) puts sidebands at f_line ± f_mod that neither witness explains alone.
- **Scattered light** (optional): h = A sin(4π x_sc/λ) with x_sc = X sin(2π f_sc t), λ = 1064 nm;
  fringes reach f_max = 4πX f_sc/λ (Accadia 2010), 11.8 Hz for X = 5 µm at 0.2 Hz. No witness
  is recorded, so the twin cannot explain it.
- **Blips** (Cabero 2019): low-Q sine-Gaussians h0 sin(2πf0 t) e^(−t²/τ²), τ = Q/(√2 π f0),
  Q in 2–5, f0 in 30–250 Hz, at a given SNR ρ² = 4∫|h̃|²/S df against the design PSD
  (≈ 2 hrss²/S(f0), hrss² = h0² τ √(π/2)/2). A share of them comes with a witness: a
  coincident transient in the magnetometer (a common electrical cause), so they should be vetoed.

``simulate_detector`` returns the channels as an ``xarray.Dataset`` on a ``time`` coordinate (s),
with the true glitch list along a ``glitch`` dimension so detection can be checked.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = [
    "ARM_LENGTH",
    "LASER_WAVELENGTH",
    "DESIGN_FLOOR_FREQUENCY",
    "design_noise_budget",
    "design_psd",
    "colored_noise",
    "inspiral_range_ratio",
    "ground_motion_asd",
    "angular_motion_asd",
    "seismic_transfer",
    "scattered_light",
    "scattering_fringe_frequency",
    "sine_gaussian",
    "sine_gaussian_duration",
    "sine_gaussian_hrss",
    "sine_gaussian_snr",
    "simulate_detector",
]

ARM_LENGTH = 4000.0  # m, LIGO
LASER_WAVELENGTH = 1.064e-6  # m
DESIGN_FLOOR_FREQUENCY = 10.0  # Hz; the design PSD is held constant below

# Noise budget (ASD in 1/√Hz): amplitude at a reference frequency and the power-law slope.
_POWER_LAWS = {
    "seismic": (1.8e-23, 10.0, -10.0),
    "suspension_thermal": (8.6e-23, 10.0, -2.5),
    "radiation_pressure": (4.5e-23, 10.0, -2.0),
    "coating_brownian": (2.9e-24, 100.0, -0.5),
}
_SHOT_NOISE = 2.56e-24  # 1/√Hz below the cavity pole
_CAVITY_POLE = 575.0  # Hz

# Nominal environment of the simulated site.
GROUND_MOTION = 1e-9  # m/√Hz at 1 Hz
SEISMOMETER_NOISE = 1e-14  # m/√Hz
ANGULAR_MOTION = 1e-7  # rad/√Hz below 0.3 Hz
OPTICAL_LEVER_NOISE = 1e-12  # rad/√Hz
MAGNETIC_FLOOR = 1e-11  # T/√Hz
LINE_AMPLITUDE = 1e-8  # T


def _white(asd: float):
    """A flat PSD function at the given ASD (sensor self-noise, field floor)."""
    return lambda f: np.full(np.shape(f), asd**2)


def design_noise_budget(frequency) -> dict[str, np.ndarray]:
    """ASD of each design noise term at ``frequency`` (Hz, > 0), in 1/√Hz."""
    f = np.asarray(frequency, dtype=float)
    if np.any(f <= 0):
        raise ValueError("the design noise budget is defined at frequencies above 0 Hz")
    budget = {
        name: amplitude * (f / reference) ** slope
        for name, (amplitude, reference, slope) in _POWER_LAWS.items()
    }
    budget["shot"] = _SHOT_NOISE * np.sqrt(1 + (f / _CAVITY_POLE) ** 2)
    return budget


def design_psd(frequency, low_frequency_cutoff: float = DESIGN_FLOOR_FREQUENCY) -> np.ndarray:
    """One-sided design PSD (1/Hz), held at its value at ``low_frequency_cutoff`` below it."""
    f = np.maximum(np.asarray(frequency, dtype=float), low_frequency_cutoff)
    return sum(asd**2 for asd in design_noise_budget(f).values())


def inspiral_range_ratio(frequency, psd, low_frequency: float = DESIGN_FLOOR_FREQUENCY) -> float:
    """Inspiral range relative to design: √(∫ f^(−7/3)/S df / ∫ f^(−7/3)/S_design df).

    A compact-binary inspiral has |h̃|² ∝ f^(−7/3), so its SNR, and the distance it is seen to,
    scale with √∫ f^(−7/3)/S df; both integrals run from ``low_frequency`` to the top bin.
    """
    f = np.asarray(frequency, dtype=float)
    used = f >= low_frequency
    if not used.any():
        return float("nan")
    weight = f[used] ** (-7 / 3)
    measured = np.sum(weight / np.asarray(psd, dtype=float)[used])
    return float(np.sqrt(measured / np.sum(weight / design_psd(f[used]))))


def colored_noise(n_samples: int, sample_rate: float, psd, rng: np.random.Generator):
    """Gaussian noise with one-sided PSD ``psd(f)``: white noise coloured by √(S f_s/2).

    The record is periodic (circular), so filters applied by FFT leave no edge transients.
    """
    spectrum = np.fft.rfft(rng.standard_normal(n_samples))
    frequency = np.fft.rfftfreq(n_samples, 1 / sample_rate)
    return np.fft.irfft(spectrum * np.sqrt(psd(frequency) * sample_rate / 2), n_samples)


def ground_motion_asd(frequency, level: float = GROUND_MOTION):
    """Ground displacement ASD (m/√Hz): ``level`` at 1 Hz, ∝ f^−2 above 0.3 Hz, flat below."""
    f = np.asarray(frequency, dtype=float)
    return level / (f**2 + 0.3**2)


def angular_motion_asd(frequency, level: float = ANGULAR_MOTION, corner: float = 0.3):
    """Test-mass angular motion ASD (rad/√Hz): ``level`` below ``corner``, falling as f^−4."""
    f = np.asarray(frequency, dtype=float)
    return level / np.sqrt(1 + (f / corner) ** 8)


def seismic_transfer(
    frequency,
    coupling: float,
    pendulum_frequency: float = 0.5,
    pendulum_q: float = 1.0,
    stages: int = 1,
    servo_frequency: float = 0.5,
    arm_length: float = ARM_LENGTH,
):
    """Ground displacement → strain (1/m), complex, on the rfft frequency convention."""
    f = np.asarray(frequency, dtype=float)
    f0, fs = pendulum_frequency, servo_frequency
    pendulum = f0**2 / (f0**2 - f**2 + 1j * f * f0 / pendulum_q)
    servo = -((f / fs) ** 2) / (1 - (f / fs) ** 2 + 1j * np.sqrt(2) * f / fs)
    return coupling * pendulum**stages * servo / arm_length


def scattered_light(
    time, amplitude: float, path_amplitude: float = 5e-6, path_frequency: float = 0.2
):
    """Strain from light scattered off a surface moving as X sin(2π f t): A sin(4π x/λ)."""
    path = path_amplitude * np.sin(2 * np.pi * path_frequency * np.asarray(time, dtype=float))
    return amplitude * np.sin(4 * np.pi * path / LASER_WAVELENGTH)


def scattering_fringe_frequency(path_amplitude: float, path_frequency: float) -> float:
    """Highest fringe frequency 2 max|ẋ|/λ = 4π X f / λ (Hz)."""
    return 4 * np.pi * path_amplitude * path_frequency / LASER_WAVELENGTH


def sine_gaussian_duration(frequency, q):
    """τ = Q / (√2 π f0) (s)."""
    return q / (np.sqrt(2) * np.pi * frequency)


def sine_gaussian(time, center, frequency, q, amplitude=1.0):
    """h0 sin(2π f0 (t − t0)) exp(−(t − t0)²/τ²)."""
    t = np.asarray(time, dtype=float) - center
    tau = sine_gaussian_duration(frequency, q)
    return amplitude * np.sin(2 * np.pi * frequency * t) * np.exp(-((t / tau) ** 2))


def sine_gaussian_hrss(amplitude, frequency, q):
    """Root-sum-square strain √(∫h² dt) = h0 √(τ √(π/2) / 2)."""
    tau = sine_gaussian_duration(frequency, q)
    return amplitude * np.sqrt(tau * np.sqrt(np.pi / 2) / 2)


def sine_gaussian_snr(amplitude, frequency, q, psd) -> float:
    """Optimal SNR ρ = √(4 ∫ |h̃(f)|²/S(f) df) from the analytic Fourier transform.

    h̃(f) = (h0 τ √π / 2i)[e^(−π²τ²(f−f0)²) − e^(−π²τ²(f+f0)²)]; for high Q, ρ² → 2 hrss²/S(f0).
    """
    tau = sine_gaussian_duration(frequency, q)
    width = 1 / (np.pi * tau)  # e-folding half-width of the spectral Gaussian
    f = np.linspace(max(frequency - 8 * width, 1e-3), frequency + 8 * width, 4001)
    transform = (
        amplitude
        * tau
        * np.sqrt(np.pi)
        / 2
        * (
            np.exp(-((np.pi * tau * (f - frequency)) ** 2))
            - np.exp(-((np.pi * tau * (f + frequency)) ** 2))
        )
    )
    return float(np.sqrt(4 * np.trapezoid(transform**2 / psd(f), f)))


def _glitch_list(duration, sample_rate, rate, witnessed_fraction, snr_range, rng):
    """Blip parameters: at most one per 2 s slot, away from the edges (so tests can match them)."""
    slots = np.arange(1.5, duration - 1.0, 2.0)
    count = min(int(rng.poisson(rate * duration)), len(slots))
    centers = np.sort(rng.choice(slots, size=count, replace=False)) + rng.uniform(
        -0.25, 0.25, count
    )
    top = min(250.0, 0.35 * sample_rate)
    frequency = np.exp(rng.uniform(np.log(30.0), np.log(top), count))
    q = rng.uniform(2.0, 5.0, count)
    snr = np.exp(rng.uniform(*np.log(snr_range), count))
    witnessed = rng.random(count) < witnessed_fraction
    return centers, frequency, q, snr, witnessed


def simulate_detector(
    duration: float = 32.0,
    sample_rate: int = 1024,
    *,
    rng: np.random.Generator,
    seismic_coupling: float = 2e-7,
    ground_motion: float = GROUND_MOTION,
    magnetic_coupling: float = 1e-14,
    bilinear_coupling: float = 1e-7,
    line_frequency: float = 60.0,
    line_amplitude: float = LINE_AMPLITUDE,
    scattering_amplitude: float = 0.0,
    glitch_rate: float = 0.1,
    witnessed_fraction: float = 0.5,
    glitch_snr: tuple[float, float] = (10.0, 40.0),
    witness_snr: float = 25.0,
    detector: str = "SIM1",
    start_time: str = "2025-01-01T00:00:00",
    keep_components: bool = False,
) -> xr.Dataset:
    """Channels of a simulated detector (see the module docstring).

    Returns ``strain`` (1), ``seismic`` (m), ``magnetic`` (T) and ``angular`` (rad) on ``time``
    (s from ``start_time``), and the true glitches along ``glitch``: ``glitch_time`` (s),
    ``glitch_frequency`` (Hz), ``glitch_q``, ``glitch_snr`` and ``glitch_witnessed``. With
    ``keep_components`` the strain's terms are kept in ``strain_component(component, time)``.
    """
    if not (duration > 0 and sample_rate > 0):
        raise ValueError(f"duration ({duration} s) and sample_rate ({sample_rate} Hz) must be > 0")
    if not 0 < glitch_snr[0] <= glitch_snr[1]:
        raise ValueError(
            f"glitch_snr must be a range (low, high) of positive SNRs, not {glitch_snr}"
        )
    n = int(round(duration * sample_rate))
    time = np.arange(n) / sample_rate
    frequency = np.fft.rfftfreq(n, 1 / sample_rate)
    fundamental = colored_noise(n, sample_rate, design_psd, rng)
    ground = colored_noise(n, sample_rate, lambda f: ground_motion_asd(f, ground_motion) ** 2, rng)
    seismometer = ground + colored_noise(n, sample_rate, _white(SEISMOMETER_NOISE), rng)
    seismic_strain = np.fft.irfft(
        np.fft.rfft(ground) * seismic_transfer(frequency, seismic_coupling), n
    )
    angle = colored_noise(n, sample_rate, lambda f: angular_motion_asd(f) ** 2, rng)
    optical_lever = angle + colored_noise(n, sample_rate, _white(OPTICAL_LEVER_NOISE), rng)
    line_phase = rng.uniform(0, 2 * np.pi)
    field = line_amplitude * np.sin(2 * np.pi * line_frequency * time + line_phase)
    field += colored_noise(n, sample_rate, _white(MAGNETIC_FLOOR), rng)

    centers, glitch_f, glitch_q, snr, witnessed = _glitch_list(
        duration, sample_rate, glitch_rate, witnessed_fraction, glitch_snr, rng
    )
    blips = np.zeros(n)
    for t0, f0, q, rho, seen in zip(centers, glitch_f, glitch_q, snr, witnessed, strict=True):
        near = slice(max(int((t0 - 1) * sample_rate), 0), min(int((t0 + 1) * sample_rate), n))
        amplitude = rho / sine_gaussian_snr(1.0, f0, q, design_psd)
        blips[near] += sine_gaussian(time[near], t0, f0, q, amplitude)
        if seen:
            witness = witness_snr / sine_gaussian_snr(1.0, f0, q, _white(MAGNETIC_FLOOR))
            field[near] += sine_gaussian(time[near], t0, f0, q, witness)

    components = {
        "fundamental": fundamental,
        "seismic": seismic_strain,
        "magnetic": magnetic_coupling * field,
        "bilinear": bilinear_coupling * angle * field,
        "scattering": scattered_light(time, scattering_amplitude),
        "glitches": blips,
    }
    strain = sum(components.values())
    channels = {
        "strain": (strain, "1", "calibrated strain h(t)"),
        "seismic": (seismometer, "m", "ground displacement along the arm (seismometer)"),
        "magnetic": (field, "T", "magnetic field at the test mass (magnetometer)"),
        "angular": (optical_lever, "rad", "test-mass pitch (optical lever)"),
    }
    data = {
        name: ("time", values, {"units": units, "long_name": long_name})
        for name, (values, units, long_name) in channels.items()
    }
    data.update(
        glitch_time=("glitch", centers, {"units": "s"}),
        glitch_frequency=("glitch", glitch_f, {"units": "Hz"}),
        glitch_q=("glitch", glitch_q, {"units": "1"}),
        glitch_snr=("glitch", snr, {"units": "1", "long_name": "SNR against the design PSD"}),
        glitch_witnessed=("glitch", witnessed, {"long_name": "has a magnetometer witness"}),
    )
    result = xr.Dataset(data, coords={"time": ("time", time, {"units": "s"})})
    if keep_components:
        result["strain_component"] = (
            ("component", "time"),
            np.stack(list(components.values())),
            {"units": "1"},
        )
        result = result.assign_coords(component=list(components))
    result.attrs.update(
        sample_rate=float(sample_rate),
        detector=detector,
        start_time=start_time,
        arm_length=ARM_LENGTH,
        line_frequency=float(line_frequency),
    )
    return result
