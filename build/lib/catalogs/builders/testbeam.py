"""Calorimeter showers as a test beam would record them, from the twin's reference Monte Carlo.

The "physical" calorimeter is the default Pb/LAr sampling stack of ``CalorimeterTwin`` (80
layers of 1.5 mm lead and 4 mm liquid argon), read out with 0.1 GeV noise and a 0.5 % constant
term that the fast surrogate does not know about, so assimilating these showers teaches it
something. Electrons at 1–100 GeV, ``200 × scale`` events per energy. Marked synthetic.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["testbeam_showers", "BEAM_ENERGIES_GEV"]

BEAM_ENERGIES_GEV = (1.0, 100.0)
ENERGY_POINTS = 6


def testbeam_showers(scale: float, seed: int = 20261124) -> xr.Dataset:
    from dte_twins.physics.calorimeter import CalorimeterTwin

    twin = CalorimeterTwin(
        registry=False,
        method="reference",
        n_events=max(20, int(round(200 * scale))),
        lowest_energy=BEAM_ENERGIES_GEV[0],
        beam_energy=BEAM_ENERGIES_GEV[1],
        energy_points=ENERGY_POINTS,
        noise=0.1,
        constant_term=0.005,
        seed=seed % 2**32,
    )
    run = twin.run().sel(simulator="reference", drop=True)
    showers = run[["visible_energy", "layer_energy"]]
    showers.attrs = {
        key: value
        for key, value in run.attrs.items()
        if key in twin.param and key not in ("name", "seed", "method", "n_events")
    }
    showers.attrs["synthetic"] = 1
    return showers
