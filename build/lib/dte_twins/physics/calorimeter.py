"""Calorimeter fast simulation twin: electromagnetic showers in a sampling calorimeter from a
hit-level reference Monte Carlo and from a fast parametric surrogate, with energy response,
resolution and the speed-up of the surrogate.

This module holds the twin: its parameters, their checks, the ``showers`` input, the run
(reference and/or surrogate showers per beam energy, timed), alerts and assimilation. The read-out,
response, resolution fit and the result Dataset are in ``calorimeter_results``.

Science (equations in ``materials``, ``showers`` and ``calorimeter_results``):

1. The stack: ``layers`` cells of absorber (Pb, W, Fe or PbWO4) and active medium (liquid argon
   or polystyrene scintillator); radiation lengths from Tsai's formula, mip sampling fraction
   f = (dE/dx ρ d)_act / Σ (dE/dx ρ d) with PDG's dE/dx_min.
2. Showers: gamma longitudinal profiles with GFLASH's correlated fluctuations of (ln T, ln α),
   a core-plus-tail lateral profile in Molière radii, and sampling by counting active-layer
   crossings (Poisson) that each leave an exponential energy of mean f·ε: the stochastic term
   a = √(2ε) comes out of the hit counting (reference), or is drawn from a gamma distribution
   with fitted coefficients (surrogate).
3. Read-out: reconstructed energy E_rec = (E_vis/f)(1 + c·z₁) + b·z₂, z standard normals,
   b = ``noise`` (GeV) and c = ``constant_term``.
4. Per beam energy: response ⟨E_rec⟩/E and resolution σ/⟨E_rec⟩; the fit
   σ/E = a/√E ⊕ b/E ⊕ c (non-negative least squares on (σ/E)² = a²/E + b²/E² + c², weighted by
   the statistical errors; b is the known read-out noise, as test beams take it from pedestal
   runs, and c is fixed to the read-out's when only one energy is run).
5. ``method = 'both'`` runs both and compares them; the run's attributes hold the timings and
   the speed-up. Ensemble members are independent samples, spreading the fitted a, b, c.
6. Assimilation: test-beam (or reference) showers of the physical detector refit the surrogate
   (response, stochastic, noise and constant scales, profile offsets), so later fast runs follow
   that detector.

References: PDG Review of Particle Physics, "Passage of particles through matter" and
"Calorimetry"; Grindhammer & Peters, hep-ex/0001020 (GFLASH); Amaldi, Phys. Scripta 23 (1981) 409;
CMS ECAL JINST 2 (2007) P04004; ATLAS LAr NIM A568 (2006) 601.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime

import numpy as np
import param
import xarray as xr

from dte_twins.base import Alert, Twin
from dte_twins.errors import InputError, ParameterError
from dte_twins.parameters import Quantity, describe_allowed
from dte_twins.physics.calorimeter_results import (
    EVENT_VARIABLES,
    METHODS,
    fit_resolution,
    resolution_model,
    result_dataset,
)
from dte_twins.physics.materials import ABSORBERS, ACTIVE_MEDIA, SamplingCalorimeter
from dte_twins.physics.shower_surrogate import SurrogateModel, fit_surrogate, surrogate_showers
from dte_twins.physics.showers import PARTICLES, simulate_showers

# resolution_model and fit_resolution live in calorimeter_results; re-exported here.
__all__ = ["CalorimeterTwin", "resolution_model", "fit_resolution", "energy_scan"]

MINIMUM_DEPTH = 5.0  # X0: shallower stacks do not reach the shower maximum at 1 GeV
MINIMUM_CROSSINGS = 10  # active-layer crossings per shower at the lowest energy
MAXIMUM_REFERENCE_HITS = 1e9  # a few minutes of reference Monte Carlo on one core
_GEOMETRY = ("absorber", "active_medium", "absorber_thickness", "active_thickness", "layers")


def energy_scan(beam_energy: float, lowest_energy: float, points: int) -> np.ndarray:
    """Beam energies of the run: ``beam_energy`` alone, or a log-spaced scan up to it."""
    if points == 1:
        return np.array([float(beam_energy)])
    return np.geomspace(lowest_energy, beam_energy, points)


def _calorimeter(settings: dict) -> SamplingCalorimeter:
    return SamplingCalorimeter(
        settings["absorber"],
        settings["active_medium"],
        float(settings["absorber_thickness"]),
        float(settings["active_thickness"]),
        int(settings["layers"]),
    )


class CalorimeterTwin(Twin):
    """Electromagnetic calorimeter: reference showers, fast surrogate, response and resolution."""

    twin_version = "0.1.0"
    inputs = {"showers": "calorimeter_showers"}
    headline_variables = ("reconstructed_energy", "lateral_map")

    absorber = param.Selector(
        default="Pb", objects=list(ABSORBERS), doc="Absorber plates of the sampling stack."
    )
    active_medium = param.Selector(
        default="LAr",
        objects=list(ACTIVE_MEDIA),
        doc="Active layers: liquid argon or polystyrene scintillator.",
    )
    absorber_thickness = Quantity(
        1.5, bounds=(0.5, 50), unit="mm", doc="Thickness of one absorber plate."
    )
    active_thickness = Quantity(
        4.0, bounds=(0.5, 50), unit="mm", doc="Thickness of one active layer."
    )
    layers = param.Integer(
        80, bounds=(1, 500), doc="Number of absorber + active cells in the stack."
    )
    particle = param.Selector(
        default="electron", objects=list(PARTICLES), doc="Beam particle (photons start later)."
    )
    beam_energy = Quantity(
        100.0,
        bounds=(1, 500),
        unit="GeV",
        doc="Beam energy; with energy_points > 1 the top of a log-spaced energy scan.",
    )
    lowest_energy = Quantity(
        1.0, bounds=(1, 500), unit="GeV", doc="Lowest energy of the scan (energy_points > 1)."
    )
    energy_points = param.Integer(
        5, bounds=(1, 12), doc="Beam energies in the scan; 1 runs beam_energy alone."
    )
    n_events = param.Integer(
        200,
        bounds=(2, 100_000),
        doc="Showers per beam energy (the size knob: 200 by default, 20000 for precision).",
    )
    method = param.Selector(
        default="fast",
        objects=["fast", "reference", "both"],
        doc="Fast surrogate, hit-level reference Monte Carlo, or both compared.",
    )
    noise = Quantity(
        0.0, bounds=(0, 5), unit="GeV", doc="Electronics noise b: σ of the summed read-out."
    )
    constant_term = Quantity(
        0.0, bounds=(0, 0.2), unit="1", doc="Constant term c: relative calibration spread."
    )
    response_tolerance = Quantity(
        0.01,
        bounds=(0.001, 0.5),
        unit="1",
        doc="Relative surrogate-reference response difference that raises an alert.",
    )
    resolution_tolerance = Quantity(
        0.10,
        bounds=(0.01, 1.0),
        unit="1",
        doc="Relative surrogate-reference resolution difference that raises an alert.",
    )
    leakage_limit = Quantity(
        0.02,
        bounds=(0.001, 1.0),
        unit="1",
        doc="Mean share of the shower leaking out of the back that raises an alert.",
    )

    # --- checks --------------------------------------------------------------------------------
    def check_consistency(self, settings: dict) -> None:
        points, low, high = (
            settings["energy_points"],
            settings["lowest_energy"],
            settings["beam_energy"],
        )
        if points > 1 and low >= high:
            raise ParameterError(
                f"CalorimeterTwin energy scan needs lowest_energy < beam_energy: lowest_energy = "
                f"{low} GeV, beam_energy = {high} GeV with energy_points = {points}; lower "
                "lowest_energy or set energy_points = 1."
            )
        stack = _calorimeter(settings)
        if stack.depth < MINIMUM_DEPTH:
            raise ParameterError(
                f"CalorimeterTwin stack is only {stack.depth:.2f} X0 deep (layers = "
                f"{stack.layers}, absorber_thickness = {stack.absorber_thickness} mm of "
                f"{stack.absorber}, active_thickness = {stack.active_thickness} mm); it must be "
                f"at least {MINIMUM_DEPTH:g} X0: add layers or thicken the absorber."
            )
        energies = energy_scan(high, low, points)
        crossing = stack.energy_per_crossing / 1000
        if energies[0] / crossing < MINIMUM_CROSSINGS:
            raise ParameterError(
                f"CalorimeterTwin sampling is too coarse: with absorber_thickness = "
                f"{stack.absorber_thickness} mm and active_thickness = {stack.active_thickness} mm "
                f"each active-layer crossing stands for {1000 * crossing:.0f} MeV, so "
                f"{energies[0]:g} GeV showers make fewer than {MINIMUM_CROSSINGS} crossings; "
                "use thinner layers or a higher lowest_energy."
            )
        hits = settings["n_events"] * energies.sum() / crossing
        if settings["method"] != "fast" and hits > MAXIMUM_REFERENCE_HITS:
            raise ParameterError(
                f"CalorimeterTwin reference Monte Carlo would make {hits:.2g} hits (n_events = "
                f"{settings['n_events']}, method = {settings['method']!r}), more than "
                f"{MAXIMUM_REFERENCE_HITS:.0e}; lower n_events or beam_energy, or use "
                "method = 'fast'."
            )

    def check_input(self, name: str, value):
        if not isinstance(value, xr.Dataset):
            raise InputError(
                f"showers must be an xarray.Dataset (catalog entry 'calorimeter_showers'), not "
                f"{type(value).__name__}."
            )
        if "visible_energy" not in value:
            raise InputError(
                "showers needs the variable 'visible_energy' (GeV in the active layers, dims "
                f"energy × event); it has {', '.join(map(str, value.data_vars)) or 'none'}."
            )
        visible = value["visible_energy"]
        if set(visible.dims) != {"energy", "event"} or "energy" not in value.coords:
            raise InputError(
                "showers variable 'visible_energy' must have dims (energy, event) and a "
                f"coordinate 'energy' in GeV; it has dims {visible.dims}."
            )
        energies = value["energy"].to_numpy()
        if not np.issubdtype(energies.dtype, np.number) or not np.all(
            np.isfinite(energies) & (energies > 0)
        ):
            raise InputError(f"showers coordinate 'energy' must be positive GeV; it is {energies}.")
        if value.sizes["event"] < 2:
            raise InputError("showers needs at least 2 events per energy in 'visible_energy'.")
        variables = ["visible_energy"] + (["layer_energy"] if "layer_energy" in value else [])
        for variable in variables:
            data = value[variable]
            if variable == "layer_energy" and set(data.dims) != {"energy", "event", "layer"}:
                raise InputError(
                    f"showers variable 'layer_energy' must have dims (energy, event, layer); "
                    f"it has {data.dims}."
                )
            values = data.transpose("energy", "event", ...).to_numpy()
            bad = ~np.isfinite(values) | (values < 0)
            if bad.any():
                energy_index, event = np.argwhere(bad)[0][:2]
                raise InputError(
                    f"showers variable {variable!r} must be finite and ≥ 0 GeV; at energy = "
                    f"{energies[energy_index]:g} GeV, event {event} it is "
                    f"{values[bad][0]!r}."
                )
        for key in set(_GEOMETRY) & set(value.attrs):  # the stack the showers were taken in
            try:
                self.param[key]._validate(value.attrs[key])
            except ValueError:
                raise InputError(
                    f"showers attribute {key!r} = {value.attrs[key]!r} is not allowed: it must "
                    f"be {describe_allowed(self.param[key])}."
                ) from None
        return value.sortby("energy")

    # --- the surrogate ---------------------------------------------------------------------------
    def _samples_calorimeter(self, samples: xr.Dataset) -> SamplingCalorimeter:
        """The stack the samples were taken with: their attributes, else this twin's."""
        settings = {
            **self.settings(),
            **{k: samples.attrs[k] for k in _GEOMETRY if k in samples.attrs},
        }
        if "layer" in samples.dims:
            settings["layers"] = samples.sizes["layer"]
        return _calorimeter(settings)

    def surrogate(self, particle: str | None = None) -> SurrogateModel:
        """The surrogate in use: assimilated, else fitted on the ``showers`` input, else default."""
        if self._state and "surrogate" in self._state:
            return SurrogateModel(**self._state["surrogate"])
        if "showers" in self._input_values:
            samples = self._input_values["showers"]
            return fit_surrogate(
                samples,
                self._samples_calorimeter(samples),
                samples.attrs.get("particle", particle or self.particle),
            )
        return SurrogateModel()

    # --- science ---------------------------------------------------------------------------------
    def prepare(self, settings):
        """The surrogate, fitted once per run (not per member): most of a fast run's time."""
        return self.surrogate(settings["particle"])

    def simulate(self, settings, rng, member=False):
        stack = _calorimeter(settings)
        energies = energy_scan(
            settings["beam_energy"], settings["lowest_energy"], settings["energy_points"]
        )
        particle, n = settings["particle"], settings["n_events"]
        methods = METHODS if settings["method"] == "both" else (settings["method"],)
        model = self.prepared
        # Fixed streams per method: a 'fast' run equals the fast half of a 'both' run.
        streams = dict(zip((*METHODS, "readout"), rng.spawn(3), strict=True))
        readout = dict(zip(METHODS, streams["readout"].spawn(2), strict=True))
        samples, seconds = {}, {}
        for method in methods:
            per_energy = streams[method].spawn(len(energies))
            clock = time.perf_counter()
            if method == "reference":
                samples[method] = [
                    simulate_showers(e, stack, n, g, particle)
                    for e, g in zip(energies, per_energy, strict=True)
                ]
            else:
                samples[method] = [
                    surrogate_showers(e, stack, n, g, particle, model)
                    for e, g in zip(energies, per_energy, strict=True)
                ]
            seconds[method] = time.perf_counter() - clock
        result = result_dataset(samples, readout, stack, energies, settings)
        result.attrs.update(
            {f"{method}_seconds": round(s, 6) for method, s in seconds.items()},
            surrogate=json.dumps(asdict(model)),
        )
        if len(methods) == 2:
            result.attrs["speed_up"] = seconds["reference"] / max(seconds["fast"], 1e-9)
        if member:  # members summarise; their events would only weigh on the ensemble
            result = result.drop_vars([*EVENT_VARIABLES, "event"])
        return result

    def default_thresholds(self, settings):
        return {"mean_leakage": [settings["leakage_limit"]]}

    # --- alerts ----------------------------------------------------------------------------------
    def alerts(self, result: xr.Dataset) -> list[Alert]:
        settings = self.result_settings(result)
        when = str(result.attrs.get("started", ""))[:10] or datetime.now(UTC).date().isoformat()
        if "member" in result.dims:
            result = result[[v for v in result.data_vars if "member" in result[v].dims]]
            result = result.mean("member")
        stack = _calorimeter(settings)
        where = f"{stack.absorber}/{stack.active_medium} calorimeter"
        alerts = []
        methods = list(result["simulator"].to_numpy())
        if set(METHODS) <= set(methods):
            alerts += _disagreements(result, settings, where, when)
        leakage = result["mean_leakage"].sel(simulator=methods[0])
        for energy, share in zip(result["energy"].to_numpy(), leakage.to_numpy(), strict=True):
            if share > settings["leakage_limit"]:
                alerts.append(
                    Alert(
                        "warning",
                        f"{share:.1%} of {energy:g} GeV {settings['particle']} showers leak out of "
                        f"the back (limit {settings['leakage_limit']:.1%}); the stack is "
                        f"{stack.depth:.1f} X0 deep: add layers.",
                        where=f"{where}, {energy:g} GeV",
                        when=when,
                    )
                )
        return alerts

    # --- assimilation ----------------------------------------------------------------------------
    def assimilate(self, observations: xr.Dataset) -> SurrogateModel:
        """Refit the surrogate on showers of the physical detector; later fast runs follow it.

        ``observations`` is a ``showers`` Dataset: ``visible_energy`` (energy, event) in GeV,
        optionally ``layer_energy`` (energy, event, layer); geometry attributes (absorber,
        active_medium, absorber_thickness, active_thickness, particle) default to the twin's.
        """
        samples = self.check_input("showers", observations)
        model = fit_surrogate(
            samples,
            self._samples_calorimeter(samples),
            samples.attrs.get("particle", self.particle),
        )
        self._state = {"surrogate": asdict(model)}
        return model


def _disagreements(result, settings, where, when) -> list[Alert]:
    """Alerts where the surrogate's response or resolution leaves the reference's tolerance."""
    alerts = []
    checks = (("response", "response_tolerance"), ("resolution", "resolution_tolerance"))
    for variable, tolerance_name in checks:
        tolerance = settings[tolerance_name]
        reference, fast = (result[variable].sel(simulator=m).to_numpy() for m in METHODS)
        errors = [result[f"{variable}_error"].sel(simulator=m).to_numpy() for m in METHODS]
        with np.errstate(divide="ignore", invalid="ignore"):
            difference = fast / reference - 1
            error = np.hypot(*errors) / reference
        for energy, d, e in zip(result["energy"].to_numpy(), difference, error, strict=True):
            if abs(d) > tolerance and abs(d) > 3 * e:
                alerts.append(
                    Alert(
                        "warning",
                        f"surrogate {variable} differs from the reference by {d:+.1%} at "
                        f"{energy:g} GeV (tolerance {tolerance:.0%}, statistical error {e:.1%}): "
                        "refit the surrogate (assimilate reference showers).",
                        where=f"{where}, {energy:g} GeV",
                        when=when,
                    )
                )
    return alerts
