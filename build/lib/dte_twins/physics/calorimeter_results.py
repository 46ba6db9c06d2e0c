"""Results of the calorimeter twin: read-out, energy response and resolution of the simulated
showers, the resolution fit, and the result Dataset that ``CalorimeterTwin.simulate`` returns.

Science:

1. Read-out: reconstructed energy E_rec = (E_vis/f)(1 + c·z₁) + b·z₂, with f the mip sampling
   fraction of the stack, z₁, z₂ standard normals, b the electronics noise (GeV) and c the
   constant term (relative calibration spread).
2. Per beam energy E, from N showers: response ⟨E_rec⟩/E with statistical error σ/(E√N), and
   resolution σ/⟨E_rec⟩ (σ the sample standard deviation of E_rec) with error
   (σ/⟨E_rec⟩)/√(2(N − 1)).
3. The resolution model σ/E = a/√E ⊕ b/E ⊕ c, i.e. (σ/E)² = a²/E + b²/E² + c² (E in GeV, a in
   √GeV, b in GeV). ``fit_resolution`` fits its squares by non-negative least squares, each
   point weighted by the error 2(σ/E)·δ(σ/E) of (σ/E)²; b is the known read-out noise (test beams
   take it from pedestal runs) unless asked to fit it from three energies on, and c is fitted from
   two energies on, else fixed to the read-out's.
4. The Dataset also holds the mean longitudinal profile (visible/f per layer) next to PDG's gamma
   profile with t_max = ln(E/E_c) + C, b = 0.5 (``showers``), the lateral containment within
   ``CONTAINMENT_RADII`` Molière radii, the lateral map and the leakage; with both simulators, the
   relative differences of the surrogate's response and resolution from the reference's.

References: PDG Review of Particle Physics, "Calorimetry"; CMS ECAL JINST 2 (2007) P04004;
ATLAS LAr NIM A568 (2006) 601.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy.optimize import nnls

from dte_twins.physics.materials import SamplingCalorimeter
from dte_twins.physics.showers import (
    CONTAINMENT_RADII,
    analytic_profile_parameters,
    longitudinal_fractions,
    map_edges_rm,
)

__all__ = [
    "METHODS",
    "EVENT_VARIABLES",
    "resolution_model",
    "fit_resolution",
    "reconstruct",
    "result_dataset",
]

#: the simulators, in the order of the result's ``simulator`` coordinate when both run
METHODS = ("reference", "fast")
#: the result's per-event variables (dim ``event``), which ensemble members leave out
EVENT_VARIABLES = ("visible_energy", "reconstructed_energy", "layer_energy", "leakage")


def resolution_model(energy, a, b=0.0, c=0.0):
    """σ/E = a/√E ⊕ b/E ⊕ c (E in GeV, b in GeV)."""
    energy = np.asarray(energy, float)
    return np.sqrt(a * a / energy + (b / energy) ** 2 + c * c)


def fit_resolution(
    energies, resolution, resolution_error, noise=0.0, constant=0.0, fit_noise=False
):
    """(a, b, c) of σ/E = a/√E ⊕ b/E ⊕ c by weighted non-negative least squares on (σ/E)².

    b is the read-out ``noise`` (known from pedestals, as in test beams) unless ``fit_noise``
    and there are three or more energies; c is fitted from two energies on, else ``constant``.
    """
    energies = np.asarray(energies, float)
    squares = np.asarray(resolution, float) ** 2
    errors = np.maximum(2 * np.asarray(resolution) * np.asarray(resolution_error), 1e-12)
    columns = {"a": 1 / energies, "b": energies**-2.0, "c": np.ones_like(energies)}
    fixed = {"b": float(noise), "c": float(constant)}
    free = ["a"] + (["b"] if fit_noise and energies.size >= 3 else [])
    free += ["c"] if energies.size >= len(free) + 1 else []
    target = squares - sum(fixed[k] ** 2 * columns[k] for k in fixed if k not in free)
    design = np.stack([columns[k] for k in free], axis=1)
    fitted, _ = nnls(design / errors[:, None], target / errors)
    terms = {**fixed, **dict(zip(free, np.sqrt(fitted), strict=True))}
    return float(terms["a"]), float(terms["b"]), float(terms["c"])


def reconstruct(visible, stack: SamplingCalorimeter, settings: dict, rng: np.random.Generator):
    """E_rec = (E_vis/f)(1 + c z₁) + b z₂."""
    normals = rng.standard_normal((2, *visible.shape))
    calibrated = visible / stack.sampling_fraction
    return (
        calibrated * (1 + settings["constant_term"] * normals[0]) + settings["noise"] * normals[1]
    )


def result_dataset(samples, readout, stack, energies, settings) -> xr.Dataset:
    """The run's Dataset from the ``ShowerSample`` list per simulator in ``samples``.

    ``readout`` holds a random generator per simulator for the read-out smearing; ``energies``
    are the beam energies (GeV) the samples were drawn at, ``settings`` the run's parameters.
    """
    methods = list(samples)
    n = settings["n_events"]
    layer_energy = np.array([[s.layer_energy for s in samples[m]] for m in methods])
    visible = layer_energy.sum(axis=-1)
    reconstructed = np.array(
        [reconstruct(visible[i], stack, settings, readout[m]) for i, m in enumerate(methods)]
    )
    means = reconstructed.mean(axis=-1)
    spreads = reconstructed.std(axis=-1, ddof=1)
    resolution = np.divide(spreads, means, out=np.zeros_like(means), where=means > 0)
    resolution_error = resolution / math.sqrt(2 * (n - 1))
    fits = np.array(
        [
            fit_resolution(energies, r, e, settings["noise"], settings["constant_term"])
            for r, e in zip(resolution, resolution_error, strict=True)
        ]
    )
    a, b, tmax = analytic_profile_parameters(energies, stack.critical_energy, settings["particle"])
    edges = stack.layer_edges
    moliere = stack.moliere_radius_cm
    map_centres = 0.5 * (map_edges_rm()[1:] + map_edges_rm()[:-1]) * moliere
    radial = np.array([[s.radial_energy.sum(0) for s in samples[m]] for m in methods])
    lateral = np.array([[s.lateral_map / n for s in samples[m]] for m in methods])
    leakage = np.array([[s.leakage for s in samples[m]] for m in methods])
    visible_total = np.maximum(visible.sum(axis=-1), 1e-300)

    def variable(dims, values, units, doc):
        return (dims, values, {"units": units, "description": doc})

    mep, me, mel = ("simulator", "energy", "event"), ("simulator", "energy"), ("energy", "layer")
    data = {
        "visible_energy": variable(mep, visible, "GeV", "energy in the active layers"),
        "reconstructed_energy": variable(mep, reconstructed, "GeV", "E_vis/f with read-out"),
        "layer_energy": variable((*mep, "layer"), layer_energy, "GeV", "visible energy per layer"),
        "leakage": variable(mep, leakage, "1", "share of the deposit beyond the last layer"),
        "mean_profile": variable(
            ("simulator", *mel),
            layer_energy.mean(axis=2) / stack.sampling_fraction,
            "GeV",
            "mean deposited energy per layer (visible/f)",
        ),
        "analytic_profile": variable(
            mel,
            energies[:, None] * longitudinal_fractions(edges, a, np.full_like(a, b)),
            "GeV",
            "PDG gamma profile: t_max = ln(E/E_c) + C, b = 0.5",
        ),
        "analytic_tmax": variable(("energy",), tmax, "X0", "PDG shower maximum"),
        "shower_maximum": variable(
            me,
            np.array([[s.tmax.mean() for s in samples[m]] for m in methods]),
            "X0",
            "mean GFLASH T of the events",
        ),
        "lateral_map": variable(
            ("simulator", "energy", "y", "x"), lateral, "GeV", "mean visible energy per cell"
        ),
        "lateral_containment": variable(
            ("simulator", "energy", "radius"),
            radial / visible_total[..., None],
            "1",
            "share of the visible energy within the radius",
        ),
        "response": variable(me, means / energies, "1", "⟨E_rec⟩/E"),
        "response_error": variable(
            me, spreads / (energies * math.sqrt(n)), "1", "statistical error of the response"
        ),
        "resolution": variable(me, resolution, "1", "σ(E_rec)/⟨E_rec⟩"),
        "resolution_error": variable(me, resolution_error, "1", "statistical error"),
        "mean_leakage": variable(me, leakage.mean(axis=-1), "1", "mean leakage"),
        "stochastic_term": variable(("simulator",), fits[:, 0], "√GeV", "fitted a"),
        "noise_term": variable(("simulator",), fits[:, 1], "GeV", "fitted b"),
        "constant_term": variable(("simulator",), fits[:, 2], "1", "fitted c"),
    }
    result = xr.Dataset(
        data,
        coords={
            "simulator": methods,
            "energy": ("energy", energies, {"units": "GeV"}),
            "event": np.arange(n),
            "layer": np.arange(stack.layers),
            "depth": ("layer", 0.5 * (edges[1:] + edges[:-1]), {"units": "X0"}),
            "radius": ("radius", np.asarray(CONTAINMENT_RADII), {"units": "Molière radii"}),
            "x": ("x", map_centres, {"units": "cm"}),
            "y": ("y", map_centres, {"units": "cm"}),
        },
    )
    if len(methods) == 2:
        for name in ("response", "resolution"):
            fast, reference = (result[name].sel(simulator=m).to_numpy() for m in METHODS[::-1])
            ratio = np.divide(fast, reference, out=np.ones_like(fast), where=reference > 0)
            result[f"{name}_difference"] = variable(
                ("energy",), ratio - 1, "1", f"surrogate {name} / reference {name} − 1"
            )
    result.attrs.update(
        absorber=stack.absorber,
        active_medium=stack.active_medium,
        absorber_thickness=stack.absorber_thickness,
        active_thickness=stack.active_thickness,
        layers=stack.layers,
        particle=settings["particle"],
        sampling_fraction=stack.sampling_fraction,
        energy_per_crossing_MeV=stack.energy_per_crossing,
        depth_X0=stack.depth,
        radiation_length_cm=stack.radiation_length_cm,
        critical_energy_MeV=stack.critical_energy,
        moliere_radius_cm=moliere,
        rule_of_thumb_stochastic_term=stack.rule_of_thumb_stochastic_term,
    )
    return result
