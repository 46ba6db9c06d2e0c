"""The detector-noise twin: SCIENCE.md C's checked values, its kernels against plain references,
glitch detection and vetoes against the simulation's truth, the noise budget, ensembles, alerts,
assimilation, bad parameters and bad input."""

import json

import numpy as np
import param
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from dte_twins.errors import InputError, ParameterError
from dte_twins.physics import detector_model as model
from dte_twins.physics import qtransform, spectral
from dte_twins.physics.detector_noise import DetectorNoiseTwin
from tests.dte_twins import reference_detector_noise
from tests.dte_twins.reference_detector_noise import (
    apply_witness_filters_reference,
    q_transform_reference,
)


def detector(seed=3, duration=32.0, sample_rate=1024, **options):
    return model.simulate_detector(
        duration, sample_rate, rng=np.random.default_rng(seed), **options
    )


def band(result, low):
    return {"band": int(np.flatnonzero(result.band_low.to_numpy() == low)[0])}


@pytest.fixture(scope="module")
def channels():
    return detector()


@pytest.fixture(scope="module")
def default_result(channels):
    return DetectorNoiseTwin(channels=channels, registry=False).run()


# --- design sensitivity and the simulated detector -----------------------------------------------
@pytest.mark.parametrize(
    ("frequency", "asd"),
    [(10, 9.7e-23), (20, 2.1e-23), (50, 5.0e-24), (100, 3.9e-24), (200, 3.6e-24), (1000, 5.2e-24)],
)
def test_design_asd_matches_aligo_zero_detuned_high_power_within_10_percent(frequency, asd):
    assert np.sqrt(model.design_psd(frequency)) == pytest.approx(asd, rel=0.10)


def test_design_budget_has_the_gwinc_slopes_and_dominant_terms():
    def dominant(f):
        budget = model.design_noise_budget(f)
        return max(budget, key=lambda name: budget[name])

    assert dominant(5.0) == "seismic"
    assert dominant(10.0) == "suspension_thermal"
    assert dominant(100.0) == "coating_brownian"
    assert dominant(1000.0) == "shot"
    total = lambda f: np.sqrt(model.design_psd(f, low_frequency_cutoff=1.0))  # noqa: E731
    assert np.log(total(4.0) / total(6.0)) / np.log(6 / 4) > 8  # steeper than f^-8
    assert np.log(total(4000.0) / total(2000.0)) / np.log(2) == pytest.approx(1, abs=0.1)
    # held constant below the floor frequency
    assert model.design_psd(3.0) == model.design_psd(10.0)


def test_whitened_coloured_noise_has_unit_variance_per_band():
    fs, n = 4096, 4096 * 64
    noise = model.colored_noise(n, fs, model.design_psd, np.random.default_rng(0))
    frequency, psd = spectral.welch_psd(noise, fs, 4.0)
    whitened = spectral.whiten(noise, fs, frequency, psd, taper=0.0)
    f, flat = spectral.welch_psd(whitened, fs, 4.0)
    level = flat * fs / 2
    inside = (f > 20) & (f < 1800)
    assert level[inside].mean() == pytest.approx(1.00, abs=0.025)
    assert np.var(whitened) == pytest.approx(1.0, abs=0.025)
    # with the true PSD it is white to the last bin
    exact = spectral.whiten(noise, fs, f, model.design_psd(f), taper=0.0)
    assert np.var(exact) == pytest.approx(1.0, abs=0.01)


def test_prewhitening_removes_the_leakage_of_a_steep_seismic_spectrum():
    fs, n = 1024, 1024 * 64
    psd = lambda f: (  # noqa: E731
        np.abs(model.seismic_transfer(f, 2e-7) * model.ground_motion_asd(f)) ** 2
        + model.design_psd(f)
    )
    x = model.colored_noise(n, fs, psd, np.random.default_rng(3))
    f, plain = spectral.welch_psd(x, fs, 2.0, "median")
    _, refined = spectral.refined_psd(x, fs, 2.0)
    band = (f >= 1.5) & (f <= 3.5)  # where the spectrum falls 100-fold in 2 Hz
    # each bin is a median of 63 segments (±15 %)
    assert np.mean(refined[band] / psd(f[band])) == pytest.approx(1.0, abs=0.2)
    assert np.mean(plain[band] / psd(f[band])) > 2  # Hann leakage from the loud bins below


def test_sine_gaussian_hrss_and_snr_relations():
    fs = 4096
    t = np.arange(-fs, fs) / fs
    h = model.sine_gaussian(t, 0.0, 150.0, 9.0, 1e-21)
    hrss = model.sine_gaussian_hrss(1e-21, 150.0, 9.0)
    assert np.sum(h**2) / fs == pytest.approx(hrss**2, rel=1e-6)
    # in unit white noise (S = 2/fs) ρ² = Σh²
    white = lambda f: np.full(np.shape(f), 2 / fs)  # noqa: E731
    assert model.sine_gaussian_snr(1e-21, 150.0, 9.0, white) ** 2 == pytest.approx(
        np.sum(h**2), rel=1e-3
    )
    # for high Q, ρ² ≈ 2 hrss²/S(f0) against the design PSD
    rho = model.sine_gaussian_snr(1e-21, 150.0, 9.0, model.design_psd)
    assert rho**2 == pytest.approx(2 * hrss**2 / model.design_psd(150.0), rel=0.05)


def test_matched_filter_recovers_a_sine_gaussian_at_snr_10():
    fs = 4096
    t = np.arange(-fs // 4, fs // 4) / fs
    h = model.sine_gaussian(t, 0.0, 150.0, 9.0)
    h *= 10 / np.sqrt(np.sum(h**2))  # ρ = 10 in unit white noise
    noise = np.random.default_rng(1).standard_normal((200, len(t)))
    snr = (noise + h) @ h / np.sqrt(h @ h)
    assert snr.mean() == pytest.approx(10.0, abs=0.25)
    assert snr.std() == pytest.approx(1.0, abs=0.15)  # SCIENCE.md: 10.0 ± 1.05


def test_scattered_light_fringes_stop_at_4_pi_x_f_over_lambda():
    assert model.scattering_fringe_frequency(5e-6, 0.2) == pytest.approx(11.8, abs=0.05)
    fs, duration = 256, 100.0
    t = np.arange(int(fs * duration)) / fs
    h = model.scattered_light(t, 1.0, 5e-6, 0.2)
    f, psd = signal.periodogram(h, fs)
    assert psd[f > 1.1 * 11.8].sum() < 1e-3 * psd.sum()
    assert psd[(f > 8) & (f < 11.8)].sum() > 0.05 * psd.sum()


def test_simulated_detector_dataset(channels):
    assert set(channels.data_vars) >= {"strain", "seismic", "magnetic", "angular", "glitch_snr"}
    assert channels.strain.attrs["units"] == "1" and channels.magnetic.attrs["units"] == "T"
    assert channels.time.attrs["units"] == "s" and channels.attrs["sample_rate"] == 1024
    assert channels.sizes["time"] == 32 * 1024
    xr.testing.assert_identical(channels, detector())  # same seed, same detector
    assert not channels.strain.equals(detector(seed=4).strain)
    with pytest.raises(ValueError, match="duration"):
        detector(duration=0.0)
    with_parts = detector(keep_components=True)
    np.testing.assert_allclose(
        with_parts.strain_component.sum("component"), channels.strain, rtol=0, atol=1e-30
    )


# --- kernels against references ------------------------------------------------------------------
def test_witness_filters_match_one_convolution_per_channel():
    rng = np.random.default_rng(0)
    witnesses, taps = rng.standard_normal((3, 5000)), rng.standard_normal((3, 257))
    for zero_lag in (None, 0, 17):
        np.testing.assert_allclose(
            spectral.apply_witness_filters(witnesses, taps, zero_lag),
            apply_witness_filters_reference(witnesses, taps, zero_lag),
            atol=1e-9,
        )


@pytest.mark.parametrize("norm", ["mean", "median", "white"])
def test_q_transform_matches_the_tile_by_tile_reference(norm):
    x = np.random.default_rng(2).standard_normal(512)
    rows = qtransform.q_transform(x, 256, (4, 16), (16, 100), norm=norm)
    reference = q_transform_reference(x, 256, (4, 16), (16, 100), norm=norm)
    assert len(rows) == len(reference) > 10
    for row, (q, frequency, energy) in zip(rows, reference, strict=True):
        assert (row.q, row.frequency) == pytest.approx((q, frequency))
        np.testing.assert_allclose(row.energy, energy, rtol=1e-9)


def test_cross_spectra_agree_with_scipy():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((2, 8192))
    y += np.convolve(x, [0.5, 0.3], "same")
    spectra = spectral.cross_spectra(y, x[None, :], 256, 2.0)
    f, pxy = signal.csd(x, y, 256, nperseg=512)
    np.testing.assert_allclose(spectra.target_witness[:, 0], pxy, rtol=1e-10)
    np.testing.assert_allclose(spectra.target, signal.welch(y, 256, nperseg=512)[1], rtol=1e-10)
    np.testing.assert_allclose(
        spectral.coherence(spectra)[0], signal.coherence(x, y, 256, nperseg=512)[1], rtol=1e-9
    )


# --- Q-transform statistics ----------------------------------------------------------------------
def test_q_transform_energy_is_exponential_in_gaussian_noise():
    x = np.random.default_rng(5).standard_normal(1024 * 16)
    for norm in ("mean", "white"):
        z = np.concatenate([row.energy for row in qtransform.q_transform(x, 1024, norm=norm)])
        # tiles overlap: ~7000 independent cells, so the mean is 1 ± 0.012 (1σ) for 'white'
        assert z.mean() == pytest.approx(1.0, abs=0.04)
        assert z.var() / z.mean() ** 2 == pytest.approx(1.0, abs=0.05)
        for level in (1.0, 2.0, 4.0):
            assert (z > level).mean() == pytest.approx(np.exp(-level), rel=0.1)


@pytest.mark.parametrize(("norm", "seconds"), [("white", 8), ("median", 8), ("mean", 64)])
def test_q_transform_peak_energy_is_one_plus_half_snr_squared(norm, seconds):
    fs = 1024
    t = np.arange(fs * seconds) / fs
    white = lambda f: np.full(np.shape(f), 2 / fs)  # noqa: E731
    amplitude = 8 / model.sine_gaussian_snr(1.0, 150.0, 9.0, white)
    h = model.sine_gaussian(t, seconds / 2, 150.0, 9.0, amplitude)
    rng = np.random.default_rng(6)
    peaks, times = [], []
    for _ in range(12):
        rows = qtransform.q_transform(
            rng.standard_normal(len(t)) + h, fs, (4, 64), (100, 200), norm=norm
        )
        best = max(rows, key=lambda row: row.energy.max())
        peaks.append(best.energy.max())
        times.append(best.times[best.energy.argmax()])
    # 1 + ρ²/2 = 33; 12 trials give ±2.3 (1σ), the tiling loses up to a few per cent
    assert np.mean(peaks) == pytest.approx(33, abs=5)
    assert np.abs(np.array(times) - seconds / 2).max() < 0.02
    assert qtransform.snr_for_energy(33) == pytest.approx(8.0)


# --- Wiener filters (SCIENCE.md C tests 3 and 4) -------------------------------------------------
def test_wiener_filter_of_a_16_tap_fir():
    fs, n = 256, 2**16
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    fir = 3 * signal.firwin(16, 0.175)  # a 16-tap low-pass of gain 3
    noise = 0.1 * rng.standard_normal(n)
    y = np.convolve(x, fir)[:n] + noise
    spectra = spectral.cross_spectra(y, x[None, :], fs, 4.0)
    at_5_hz = np.argmin(np.abs(spectra.frequencies - 5))
    assert spectral.coherence(spectra)[0, at_5_hz] == pytest.approx(0.998, abs=0.0015)
    half = n // 2
    taps = reference_detector_noise.wiener_hopf_fir(y[:half], x[None, :half], 32)
    np.testing.assert_allclose(taps[0, :16], fir, atol=0.005)
    residual = y - spectral.apply_witness_filters(x[None, :], taps, zero_lag=0)
    later = slice(half, n)  # out of sample
    assert np.var(residual[later]) / np.var(noise[later]) == pytest.approx(1.0007, abs=0.002)
    expected_db = 10 * np.log10(0.01 / (np.sum(fir**2) + 0.01))
    assert 10 * np.log10(np.var(residual[later]) / np.var(y[later])) == pytest.approx(
        expected_db, abs=0.15
    )


def test_bilinear_noise_needs_the_product_regressor():
    fs, n = 256, 256 * 512
    rng = np.random.default_rng(1)
    slow = signal.sosfiltfilt(signal.butter(4, 1.0, fs=fs, output="sos"), rng.standard_normal(n))
    slow /= slow.std()
    line = np.sin(2 * np.pi * 60 * np.arange(n) / fs)
    noise = 0.1 * rng.standard_normal(n)
    y = 0.5 * slow * line + noise
    for witness in (slow, line):
        spectra = spectral.cross_spectra(y, witness[None, :], fs, 1.0)
        power = spectra.witness[:, 0, 0].real
        carried = power > 1e-6 * power.max()  # where the witness has something to say
        assert spectral.coherence(spectra)[0, carried].max() < 0.02
        taps = reference_detector_noise.wiener_hopf_fir(y, witness[None, :], 8)
        kept = y - spectral.apply_witness_filters(witness[None, :], taps, zero_lag=0)
        assert np.var(kept) > 0.99 * np.var(y)  # removes nothing
    product = (slow * line)[None, :]
    taps = reference_detector_noise.wiener_hopf_fir(y, product, 8)
    residual = y - spectral.apply_witness_filters(product, taps, zero_lag=0)
    assert np.var(residual) == pytest.approx(0.0100, abs=0.0002)  # the noise floor


# --- the twin: transients, noise budget ----------------------------------------------------------
def test_run_returns_a_dataset_with_units_and_provenance(channels, registry):
    twin = DetectorNoiseTwin(channels=channels, registry=registry, seed=7)
    result = twin.run(snr_threshold=7.0)
    assert isinstance(result, xr.Dataset)
    assert result.strain_asd.attrs["units"] == "1/√Hz"
    assert result.trigger_time.attrs["units"] == "s" and result.frequency.attrs["units"] == "Hz"
    assert json.loads(result.attrs["parameters"])["snr_threshold"] == 7.0
    assert json.loads(result.attrs["input_versions"])["channels"].startswith("sha256:")
    assert result.attrs["noise_model"] == "fitted on the analysed data"
    assert twin.snr_threshold == 6.0
    (record,) = registry.runs("DetectorNoiseTwin")
    assert record.run_id == result.attrs["run_id"]


def test_glitches_are_found_and_vetoed_as_the_truth_says():
    channels = detector(seed=11, duration=64.0, glitch_rate=0.25)
    truth_time = channels.glitch_time.to_numpy()
    assert (
        len(truth_time) >= 8
        and channels.glitch_witnessed.any()
        and not channels.glitch_witnessed.all()
    )
    result = DetectorNoiseTwin(channels=channels, registry=False, duration=64.0).run()
    found = result.trigger_time.to_numpy()
    nearest = np.abs(found[None, :] - truth_time[:, None]).argmin(axis=1)
    assert np.abs(found[nearest] - truth_time).max() < 0.05
    assert len(found) == len(truth_time)  # no false triggers
    assert (result.trigger_vetoed.to_numpy()[nearest] == channels.glitch_witnessed.to_numpy()).all()
    assert set(result.trigger_witness.to_numpy()[nearest][channels.glitch_witnessed]) == {
        "magnetic"
    }
    snr = result.trigger_snr.to_numpy()[nearest]
    np.testing.assert_allclose(snr, channels.glitch_snr, rtol=0.25)
    np.testing.assert_allclose(
        result.trigger_frequency.to_numpy()[nearest], channels.glitch_frequency, rtol=0.25
    )


def test_noise_budget_of_the_default_detector(default_result):
    r = default_result
    seismic, mains = band(r, 2.0), band(r, 32.0)
    assert r.excess_before[seismic] > 10 and r.excess_after[seismic] < 2
    assert r.explained_fraction[seismic] > 0.9
    assert r.excess_before[mains] > 3 and r.explained_fraction[mains] > 0.6
    assert r.excess_after[mains] < 1.5
    quiet = r.band_low >= 128  # design noise only: measured as design, nothing explained
    np.testing.assert_allclose(r.excess_before.where(quiet, drop=True), 1.0, atol=0.1)
    assert np.abs(r.explained_fraction.where(quiet, drop=True)).max() < 0.03
    assert not r.unexplained.any()
    assert 0.9 < float(r.range_ratio) <= float(r.residual_range_ratio) < 1.15
    at_60 = r.multiple_coherence.sel(frequency=60.0)
    assert at_60 > 0.9 and r.coherence.sel(regressor="magnetic", frequency=60.0) > 0.3
    assert r.qscan.max() > 50  # the glitch shows in the Q-scan


def test_the_sidebands_need_the_bilinear_regressor(channels, default_result):
    linear_only = DetectorNoiseTwin(channels=channels, registry=False, bilinear_pairs="").run()
    mains = band(default_result, 32.0)
    assert linear_only.excess_after[mains] > default_result.excess_after[mains] + 0.5


def test_more_seismic_coupling_more_low_frequency_noise_and_more_explained():
    results = [
        DetectorNoiseTwin(channels=detector(seismic_coupling=k), registry=False).run()
        for k in (1e-7, 3e-7, 1e-6)
    ]
    seismic = band(results[0], 2.0)
    before = [float(r.excess_before[seismic]) for r in results]
    explained = [float(r.explained_fraction[seismic]) for r in results]
    assert before == sorted(before) and before[-1] > 50 * before[0]
    assert explained == sorted(explained)


def test_scattered_light_is_reported_as_unexplained():
    channels = detector(scattering_amplitude=3e-21)
    twin = DetectorNoiseTwin(channels=channels, registry=False)
    result = twin.run()
    below_16 = result.band_high <= 16
    assert result.unexplained.where(below_16, drop=True).all()
    assert not result.unexplained.where(result.band_low >= 32, drop=True).any()
    messages = [a for a in twin.alerts(result) if "left after subtraction" in a.message]
    assert {a.where for a in messages} >= {"SIM1 4–8 Hz", "SIM1 8–16 Hz"}


def test_same_seed_same_result(channels):
    twin = DetectorNoiseTwin(channels=channels, registry=False)
    xr.testing.assert_identical(twin.run().drop_attrs(), twin.run().drop_attrs())


# --- ensemble, alerts, assimilation --------------------------------------------------------------
def test_ensemble_is_identical_in_process_and_on_two_workers(
    channels, in_process_client, two_worker_client
):
    twin = DetectorNoiseTwin(channels=channels, registry=False, seed=5)
    here = twin.ensemble(6, client=in_process_client)
    there = twin.ensemble(6, client=two_worker_client)
    xr.testing.assert_identical(here.drop_attrs(), there.drop_attrs())
    assert "member" not in here.strain_asd.dims  # the measurement is shared
    assert here.model_asd.std("member").min() > 0  # members are different noise realisations
    # the measured ASD lies within the members' spread where design noise dominates
    quiet = (here.frequency > 100) & (here.frequency < 500)
    low, high = here.model_asd.quantile([0.0, 1.0], "member")
    inside = ((here.strain_asd >= 0.8 * low) & (here.strain_asd <= 1.25 * high)).where(
        quiet, drop=True
    )
    assert inside.mean() > 0.9
    assert "model_range_ratio_above_0.9" in here
    assert not [a for a in twin.alerts(here) if a.level != "info"]


def test_ensemble_alerts_on_noise_the_model_cannot_make(in_process_client):
    twin = DetectorNoiseTwin(
        channels=detector(scattering_amplitude=3e-21), registry=False, duration=16.0
    )
    members = twin.ensemble(5, client=in_process_client)
    where = {a.where for a in twin.alerts(members) if "witnesses plus design" in a.message}
    assert "SIM1 8–16 Hz" in where


def test_alerts_for_glitches_and_range():
    channels = detector(seed=11, duration=64.0, glitch_rate=0.25)
    twin = DetectorNoiseTwin(channels=channels, registry=False, duration=64.0)
    result = twin.run()
    alerts = twin.alerts(result)
    glitches = [a for a in alerts if "glitch" in a.message]
    assert len(glitches) == result.sizes["trigger"]
    for alert, vetoed, snr in zip(
        glitches, result.trigger_vetoed.to_numpy(), result.trigger_snr.to_numpy(), strict=True
    ):
        expected = (
            "info" if vetoed else "danger" if snr >= 30 else "warning" if snr >= 10 else "watch"
        )
        assert alert.level == expected
        assert alert.when.startswith("2025-01-01T00:00:")
    assert not [a for a in alerts if "range" in a.message]
    loud = channels.copy()
    loud["strain"] = loud.strain * 2.5  # range / 2.5
    noisy = DetectorNoiseTwin(channels=loud, registry=False, duration=64.0)
    degraded = noisy.run()
    assert float(degraded.range_ratio) == pytest.approx(float(result.range_ratio) / 2.5)
    (range_alert,) = [a for a in noisy.alerts(degraded) if "range" in a.message]
    assert range_alert.level == "danger"
    assert f"{float(degraded.range_ratio):.0%} of design" in range_alert.message


def test_an_assimilated_twin_predicts_the_next_stretch_better(in_process_client):
    def coupled(data):
        parts = data.strain_component.sel(component=["seismic", "magnetic", "bilinear"])
        return parts.sum("component").to_numpy()

    options = dict(seismic_coupling=8e-7, glitch_rate=0.0, keep_components=True)
    history = detector(seed=20, duration=128.0, **options)
    present = detector(seed=21, duration=12.0, **options)
    untrained = DetectorNoiseTwin(channels=present, registry=False, duration=12.0)
    trained = DetectorNoiseTwin(channels=present, registry=False, duration=12.0)
    trained.assimilate(history)
    truth = coupled(present)
    errors = []
    for twin in (untrained, trained):
        error = twin.run().predicted_noise.to_numpy() - truth
        # leak-free PSD of the prediction error where the twin compares noise (2 to 128 Hz)
        f, psd = spectral.refined_psd(error[2048:-2048], 1024, 2.0)
        used = (f >= 2) & (f < 128)
        errors.append(np.sum(psd[used] / model.design_psd(f[used])))
    f, psd = spectral.refined_psd(truth[2048:-2048], 1024, 2.0)
    coupled_power = np.sum(psd[used] / model.design_psd(f[used]))
    assert errors[0] < 0.2 * coupled_power  # both predict most of it
    assert "learnt from 128 s" in trained.run().attrs["noise_model"]
    assert errors[1] < 0.5 * errors[0]  # the one that learnt from history, better
    assert trained._state["regressors"] == ["seismic", "magnetic", "angular", "angular*magnetic"]
    # ensemble members start from the learnt couplings too
    members = trained.ensemble(2, client=in_process_client)
    assert members.attrs["noise_model"].startswith("learnt from 128 s")


def test_assimilation_accumulates_and_forgets():
    twin = DetectorNoiseTwin(channels=detector(), registry=False, assimilation_memory=0.0)
    twin.assimilate(detector(seed=30, duration=16.0))
    twin.assimilate(detector(seed=31, duration=16.0))
    assert twin._state["observed_seconds"] == 16.0
    twin.assimilation_memory = 1.0
    twin.assimilate(detector(seed=32, duration=16.0))
    assert twin._state["observed_seconds"] == 32.0
    with pytest.raises(ParameterError, match="fft_length = 4.0 s"):
        twin.run(fft_length=4.0)
    with pytest.raises(InputError, match="observations"):
        twin.assimilate(detector(duration=16.0).drop_vars("angular"))


# --- bad parameters and input --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"duration": 5000}, ["duration", "5000", "1.0 to 4096.0 s"]),
        ({"duration": 64.0}, ["duration = 64.0 s", "longer than the connected channels (32 s)"]),
        ({"fft_length": float("nan")}, ["fft_length", "nan"]),
        ({"snr_threshold": "high"}, ["snr_threshold", "'high'"]),
        ({"q_min": 1.0}, ["q_min", "3.4 to 100.0"]),
        ({"q_min": 20.0, "q_max": 10.0}, ["q_min < q_max", "q_min = 20.0", "q_max = 10.0"]),
        (
            {"search_low_frequency": 300.0, "search_high_frequency": 200.0},
            ["search_low_frequency <"],
        ),
        ({"search_low_frequency": 600.0, "search_high_frequency": 800.0}, ["Nyquist", "512"]),
        ({"fft_length": 16.0}, ["duration = 32.0 s", "fft_length = 16.0 s"]),
        ({"bilinear_pairs": "angular+magnetic"}, ["bilinear_pairs", "'angular+magnetic'"]),
        ({"bilinear_pairs": "angular*wind"}, ["'wind'", "seismic, magnetic, angular"]),
        ({"glitch_rate": 1}, ["no parameter 'glitch_rate'"]),
        ({"seed": -1}, ["seed = -1 is not allowed"]),
    ],
)
def test_bad_parameters_are_named(channels, change, words):
    with pytest.raises(ParameterError) as raised:
        DetectorNoiseTwin(channels=channels, registry=False).run(**change)
    for word in words:
        assert word in str(raised.value)


def _broken(channels, how):
    data = channels.isel(time=slice(0, 4096)).copy(deep=True)
    if how == "time":
        time = data.time.to_numpy().copy()
        time[100] = np.nan
        return data.assign_coords(time=("time", time))
    if how == "rate":
        return data.assign_coords(time=("time", data.time.to_numpy() * 2))
    if how == "gap":
        time = data.time.to_numpy().copy()
        time[200:] += 0.5
        return data.assign_coords(time=("time", time))
    if how == "value":
        data["seismic"][300] = np.inf
        return data
    if how == "constant":
        data["angular"][:] = 0.0
        return data
    return data.drop_vars(how)


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("strain", ["no 'strain'", "seismic"]),
        ("time", ["time is not a number at index 100"]),
        ("rate", ["sample_rate = 1024 Hz", "0.00195312 s"]),
        ("gap", ["index 199"]),
        ("value", ["'seismic'", "index 300"]),
        ("constant", ["'angular' is constant"]),
    ],
)
def test_malformed_channels_are_refused(channels, how, words):
    with pytest.raises(InputError) as raised:
        DetectorNoiseTwin(channels=_broken(channels, how), registry=False)
    for word in words:
        assert word in str(raised.value)


def test_channels_need_a_dataset_and_a_witness(channels):
    with pytest.raises(InputError, match="xarray.Dataset"):
        DetectorNoiseTwin(channels=channels.strain.to_numpy(), registry=False)
    with pytest.raises(InputError, match="witness"):
        DetectorNoiseTwin(channels=channels[["strain"]], registry=False)


_small = detector(seed=9, duration=16.0, sample_rate=256)


def _narrowed(name, low=None, high=None):
    declared_low, declared_high = DetectorNoiseTwin.param[name].bounds
    low = declared_low if low is None else max(declared_low, low)
    high = declared_high if high is None else min(declared_high, high)
    return st.floats(low, high)


@st.composite
def _parameters(draw):
    """Every bounded parameter from its declared bounds; most narrowed to what the small input
    allows and in order (so most examples reach a result), then one of them, or none, drawn
    again over its whole declared range."""
    declared = {
        name: parameter
        for name, parameter in DetectorNoiseTwin.param.objects().items()
        if isinstance(parameter, param.Number) and name != "seed"
    }
    values = {name: draw(st.floats(*parameter.bounds)) for name, parameter in declared.items()}
    values["duration"] = draw(_narrowed("duration", high=16.0))
    values["fft_length"] = draw(_narrowed("fft_length", high=values["duration"] / 8))
    values["q_min"] = draw(_narrowed("q_min"))
    values["q_max"] = draw(_narrowed("q_max", low=values["q_min"] + 0.5))
    values["search_low_frequency"] = draw(_narrowed("search_low_frequency", high=120.0))
    values["search_high_frequency"] = draw(
        _narrowed("search_high_frequency", low=values["search_low_frequency"] + 1)
    )
    wild = draw(st.sampled_from([None, *declared]))
    if wild:
        values[wild] = draw(st.floats(*declared[wild].bounds))
    return values


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_parameters())
def test_any_allowed_parameters_give_a_result_without_nan_or_a_clear_error(values):
    twin = DetectorNoiseTwin(channels=_small, registry=False)
    try:
        result = twin.run(**values)
    except ParameterError as error:
        # a consistency check, naming the parameters at fault and their values
        named = [name for name in values if f"{name} = " in str(error)]
        assert named, str(error)
        return
    for variable in result.data_vars.values():
        if variable.dtype.kind == "f":
            assert not np.isnan(variable).any()
    twin.alerts(result)
