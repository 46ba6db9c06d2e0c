"""A simulated gravitational-wave detector's channels, as its data acquisition records them.

Strain plus seismic, magnetic and angular witness channels at 1024 Hz from
``dte_twins.physics.detector_model.simulate_detector`` (design noise, linear and bilinear
couplings, blip glitches of which half have a witness), ``64 × scale`` seconds and at least 32.
The true glitch list rides along on its own dimension, so trigger and veto pipelines can be
scored. Synthetic.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["detector_channels", "SAMPLE_RATE"]

SAMPLE_RATE = 1024
SECONDS = 64.0
#: the shortest recording, at any size: the detector noise twin's default analysis stretch
#: (``duration`` = 32 s) must run on the catalog at Binder size too
MIN_SECONDS = 32.0


def detector_channels(scale: float, seed: int = 20261124) -> xr.Dataset:
    from dte_twins.physics.detector_model import simulate_detector

    duration = max(MIN_SECONDS, round(SECONDS * scale))
    channels = simulate_detector(duration, SAMPLE_RATE, rng=np.random.default_rng(seed))
    channels.attrs["synthetic"] = 1
    return channels
