"""Gravitational-wave detector noise twin: what the auxiliary channels explain of the strain noise,
and what they do not.

Input: the channels of a detector (catalog entry ``detector_channels``), an ``xarray.Dataset`` as
``detector_model.simulate_detector`` makes: ``strain`` and witness channels (seismometer,
magnetometer, optical lever, ...) on a uniform ``time`` coordinate in seconds
(``detector_channels`` checks them). The twin analyses the last ``duration`` seconds:

1. **Noise prediction** (Tiwari 2015): strain y is regressed on the witnesses x_i and on the
   products of the ``bilinear_pairs`` (a slow angular motion times the mains line makes the
   sidebands f_line ± f_mod that neither explains alone) with the multi-channel Wiener filter
   H = S_yx S_xx⁻¹ from prewhitened Welch cross-spectra (``spectral``). The filter is fitted on
   the analysed data, or, once the twin has assimilated observations, it is the one learnt from
   them: that is how the twin follows its detector. Predicted noise = Σ h_i ∗ x_i (FIR from H),
   residual = y − prediction.
2. **Noise budget**: median-Welch ASDs (robust to glitches, leak-free by prewhitening) of the
   strain, the residual and the prediction, against the design ASD (``detector_model``); per
   octave band from four Welch bins up, the explained fraction 1 − P_residual/P_strain and the
   power over design before and after subtraction. Bands whose residual stays above
   ``excess_threshold`` × design are what the twin could not explain. The inspiral range relative
   to design, √(∫f^(−7/3)/S df / ∫f^(−7/3)/S_design df), sums up the damage.
3. **Transients**: the whitened strain is Q-transformed (``qtransform``, Chatterji 2004); tiles
   with SNR √(2(Z − 1)) above ``snr_threshold`` are clustered into triggers. Every witness
   channel is searched the same way; a strain trigger within ``veto_window`` of a witness trigger
   is vetoed (the witness saw its cause).
4. **Ensemble**: a member is the strain the twin's model says the detector should show — the
   witness-predicted coupling plus an independent realisation of design noise. The members' ASDs
   and band powers are the range within which the measured strain is explained; measured noise
   above it is not.
5. **Alerts** (``detector_alerts``): unvetoed glitches (level by SNR), inspiral range below
   90/70/50 % of design, and bands with unexplained noise.
6. **Assimilation**: ``assimilate(observations)`` averages the observed cross-spectra into the
   twin's state (``assimilation_memory`` weighs what it learnt before); later runs use the
   transfer functions learnt from them.

Validation (tests): SCIENCE.md C's checked values (whitening, sine-Gaussian SNR, Q-transform
statistics, Wiener and bilinear regressions), the design ASD table, and detection, vetoes and
noise budgets against the truth of simulated detectors.
"""

from __future__ import annotations

import numpy as np
import param
import xarray as xr

from dte_twins.base import Alert, Twin
from dte_twins.errors import InputError, ParameterError
from dte_twins.parameters import Quantity
from dte_twins.physics import detector_channels as channels_input
from dte_twins.physics import qtransform, spectral
from dte_twins.physics.detector_alerts import RANGE_LEVELS, noise_alerts
from dte_twins.physics.detector_model import colored_noise, design_psd, inspiral_range_ratio

__all__ = ["DetectorNoiseTwin", "analysis_margins"]

CLUSTER_WINDOW = 0.5  # s; tiles following each other this closely form one trigger


def analysis_margins(duration: float, fft_length: float) -> tuple[float, float]:
    """Whitening taper (s) and the margin (s) left out at each end: taper plus half a filter."""
    taper = min(0.5, duration / 8)
    return taper, taper + fft_length / 2


class DetectorNoiseTwin(Twin):
    """The noise of one gravitational-wave detector, explained from its auxiliary channels."""

    twin_version = "0.1.0"
    inputs = {"channels": "detector_channels"}
    headline_variables = ("qscan", "strain_asd")

    duration = Quantity(
        32.0,
        bounds=(1.0, 4096.0),
        unit="s",
        doc="Length of the most recent stretch of the channels analysed (the size knob).",
    )
    fft_length = Quantity(
        2.0,
        bounds=(0.125, 64.0),
        unit="s",
        doc="Welch segment length for PSDs, coherence and Wiener filters; resolution 1/fft_length.",
    )
    q_min = Quantity(4.0, bounds=(3.4, 100.0), unit="1", doc="Lowest Q of the Q-transform.")
    q_max = Quantity(64.0, bounds=(4.0, 200.0), unit="1", doc="Highest Q of the Q-transform.")
    search_low_frequency = Quantity(
        20.0, bounds=(1.0, 4000.0), unit="Hz", doc="Lowest frequency searched for glitches."
    )
    search_high_frequency = Quantity(
        500.0,
        bounds=(2.0, 8192.0),
        unit="Hz",
        doc="Highest frequency searched for glitches (capped by the Nyquist frequency).",
    )
    snr_threshold = Quantity(
        6.0,
        bounds=(3.0, 1000.0),
        unit="1",
        doc="Strain tiles with SNR √(2(Z − 1)) at or above this become glitch triggers.",
    )
    veto_snr_threshold = Quantity(
        6.0,
        bounds=(3.0, 1000.0),
        unit="1",
        doc="SNR at or above which a witness-channel tile counts as a witness of a glitch.",
    )
    veto_window = Quantity(
        0.1,
        bounds=(0.0, 10.0),
        unit="s",
        doc="A strain trigger this close in time to a witness trigger is vetoed.",
    )
    bilinear_pairs = param.String(
        "angular*magnetic",
        doc="Witness products regressed on as well, 'a*b' comma-separated ('' for none).",
    )
    excess_threshold = Quantity(
        2.0,
        bounds=(1.0, 1e6),
        unit="1",
        doc="Residual band power over design power above which noise counts as unexplained.",
    )
    assimilation_memory = Quantity(
        1.0,
        bounds=(0.0, 1.0),
        unit="1",
        doc="Weight of what was learnt before when new observations are assimilated "
        "(1: average over all observations, 0: keep only the newest).",
    )

    # --- checks --------------------------------------------------------------------------------
    def check_consistency(self, settings: dict) -> None:
        s = settings
        if s["q_min"] >= s["q_max"]:
            raise ParameterError(
                f"DetectorNoiseTwin needs q_min < q_max; q_min = {s['q_min']}, q_max = "
                f"{s['q_max']}: lower q_min or raise q_max."
            )
        if s["search_low_frequency"] >= s["search_high_frequency"]:
            raise ParameterError(
                "DetectorNoiseTwin needs search_low_frequency < search_high_frequency; "
                f"search_low_frequency = {s['search_low_frequency']} Hz, "
                f"search_high_frequency = {s['search_high_frequency']} Hz."
            )
        if s["duration"] < 4 * s["fft_length"]:
            raise ParameterError(
                f"duration = {s['duration']} s must hold at least 4 segments of fft_length = "
                f"{s['fft_length']} s: lengthen duration or shorten fft_length."
            )
        try:
            pairs = channels_input.parse_pairs(s["bilinear_pairs"])
        except ValueError as part:
            raise ParameterError(
                f"bilinear_pairs = {s['bilinear_pairs']!r} is not allowed: {str(part)!r} is not "
                "of the form 'channel*channel' (pairs separated by commas)."
            ) from None
        channels = self._input_values.get("channels")
        if channels is not None:
            self._check_against_channels(s, channels, pairs)

    def _check_against_channels(self, s: dict, channels: xr.Dataset, pairs) -> None:
        """Checks that need the connected channels (and what the twin has learnt)."""
        sample_rate = float(channels.attrs["sample_rate"])
        available = channels.sizes["time"] / sample_rate
        if s["duration"] > available + 1e-9:
            raise ParameterError(
                f"duration = {s['duration']} s is longer than the connected channels "
                f"({available:g} s): set duration ≤ {available:g}."
            )
        if s["fft_length"] * sample_rate < 16:
            raise ParameterError(
                f"fft_length = {s['fft_length']} s holds fewer than 16 samples at "
                f"{sample_rate:g} Hz: set fft_length ≥ {16 / sample_rate:g} s."
            )
        if s["search_low_frequency"] >= sample_rate / 2:
            raise ParameterError(
                f"search_low_frequency = {s['search_low_frequency']} Hz must lie below the "
                f"Nyquist frequency of the channels, {sample_rate / 2:g} Hz."
            )
        witnesses = channels_input.witness_names(channels)
        for name in (name for pair in pairs for name in pair):
            if name not in witnesses:
                raise ParameterError(
                    f"bilinear_pairs = {s['bilinear_pairs']!r} names {name!r}, which is not a "
                    f"witness channel; the channels are {', '.join(witnesses)}."
                )
        if self._state is None:
            # Wiener filters need more (effective) segments than regressors.
            regressors = len(witnesses) + len(pairs)
            _, margin = analysis_margins(s["duration"], s["fft_length"])
            segments = 2 * (s["duration"] - 2 * margin) / s["fft_length"] - 1
            if segments / spectral.OVERLAP_PENALTY <= regressors + 1:
                raise ParameterError(
                    f"duration = {s['duration']} s in segments of fft_length = "
                    f"{s['fft_length']} s gives too few segments to fit {regressors} "
                    "witnesses: lengthen duration or shorten fft_length."
                )
            return
        learnt = self._state
        names = channels_input.regressor_names(channels, s["bilinear_pairs"])
        if (
            learnt["fft_length"] != s["fft_length"]
            or learnt["sample_rate"] != sample_rate
            or learnt["regressors"] != names
        ):
            raise ParameterError(
                "the twin learnt its couplings with fft_length = "
                f"{learnt['fft_length']} s at {learnt['sample_rate']:g} Hz from "
                f"{', '.join(learnt['regressors'])}; now fft_length = {s['fft_length']} s at "
                f"{sample_rate:g} Hz with {', '.join(names)}: keep those or assimilate again."
            )

    def check_input(self, name: str, value):
        return channels_input.check_channels(value)

    # --- science ---------------------------------------------------------------------------------
    def _stretch(self, settings) -> xr.Dataset:
        channels = self.input_value("channels")
        n = int(round(settings["duration"] * channels.attrs["sample_rate"]))
        return channels.isel(time=slice(channels.sizes["time"] - n, None))

    def _triggers(self, stretch: xr.Dataset, whitened: np.ndarray, settings, edge: float):
        """Strain triggers with their witnesses, and the Q-scan with its axes.

        ``whitened`` holds the whitened strain, then the whitened witnesses.
        """
        sample_rate = stretch.attrs["sample_rate"]
        duration = stretch.sizes["time"] / sample_rate
        planes = qtransform.q_planes(
            duration,
            sample_rate,
            (settings["q_min"], settings["q_max"]),
            (settings["search_low_frequency"], settings["search_high_frequency"]),
        )
        n_times = int(min(1024, 2 ** np.ceil(np.log2(duration * 32))))
        top = min(settings["search_high_frequency"], sample_rate / 2)
        edges = np.geomspace(settings["search_low_frequency"], top, 65)

        def search(series, snr, image_times=0):
            threshold = qtransform.energy_for_snr(snr)
            return qtransform.search_transients(
                series,
                sample_rate,
                planes,
                threshold,
                edge,
                CLUSTER_WINDOW,
                "median",
                image_times,
                edges,
            )

        triggers, scan = search(whitened[0], settings["snr_threshold"], n_times)
        seen = {
            channel: search(series, settings["veto_snr_threshold"])[0]
            for channel, series in zip(
                channels_input.witness_names(stretch), whitened[1:], strict=False
            )
        }
        triggers["witness"] = qtransform.witnesses_of(triggers, seen, settings["veto_window"])
        scan_frequency = np.sqrt(edges[1:] * edges[:-1])
        scan_time = (np.arange(n_times) + 0.5) * duration / n_times
        return triggers, scan, scan_frequency, scan_time

    def prepare(self, settings):
        """The analysed stretch and its regression on the witnesses (most of a run's time):
        the same for every ensemble member, so done once."""
        stretch = self._stretch(settings)
        taper, margin = analysis_margins(settings["duration"], settings["fft_length"])
        learnt = self._state["spectra"] if self._state is not None else None
        regression = spectral.regress_on_witnesses(
            stretch["strain"].to_numpy().astype(float),
            channels_input.regressors(stretch, settings["bilinear_pairs"]),
            stretch.attrs["sample_rate"],
            settings["fft_length"],
            taper=taper,
            margin=margin,
            learnt=learnt,
        )
        if learnt is not None:
            model = f"learnt from {self._state['observed_seconds']:g} s of observations"
        else:
            model = "fitted on the analysed data"
        return stretch, regression, model

    def simulate(self, settings, rng, member=False):
        """Noise prediction and budget, transients; a member draws its own design noise."""
        stretch, regression, model = self.prepared
        sample_rate = stretch.attrs["sample_rate"]
        fft_length = settings["fft_length"]
        n = stretch.sizes["time"]
        taper, margin = analysis_margins(settings["duration"], fft_length)
        psd_frequency, strain_psd = regression.frequencies, regression.psd[0]
        skip = int(round(margin * sample_rate))
        interior = slice(skip, n - skip)

        def psd_of(whitened_series):
            """PSD of a series whitened like the strain, measured where filters and taper
            have settled, and recoloured."""
            frequency, flat = spectral.welch_psd(
                whitened_series[interior], sample_rate, fft_length, "median"
            )
            return frequency, flat * strain_psd * sample_rate / 2

        frequency, psd_strain = psd_of(regression.whitened[0])
        design = design_psd(frequency)
        edges = spectral.octave_bands(frequency, sample_rate / 2)
        design_band = spectral.band_power(frequency, design, edges)
        before = spectral.band_power(frequency, psd_strain, edges)
        variables = {
            "strain_asd": (("frequency",), np.sqrt(psd_strain), "1/√Hz"),
            "design_asd": (("frequency",), np.sqrt(design), "1/√Hz"),
            "excess_before": (("band",), before / design_band, "1"),
            "range_ratio": ((), inspiral_range_ratio(frequency, psd_strain), "1"),
        }
        coords = {
            "frequency": ("frequency", frequency, {"units": "Hz"}),
            "band_low": ("band", edges[:-1], {"units": "Hz"}),
            "band_high": ("band", edges[1:], {"units": "Hz"}),
        }
        if member:
            noise = colored_noise(n, sample_rate, design_psd, rng)
            noise = spectral.whiten(noise, sample_rate, psd_frequency, strain_psd, taper)
            _, psd_model = psd_of(regression.whitened_prediction + noise)
            variables.update(
                model_asd=(("frequency",), np.sqrt(psd_model), "1/√Hz"),
                model_excess=(
                    ("band",),
                    spectral.band_power(frequency, psd_model, edges) / design_band,
                    "1",
                ),
                model_range_ratio=((), inspiral_range_ratio(frequency, psd_model), "1"),
            )
            return self._dataset(variables, coords, stretch, model)

        _, psd_residual = psd_of(regression.whitened_residual)
        _, psd_prediction = psd_of(regression.whitened_prediction)
        after = spectral.band_power(frequency, psd_residual, edges)
        triggers, scan, scan_frequency, scan_time = self._triggers(
            stretch, regression.whitened, settings, edge=margin
        )
        time = stretch["time"].to_numpy()
        start = float(time[0])
        prediction = spectral.color(
            regression.whitened_prediction, sample_rate, psd_frequency, strain_psd
        )
        variables.update(
            residual_asd=(("frequency",), np.sqrt(psd_residual), "1/√Hz"),
            predicted_asd=(("frequency",), np.sqrt(psd_prediction), "1/√Hz"),
            coherence=(("regressor", "frequency"), spectral.coherence(regression.spectra), "1"),
            multiple_coherence=(("frequency",), regression.multiple_coherence, "1"),
            explained_fraction=(("band",), 1 - after / np.maximum(before, 1e-300), "1"),
            excess_after=(("band",), after / design_band, "1"),
            unexplained=(("band",), after / design_band > settings["excess_threshold"], ""),
            residual_range_ratio=((), inspiral_range_ratio(frequency, psd_residual), "1"),
            whitened_strain=(("time",), regression.whitened[0], "1"),
            predicted_noise=(("time",), prediction, "1"),
            qscan=(("scan_frequency", "scan_time"), scan, "1"),
            trigger_time=(("trigger",), triggers["time"] + start, "s"),
            trigger_frequency=(("trigger",), triggers["frequency"], "Hz"),
            trigger_q=(("trigger",), triggers["q"], "1"),
            trigger_energy=(("trigger",), triggers["energy"], "1"),
            trigger_snr=(("trigger",), qtransform.snr_for_energy(triggers["energy"]), "1"),
            trigger_vetoed=(("trigger",), triggers["witness"] != "", ""),
            trigger_witness=(("trigger",), triggers["witness"], ""),
        )
        coords.update(
            time=("time", time, {"units": "s"}),
            regressor=(
                "regressor",
                channels_input.regressor_names(stretch, settings["bilinear_pairs"]),
            ),
            scan_frequency=("scan_frequency", scan_frequency, {"units": "Hz"}),
            scan_time=("scan_time", scan_time + start, {"units": "s"}),
        )
        return self._dataset(variables, coords, stretch, model)

    @staticmethod
    def _dataset(variables, coords, stretch, model) -> xr.Dataset:
        result = xr.Dataset(
            {
                name: (dims, values, {"units": units} if units else {})
                for name, (dims, values, units) in variables.items()
            },
            coords=coords,
        )
        result.attrs.update(
            detector=str(stretch.attrs.get("detector", "detector")),
            start_time=str(stretch.attrs.get("start_time", "")),
            sample_rate=float(stretch.attrs["sample_rate"]),
            analysed_from=float(stretch["time"][0]),
            analysed_to=float(stretch["time"][-1]),
            noise_model=model,
        )
        return result

    def default_thresholds(self, settings):
        return {"model_range_ratio": [level for level, _ in RANGE_LEVELS]}

    # --- alerts -----------------------------------------------------------------------------------
    def alerts(self, result: xr.Dataset) -> list[Alert]:
        """Glitches, range and unexplained noise (see ``detector_alerts``)."""
        settings = self.result_settings(result)
        return noise_alerts(result, settings["excess_threshold"])

    # --- assimilation -----------------------------------------------------------------------------
    def assimilate(self, observations: xr.Dataset) -> None:
        """Learn the witness couplings from observed channels; later runs use them.

        Cross-spectra of the observed strain and witnesses (at this ``fft_length``) are averaged
        into what was learnt before, weighted by their segments and ``assimilation_memory``.
        """
        observed = self.check_input("channels", observations)
        sample_rate = observed.attrs["sample_rate"]
        try:
            names = channels_input.regressor_names(observed, self.bilinear_pairs)
            regressors = channels_input.regressors(observed, self.bilinear_pairs)
        except KeyError as missing:
            raise InputError(f"observations lack the witness channel {missing}.") from None
        if observed.sizes["time"] < 4 * self.fft_length * sample_rate:
            raise InputError(
                f"observations of {observed.sizes['time'] / sample_rate:g} s hold fewer than 4 "
                f"segments of fft_length = {self.fft_length} s."
            )
        seconds = observed.sizes["time"] / sample_rate
        taper, margin = analysis_margins(seconds, self.fft_length)
        *_, spectra = spectral.prewhitened_cross_spectra(
            observed["strain"].to_numpy(), regressors, sample_rate, self.fft_length, taper, margin
        )
        if self._state is not None:
            learnt = self._state
            if (
                learnt["regressors"] != names
                or learnt["sample_rate"] != sample_rate
                or learnt["fft_length"] != self.fft_length
            ):
                raise InputError(
                    f"observations with {', '.join(names)} at {sample_rate:g} Hz do not match "
                    f"what the twin learnt ({', '.join(learnt['regressors'])} at "
                    f"{learnt['sample_rate']:g} Hz, fft_length {learnt['fft_length']} s)."
                )
            spectra = learnt["spectra"].combined(spectra, self.assimilation_memory)
            seconds += self.assimilation_memory * learnt["observed_seconds"]
        self._state = {
            "spectra": spectra,
            "regressors": names,
            "sample_rate": sample_rate,
            "fft_length": self.fft_length,
            "observed_seconds": seconds,
        }
