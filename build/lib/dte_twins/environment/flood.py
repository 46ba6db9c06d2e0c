"""Flood early warning twin: rainfall → runoff (GR4J) → river level → inundation on a DEM →
damage to exposed assets → alerts, with an ensemble over rainfall uncertainty, calibration
against observed discharge, and assimilation of observations so the twin follows its river.

Science (see ``gr4j``, ``evapotranspiration``, ``hydraulics`` for the equations):

1. Potential evapotranspiration from temperature by Oudin (2005), unless the forcing carries it.
2. Runoff in mm/d from GR4J (Perrin et al. 2003); discharge Q = q·A/86.4 m³/s for a catchment of
   A km².
3. Stage from a Manning rating curve, h = h0 + (Q/a)^(3/5), a = B√S/n (WMO-No. 1044).
4. With a terrain (a DEM, optionally with exposed assets): flooded cells where the height above
   the nearest drainage is below the stage, depth d = max(0, h − HAND) (Nobre et al. 2011), and
   damage = asset area × maximum damage (€/m²) × f(d), f the JRC European residential
   depth-damage curve (Huizinga et al. 2017); see ``inundation``, ``terrain``, ``damage``.
5. Ensemble: each member multiplies the rainfall by a lognormal factor exp(σz − σ²/2) of mean 1
   (σ = ``rainfall_spread``), so members differ as rainfall estimates do; exceedance
   probabilities of the watch, warning and danger discharges follow per day, and per cell the
   probability of being flooded.
6. Alerts per day: danger when P(Q > danger) ≥ 0.5 (or a single run above it), warning likewise,
   watch when P(Q > watch) ≥ 0.2; consecutive days of one level form one alert.
7. Calibration: differential evolution (SciPy) of X1–X4 maximising KGE (Gupta 2009) or NSE on
   observed discharge, all candidates of a generation simulated at once.
8. Assimilation: the model runs through the observed forcing; then the routing store is set so
   that simulated discharge equals the last observed discharge (direct insertion).

Validation (tests): the checked GR4J values of SCIENCE.md, the water balance, NSE ≥ 0.7 on the
real Fulda record (1979–88) after calibration, the V-valley flood width, the JRC curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import param
import xarray as xr
from scipy.optimize import brentq

from dte_twins.base import Alert, Twin
from dte_twins.calibration import fit_parameters
from dte_twins.environment import gr4j
from dte_twins.environment.evapotranspiration import oudin_pet
from dte_twins.environment.flood_alerts import LEVELS, discharge_alerts, impact_alerts
from dte_twins.environment.hydraulics import (
    m3s_to_mm_per_day,
    manning_coefficient,
    mm_per_day_to_m3s,
    stage_from_discharge,
)
from dte_twins.environment.inundation import flood_impacts, prepare_terrain
from dte_twins.errors import InputError, ParameterError
from dte_twins.parameters import Quantity
from dte_twins.statistics import kge, nse

__all__ = ["FloodTwin"]


def _discharge_thresholds(settings: dict) -> list[float]:
    """The watch, warning and danger discharges (m³/s)."""
    return [settings[f"{level}_discharge"] for level in LEVELS]


class FloodTwin(Twin):
    """Flood early warning for one catchment and its gauge."""

    twin_version = "0.1.0"
    #: the forcing is required; the terrain (DEM and exposed assets) adds inundation and damage
    inputs = {"forcing": "fulda_forcing", "terrain": "floodplain_terrain"}
    headline_variables = ("discharge", "max_depth")

    x1 = Quantity(350.0, bounds=(10, 2500), unit="mm", doc="GR4J production store capacity X1.")
    x2 = Quantity(0.0, bounds=(-10, 5), unit="mm/d", doc="GR4J groundwater exchange X2.")
    x3 = Quantity(90.0, bounds=(5, 1000), unit="mm", doc="GR4J routing store capacity X3.")
    x4 = Quantity(1.7, bounds=(0.5, 10), unit="d", doc="GR4J unit hydrograph time base X4.")
    area = Quantity(2976.41, bounds=(0.01, 1e6), unit="km²", doc="Catchment area at the gauge.")
    latitude = Quantity(50.6, bounds=(-66, 66), unit="°", doc="Catchment latitude (for PET).")
    rainfall_spread = Quantity(
        0.3, bounds=(0, 1.5), unit="", doc="σ of the lognormal rainfall factor of ensemble members."
    )
    channel_width = Quantity(50.0, bounds=(1, 5000), unit="m", doc="River width at the gauge.")
    manning_n = Quantity(0.035, bounds=(0.01, 0.2), unit="s/m^(1/3)", doc="Manning roughness.")
    bed_slope = Quantity(0.001, bounds=(1e-6, 0.1), unit="1", doc="River bed slope at the gauge.")
    watch_discharge = Quantity(150.0, bounds=(0, 1e6), unit="m³/s", doc="Discharge to watch.")
    warning_discharge = Quantity(250.0, bounds=(0, 1e6), unit="m³/s", doc="Warning discharge.")
    danger_discharge = Quantity(350.0, bounds=(0, 1e6), unit="m³/s", doc="Danger discharge.")
    max_damage = Quantity(
        600.0,
        bounds=(0, 1e5),
        unit="€/m²",
        doc="Maximum damage per m² of exposed building area (JRC tables, per country).",
    )
    warmup_days = param.Integer(
        365, bounds=(0, 3650), doc="Days at the start used to spin the stores up (not scored)."
    )

    # --- checks --------------------------------------------------------------------------------
    def check_consistency(self, settings: dict) -> None:
        watch, warning, danger = _discharge_thresholds(settings)
        if not watch <= warning <= danger:
            raise ParameterError(
                f"FloodTwin thresholds must rise: watch_discharge = {watch}, warning_discharge = "
                f"{warning}, danger_discharge = {danger} m³/s; set watch ≤ warning ≤ danger."
            )

    def check_input(self, name: str, value):
        if name == "terrain":
            return prepare_terrain(value)
        if not isinstance(value, pd.DataFrame):
            raise InputError(
                f"forcing must be a pandas DataFrame indexed by date, not {type(value).__name__}."
            )
        if "precipitation" not in value or not ({"pet", "temperature"} & set(value.columns)):
            raise InputError(
                "forcing needs a 'precipitation' column (mm/d) and a 'pet' (mm/d) or "
                f"'temperature' (°C) column; it has {', '.join(map(str, value.columns))}."
            )
        if not isinstance(value.index, pd.DatetimeIndex):
            raise InputError("forcing must be indexed by date (a pandas DatetimeIndex).")
        for column in ("precipitation", "pet"):
            if column in value:
                bad = value[column].isna() | (value[column] < 0)
                if bad.any():
                    day = value.index[bad.to_numpy().argmax()].date()
                    raise InputError(
                        f"forcing column {column!r} must be a number ≥ 0 every day; "
                        f"{day} has {value[column][bad].iloc[0]!r}."
                    )
        return value.sort_index()

    # --- science ---------------------------------------------------------------------------------
    def _evapotranspiration(self, forcing: pd.DataFrame, latitude: float) -> np.ndarray:
        if "pet" in forcing:
            return forcing["pet"].to_numpy(float)
        return oudin_pet(
            forcing["temperature"].to_numpy(float), latitude, forcing.index.day_of_year
        )

    def simulate(self, settings, rng, member=False):
        forcing = self.input_value("forcing")
        precipitation = forcing["precipitation"].to_numpy(float)
        if member:
            sigma = settings["rainfall_spread"]
            precipitation = precipitation * np.exp(sigma * rng.standard_normal() - sigma**2 / 2)
        pet = self._evapotranspiration(forcing, settings["latitude"])
        fluxes, _ = gr4j.simulate(
            precipitation,
            pet,
            settings["x1"],
            settings["x2"],
            settings["x3"],
            settings["x4"],
            state=self._state,
        )
        discharge = mm_per_day_to_m3s(fluxes["discharge"][0], settings["area"])
        a = manning_coefficient(
            settings["channel_width"], settings["bed_slope"], settings["manning_n"]
        )
        time = xr.DataArray(forcing.index.to_numpy(), dims="time")
        data = {
            "precipitation": (precipitation, "mm/d"),
            "pet": (pet, "mm/d"),
            "runoff": (fluxes["discharge"][0], "mm/d"),
            "actual_et": (fluxes["actual_et"][0], "mm/d"),
            "production_store": (fluxes["production_store"][0], "mm"),
            "routing_store": (fluxes["routing_store"][0], "mm"),
            "discharge": (discharge, "m³/s"),
            "stage": (stage_from_discharge(discharge, a), "m"),
        }
        result = xr.Dataset(
            {name: ("time", values, {"units": units}) for name, (values, units) in data.items()},
            coords={"time": time},
        )
        if self.has_input("terrain"):
            self._add_impacts(result, settings)
        if "discharge" in forcing:
            result["observed_discharge"] = (
                "time",
                forcing["discharge"].to_numpy(float),
                {"units": "m³/s"},
            )
        return result

    def _add_impacts(self, result: xr.Dataset, settings: dict) -> None:
        terrain = self.input_value("terrain")
        impacts = flood_impacts(terrain, result["stage"].to_numpy(), settings["max_damage"])
        result["flooded_area"] = ("time", impacts["flooded_area"], {"units": "km²"})
        result["damage"] = ("time", impacts["damage"], {"units": "€"})
        result["max_depth"] = (("y", "x"), impacts["max_depth"], {"units": "m"})
        result["peak_damage"] = ((), impacts["peak_damage"], {"units": "€"})
        # The terrain itself, so maps need nothing else (shared by members, not repeated).
        for name in ("elevation", "hand", "asset_area"):
            result[name] = terrain[name]

    def default_thresholds(self, settings):
        thresholds = {"discharge": _discharge_thresholds(settings)}
        if self.has_input("terrain"):
            thresholds["max_depth"] = [0.0]  # the probability of each cell being flooded
        return thresholds

    # --- alerts -----------------------------------------------------------------------------------
    def alerts(self, result: xr.Dataset) -> list[Alert]:
        settings = self.result_settings(result)
        thresholds = _discharge_thresholds(settings)
        alerts = discharge_alerts(result, dict(zip(LEVELS, thresholds, strict=True)))
        if "peak_damage" in result:
            alerts.extend(impact_alerts(result))
        return alerts

    # --- calibration and assimilation -----------------------------------------------------------
    def calibrate(
        self, objective: str = "kge", generations: int = 40, population: int = 10
    ) -> dict:
        """Fit X1–X4 to the forcing's observed discharge; set them on the twin; return the skill."""
        forcing = self.input_value("forcing")
        if "discharge" not in forcing:
            raise InputError("calibration needs a 'discharge' column (m³/s) in the forcing.")
        if objective not in ("kge", "nse"):
            raise ParameterError(
                f"objective = {objective!r} is not allowed: it must be 'kge' or 'nse'."
            )
        score = kge if objective == "kge" else nse
        warm = self.warmup_days
        observed_mm = m3s_to_mm_per_day(forcing["discharge"], self.area)
        scored = ~np.isnan(observed_mm)
        scored[:warm] = False
        observed_scored = observed_mm[scored]
        precipitation = forcing["precipitation"].to_numpy(float)
        pet = self._evapotranspiration(forcing, self.latitude)
        names = ("x1", "x2", "x3", "x4")

        def loss(candidates):  # candidates: shape (4, S), all simulated in one call
            fluxes, _ = gr4j.simulate(precipitation, pet, *candidates)
            return np.array([-score(q[scored], observed_scored) for q in fluxes["discharge"]])

        fitted = fit_parameters(self, names, loss, generations, population)
        self.param.update(fitted)
        fluxes, _ = gr4j.simulate(precipitation, pet, *(fitted[name] for name in names))
        simulated = fluxes["discharge"][0][scored]
        return {
            **fitted,
            "nse": nse(simulated, observed_scored),
            "kge": kge(simulated, observed_scored),
        }

    def assimilate(self, observations: pd.DataFrame) -> None:
        """Follow the river: run through observed forcing, then match the last observed discharge.

        ``observations`` has the forcing's columns and ``discharge`` (m³/s); later runs start
        from the state reached, so they forecast from the present.
        """
        observations = self.check_input("forcing", observations)
        observed = observations.get("discharge", pd.Series(dtype=float)).dropna()
        if observed.empty:
            raise InputError("assimilation needs observed 'discharge' (m³/s).")
        pet = self._evapotranspiration(observations, self.latitude)
        _, state = gr4j.simulate(
            observations["precipitation"].to_numpy(float),
            pet,
            self.x1,
            self.x2,
            self.x3,
            self.x4,
            state=self._state,
        )
        target_mm = float(m3s_to_mm_per_day(observed.iloc[-1], self.area))
        # Direct insertion: the routing store whose outflow, plus what the unit hydrograph
        # delivers directly, gives the observed discharge.
        direct = float(state.queue2[0, 0])
        wanted = max(target_mm - direct, 0.0)
        outflow = lambda r: gr4j.routing_outflow(r, self.x3) - wanted  # noqa: E731
        upper = self.x3
        while outflow(upper) < 0:
            upper *= 2
        state.routing[:] = brentq(outflow, 0.0, upper)
        self._state = state
