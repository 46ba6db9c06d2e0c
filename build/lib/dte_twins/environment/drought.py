"""Drought early warning twin: weather → soil-moisture bucket → drought indices → alerts, with a
fast surrogate forecast and its conformal band, an ensemble forecast over the coming weather,
calibration against a soil-moisture sensor and assimilation of its readings.

Science (equations in ``bucket``, ``evapotranspiration``, ``drought_indices``, ``surrogate``;
the forcing's format in ``drought_forcing``, forecasts in ``drought_forecast``, alerts in
``drought_alerts``):

1. Potential evapotranspiration from the forcing's ``pet`` column or from the weather:
   Priestley–Taylor (1972) with Rn ≈ 0.77·Rs − 2 MJ m⁻² d⁻¹, Hargreaves (FAO-56 eq. 52),
   Thornthwaite (1948) or Oudin (2005).
2. Soil moisture from Manabe's (1969) bucket, dS/dt = P − β·PET − Q, β = min(1, S/(p·Smax)),
   Q = max(0, S − Smax) + S/τ, integrated exactly within each day. The site is split into
   ``cells`` cells whose capacities are the quantiles of a lognormal of median Smax and log-sd
   ``capacity_spread`` (sub-grid heterogeneity in the spirit of Moore's 1985 probability-
   distributed model); outputs are means over the cells. The stores start where a spin-up over
   the first year of forcing ends.
3. Drought indices: the storage's percentile among the record's storages (the same time of year
   ± ``percentile_window`` days; 183 uses the whole record) with the US Drought Monitor classes
   D0–D4 (≤ 30, 20, 10, 5, 2), and the SPI (McKee 1993) of ``spi_months``-month precipitation.
4. Forecast of the next ``forecast_days`` days, two ways:
   - a ridge-regression surrogate of the bucket from the last ``surrogate_lags`` days of P and
     PET (and today's storage, unless ``surrogate_uses_storage`` is off) with a split-conformal
     band of coverage 1 − ``alpha`` (Lei et al. 2018);
   - the bucket itself, run from today's state with the weather that followed the same calendar
     day in past years of the record (ensemble streamflow prediction, Day 1985): a single run
     uses every such analog and reports the share that falls into D1 or worse (percentile ≤ 20)
     within the forecast; an ensemble member draws one analog and scales its rain by a lognormal
     factor exp(σz − σ²/2) (σ = ``rainfall_spread``), so P(D1 within the forecast) is the share
     of members that do.
5. Alerts: drought episodes at or above D-class ``alert_class`` (D0 info, D1 watch, D2 warning,
   D3–D4 danger), months with SPI ≤ ``spi_alert`` (moderate watch, severe warning, extreme danger),
   a forecast probability of D1 at or above ``forecast_alert_probability``, and lead days whose
   whole conformal band lies below D1.
6. Calibration: differential evolution (SciPy) of Smax, p and 1/τ maximising the correlation of
   storage with observed soil moisture (all candidates of a generation in one vectorised run);
   then storage maps to volumetric moisture θ = θr + S/depth by matching the observed mean and
   variance (linear rescaling as used for soil-moisture assimilation, Draper et al. 2009).
7. Assimilation: observed soil moisture (m³/m³, converted to storage by the same mapping) or
   storage (mm) nudges the bucket on each observed day, S ← S + g·(S_obs − S) with
   g = ``assimilation_gain`` (1: direct insertion); later runs follow the site and forecast from
   the assimilated state.

Validation (tests): SCIENCE.md B's checked values, water-balance closure, and on the real site-24
record (Hesse, 2014–16) a calibrated bucket with Priestley–Taylor PET correlates with 0–40 cm soil
moisture at r ≥ 0.7 and the twin flags the drought of August 2015.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import param
import xarray as xr
from scipy import stats

from dte_twins.base import Alert, Twin
from dte_twins.calibration import fit_parameters
from dte_twins.environment import bucket
from dte_twins.environment import drought_indices as indices
from dte_twins.environment.drought_alerts import drought_alerts
from dte_twins.environment.drought_forcing import (
    PET_METHODS,
    check_forcing,
    check_soil_moisture,
    check_storage,
    missing_columns,
    potential_evapotranspiration,
)
from dte_twins.environment.drought_forecast import (
    CALIBRATION_SHARE,
    PastRun,
    analog_outlook,
    surrogate_outlook,
)
from dte_twins.environment.surrogate import calibration_size
from dte_twins.errors import InputError, ParameterError
from dte_twins.parameters import Quantity

__all__ = ["DroughtTwin", "cell_capacities", "drainage_time"]

SPIN_UP_DAYS = 365
MIN_SPI_TOTALS = 12  # k-month totals needed for a gamma fit worth the name
MIN_YEARS_PER_CALENDAR_MONTH = 10  # below this SPI pools the calendar months in one fit
_CLASS_ATTRS = {
    "units": "1",
    "flag_values": [-1, 0, 1, 2, 3, 4],
    "flag_meanings": "none D0 D1 D2 D3 D4",
    "long_name": "US Drought Monitor class of the soil-moisture percentile",
}


def cell_capacities(capacity: float, spread: float, cells: int) -> np.ndarray:
    """Quantiles (i + ½)/n of a lognormal of median ``capacity`` and log-sd ``spread``."""
    z = stats.norm.ppf((np.arange(cells) + 0.5) / cells)
    return capacity * np.exp(spread * z)


def drainage_time(rate) -> np.ndarray:
    """τ = 1/rate in days, infinite for rate 0."""
    rate = np.asarray(rate, float)
    with np.errstate(over="ignore"):  # a subnormal rate is no drainage: τ = ∞
        return np.divide(1.0, rate, out=np.full(rate.shape, np.inf), where=rate > 0)


def _spun_up(precipitation, pet, capacity, fraction, tau) -> np.ndarray:
    """Storage after the first year of forcing from p·Smax: where the record starts from."""
    _, end = bucket.simulate(
        precipitation[:SPIN_UP_DAYS], pet[:SPIN_UP_DAYS], capacity, fraction, tau
    )
    return end


class DroughtTwin(Twin):
    """Drought early warning for one site: soil moisture, drought classes, SPI and forecasts."""

    twin_version = "0.1.0"
    inputs = {"forcing": "site24_daily"}
    headline_variables = ("soil_moisture", "percentile")

    capacity = Quantity(
        150.0, bounds=(50, 300), unit="mm", doc="Bucket capacity Smax (Manabe 1969: 150 mm)."
    )
    stress_fraction = Quantity(
        0.75,
        bounds=(0.05, 1),
        unit="1",
        doc="Share p of Smax above which ET runs at the potential rate (Manabe: 0.75).",
    )
    drainage_rate = Quantity(
        0.02, bounds=(0, 0.1), unit="1/d", doc="Drainage 1/τ of Q = S/τ; 0 means no drainage."
    )
    pet_method = param.Selector(
        default="auto",
        objects=["auto", *PET_METHODS],
        doc="Potential evapotranspiration: the forcing's 'pet' column, Priestley–Taylor, "
        "Hargreaves, Thornthwaite or Oudin; 'auto' takes the first the forcing allows in that "
        "order (Thornthwaite only when chosen).",
    )
    latitude = Quantity(
        50.5,
        bounds=(-66, 66),
        unit="°",
        doc="Site latitude (sun for Hargreaves, Oudin, Thornthwaite).",
    )
    cells = param.Integer(
        1,
        bounds=(1, 1000),
        doc="Cells the site is split into, each with its own capacity (the size knob).",
    )
    capacity_spread = Quantity(
        0.3, bounds=(0, 1.5), unit="1", doc="Log-sd of the cells' capacities around Smax."
    )
    soil_depth = Quantity(
        400.0,
        bounds=(10, 10000),
        unit="mm",
        doc="Depth of soil the storage stands for: θ = θr + S/depth.",
    )
    residual_moisture = Quantity(
        0.1,
        bounds=(-1, 1),
        unit="m³/m³",
        doc="Volumetric moisture θr of an empty bucket (set by calibration; may be < 0 then).",
    )
    assimilation_gain = Quantity(
        1.0, bounds=(0, 1), unit="1", doc="Nudging gain toward observed storage (1: insertion)."
    )
    percentile_window = param.Integer(
        183,
        bounds=(0, 183),
        doc="Days either side of the calendar day whose storages are a day's climatology; "
        "183 takes the whole record (steadier for records of a few years), USDM uses the "
        "same season of decades.",
    )
    spi_months = param.Integer(3, bounds=(1, 12), doc="SPI time scale k in months.")
    surrogate_lags = param.Integer(
        60, bounds=(30, 90), doc="Days of past precipitation and PET the surrogate reads."
    )
    surrogate_uses_storage = param.Boolean(
        True,
        doc="Give the surrogate the storage on the issue day too (False: lagged forcing only); "
        "the bucket remembers longer than the lags when it drains slowly.",
    )
    ridge_penalty = Quantity(
        0.01, bounds=(1e-6, 100), unit="1", doc="Ridge penalty λ on standardised lagged forcing."
    )
    alpha = Quantity(
        0.1, bounds=(0.01, 0.5), unit="1", doc="Miscoverage of the conformal band (1 − α cover)."
    )
    forecast_days = param.Integer(30, bounds=(1, 90), doc="Days ahead the twin forecasts.")
    analog_window = param.Integer(
        15,
        bounds=(0, 183),
        doc="Days either side of today's calendar day where past years' weather may start.",
    )
    rainfall_spread = Quantity(
        0.2, bounds=(0, 1.5), unit="1", doc="σ of the lognormal rain factor of ensemble members."
    )
    alert_class = param.Integer(
        1, bounds=(0, 4), doc="Lowest drought class that raises an alert (0 = D0 … 4 = D4)."
    )
    spi_alert = Quantity(-1.0, bounds=(-3, 0), unit="1", doc="SPI at or below which to alert.")
    forecast_alert_probability = Quantity(
        0.5,
        bounds=(0.01, 1),
        unit="1",
        doc="Probability of D1 within the forecast at or above which to warn.",
    )
    site_name = param.String("site", doc="Name of the site in alerts.")

    # --- checks --------------------------------------------------------------------------------
    def check_consistency(self, settings: dict) -> None:
        forcing = self._input_values.get("forcing")
        if forcing is None:
            return
        method = settings["pet_method"]
        if method != "auto" and (missing := missing_columns(forcing, method)):
            raise ParameterError(
                f"DroughtTwin pet_method = {method!r} needs forcing column(s) "
                f"{', '.join(missing)}; this forcing has {', '.join(map(str, forcing.columns))}: "
                "choose another pet_method or 'auto'."
            )
        days, lags, horizon, alpha = (
            len(forcing),
            settings["surrogate_lags"],
            settings["forecast_days"],
            settings["alpha"],
        )
        _, calibration = calibration_size(days, lags, horizon, CALIBRATION_SHARE)
        needed = math.ceil((1 - alpha) / alpha - 1e-9)  # so that ⌈(n+1)(1−α)⌉ ≤ n
        if calibration < max(needed, 1):
            raise ParameterError(
                f"DroughtTwin surrogate_lags = {lags}, forecast_days = {horizon} and alpha = "
                f"{alpha} need a longer forcing than {days} days: its latest issue days leave "
                f"{calibration} for the conformal band, which needs at least {needed}; shorten "
                "the lags or the forecast, or raise alpha."
            )
        totals = indices.rolling_totals(
            indices.monthly_totals(forcing["precipitation"]), settings["spi_months"]
        )
        if totals.size < MIN_SPI_TOTALS:
            raise ParameterError(
                f"DroughtTwin spi_months = {settings['spi_months']} leaves {totals.size} totals "
                f"in this {days}-day forcing; the SPI fit needs {MIN_SPI_TOTALS}: choose fewer "
                "months or a longer forcing."
            )

    def check_input(self, name: str, value):
        return check_forcing(value)

    # --- science ---------------------------------------------------------------------------------
    def prepare(self, settings):
        """The record up to today (bucket, indices, SPI) and the state forecasts start from:
        the same for every member, so computed once."""
        forcing = self.input_value("forcing")
        dates = forcing.index
        precipitation = forcing["precipitation"].to_numpy(float)
        pet, method = potential_evapotranspiration(
            forcing, settings["pet_method"], settings["latitude"]
        )
        capacities = cell_capacities(
            settings["capacity"], settings["capacity_spread"], settings["cells"]
        )
        soil = (capacities, settings["stress_fraction"], drainage_time(settings["drainage_rate"]))
        fluxes, final = bucket.simulate(
            precipitation,
            pet,
            *soil,
            initial_storage=_spun_up(precipitation, pet, *soil),
            observed_storage=self._observed_storage(dates, settings, capacities),
            gain=settings["assimilation_gain"],
        )
        area = {name: values.mean(0) for name, values in fluxes.items()}
        storage = area["storage"]
        percentile = indices.seasonal_percentile(
            storage, dates, storage, dates, settings["percentile_window"]
        )
        past = {
            "precipitation": (precipitation, "mm/d"),
            "pet": (pet, "mm/d"),
            "storage": (storage, "mm"),
            "soil_moisture": (self._moisture(storage, settings), "m³/m³"),
            "actual_et": (area["actual_et"], "mm/d"),
            "drainage": (area["drainage"], "mm/d"),
            "runoff": (area["runoff"], "mm/d"),
            "assimilation_increment": (area["increment"], "mm/d"),
            "percentile": (percentile, "%"),
        }
        result = xr.Dataset(
            {name: ("time", values, {"units": unit}) for name, (values, unit) in past.items()},
            coords={"time": dates.to_numpy()},
        )
        result["pet"].attrs["method"] = method
        result["drought_class"] = ("time", indices.usdm_class(percentile), _CLASS_ATTRS)
        if "soil_moisture" in forcing:
            observed = forcing["soil_moisture"].to_numpy(float)
            result["observed_soil_moisture"] = ("time", observed, {"units": "m³/m³"})
        run = PastRun(dates, precipitation, pet, storage, capacities, final, float(soil[2]))
        spi = self._spi(forcing["precipitation"], settings["spi_months"])
        return xr.merge([result, spi, surrogate_outlook(run, settings)]), run

    def simulate(self, settings, rng, member=False):
        shared, run = self.prepared
        # both carry the same lead coordinates
        outlook = analog_outlook(run, settings, rng, member)
        return xr.merge([shared, outlook], compat="equals", join="exact")

    @staticmethod
    def _moisture(storage, settings):
        return settings["residual_moisture"] + np.asarray(storage) / settings["soil_depth"]

    def _observed_storage(self, dates, settings, capacities):
        """Per cell and day, the storage observations ask for (NaN where none); None if none."""
        if not self._state:
            return None
        observed = self._state["observed"].reindex(dates)
        if observed.isna().all():
            return None
        if self._state["kind"] == "soil_moisture":
            observed = (observed - settings["residual_moisture"]) * settings["soil_depth"]
        # The area's relative wetness, shared by every cell so that the cells' mean matches.
        wetness = np.clip(observed.to_numpy(float) / capacities.mean(), 0.0, 1.0)
        return capacities[:, None] * wetness[None, :]

    @staticmethod
    def _spi(precipitation: pd.Series, scale: int) -> xr.Dataset:
        totals = indices.rolling_totals(indices.monthly_totals(precipitation), scale)
        months = totals.index.month.to_numpy()
        years_per_month = np.bincount(months, minlength=13)[1:]
        per_month = years_per_month.min() >= MIN_YEARS_PER_CALENDAR_MONTH
        values = indices.spi(totals.to_numpy(), months if per_month else None)
        fit = "per calendar month" if per_month else "pooled over calendar months (short record)"
        classes = {
            "units": "1",
            "flag_values": [0, 1, 2, 3],
            "flag_meanings": "none moderate severe extreme",
        }
        return xr.Dataset(
            {
                "spi": ("month", values, {"units": "1", "scale_months": scale, "fit": fit}),
                "spi_class": ("month", indices.spi_class(values), classes),
            },
            coords={"month": totals.index.to_numpy()},
        )

    # --- alerts -----------------------------------------------------------------------------------
    def alerts(self, result: xr.Dataset) -> list[Alert]:
        settings = self.result_settings(result)
        return drought_alerts(result, settings)

    # --- calibration and assimilation -----------------------------------------------------------
    def calibrate(self, generations: int = 15, population: int = 6) -> dict:
        """Fit Smax, p and 1/τ to the forcing's ``soil_moisture`` (correlation of daily storage
        with it), then θr and the depth by matching its mean and variance; set them on the twin
        and return them with the skill (r, RMSE of θ in m³/m³)."""
        forcing = self.input_value("forcing")
        observed = forcing.get("soil_moisture", pd.Series(dtype=float))
        seen = observed.notna().to_numpy()
        if seen.sum() < 10 or observed[seen].std() == 0:
            raise InputError(
                "calibration needs a 'soil_moisture' column (m³/m³) with at least 10 varying days."
            )
        target = observed.to_numpy(float)[seen]
        precipitation = forcing["precipitation"].to_numpy(float)
        pet, _ = potential_evapotranspiration(forcing, self.pet_method, self.latitude)
        names = ("capacity", "stress_fraction", "drainage_rate")
        unit_capacities = cell_capacities(1.0, self.capacity_spread, self.cells)

        def storages(candidates):  # candidates: (3, C) -> area storage (C, days)
            capacity, fraction, rate = (np.asarray(c, float).reshape(-1) for c in candidates)
            cells = unit_capacities.size
            arguments = (
                np.outer(capacity, unit_capacities).reshape(-1),
                np.repeat(fraction, cells),
                drainage_time(np.repeat(rate, cells)),
            )
            start = _spun_up(precipitation, pet, *arguments)
            fluxes, _ = bucket.simulate(precipitation, pet, *arguments, initial_storage=start)
            return fluxes["storage"].reshape(capacity.size, cells, -1).mean(1)[:, seen]

        def loss(candidates):
            return np.array([-_correlation(s, target) for s in storages(candidates)])

        fitted = fit_parameters(self, names, loss, generations, population)
        simulated = storages(np.array([[fitted[name]] for name in names]))[0]
        depth = float(np.clip(simulated.std() / target.std(), *self.param.soil_depth.bounds))
        residual = float(
            np.clip(target.mean() - simulated.mean() / depth, *self.param.residual_moisture.bounds)
        )
        fitted.update(soil_depth=depth, residual_moisture=residual)
        self.param.update(fitted)
        moisture = residual + simulated / depth
        return {
            **fitted,
            "r": _correlation(simulated, target),
            "rmse": float(np.sqrt(np.mean((moisture - target) ** 2))),
        }

    def assimilate(self, observations: pd.DataFrame) -> None:
        """Follow the site: nudge the bucket to observed soil moisture on every observed day.

        ``observations`` is indexed by date with ``soil_moisture`` (m³/m³, mapped to storage by
        ``residual_moisture`` and ``soil_depth``) or ``storage`` (mm); missing values are
        skipped. Later runs nudge on those days (with ``assimilation_gain``) and forecast from the
        state reached at the end of the forcing. Readings add to earlier ones of the same kind
        (the newer reading wins on a shared day) and replace those of the other kind.
        """
        if not isinstance(observations, pd.DataFrame) or not isinstance(
            observations.index, pd.DatetimeIndex
        ):
            raise InputError("observations must be a DataFrame indexed by date.")
        kind = next((c for c in ("soil_moisture", "storage") if c in observations), None)
        if kind is None:
            raise InputError(
                "observations need a 'soil_moisture' (m³/m³) or 'storage' (mm) column; they have "
                f"{', '.join(map(str, observations.columns))}."
            )
        values = observations[kind]
        if kind == "soil_moisture":
            check_soil_moisture(values, "observations")
        else:
            check_storage(values)
        values = values.dropna()
        if values.empty:
            raise InputError(f"observations column {kind!r} holds no readings.")
        values.index = values.index.normalize()
        values = values.groupby(level=0).mean().astype(float)
        forcing = self.input_value("forcing")
        overlap = values.index.intersection(forcing.index)
        if overlap.empty:
            raise InputError(
                f"observations from {values.index.min().date()} to {values.index.max().date()} "
                f"do not overlap the forcing ({forcing.index[0].date()} to "
                f"{forcing.index[-1].date()}); give the twin the forcing of those days."
            )
        if self._state and self._state["kind"] == kind:
            values = values.combine_first(self._state["observed"])  # newer readings win
        self._state = {"kind": kind, "observed": values.loc[lambda s: s.index.isin(forcing.index)]}


def _correlation(simulated, observed) -> float:
    s, o = np.asarray(simulated, float), np.asarray(observed, float)
    if s.std() == 0 or o.std() == 0:
        return 0.0
    return float(np.corrcoef(s, o)[0, 1])
