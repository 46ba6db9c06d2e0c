"""Real observations that ship inside PyPI packages, read offline (SCIENCE.md, "Data that ships
offline"); each returns a table in the schema of its catalog entry (``catalogs.entries``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = [
    "fulda_daily",
    "FULDA_AREA_KM2",
    "FULDA_LATITUDE",
    "site24_daily",
    "SITE24_LATITUDE",
    "nile_annual",
]

FULDA_AREA_KM2 = 2976.41
FULDA_LATITUDE = 50.6
SITE24_LATITUDE = 50.5  # Schwingbach and Vollnkirchener Bach catchments near Gießen, Hesse


def _spotpy_file(*parts: str) -> Path:
    import spotpy

    path = Path(spotpy.__file__).parent.joinpath("examples", *parts)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall spotpy==1.6.7 (`make install`).")
    return path


def fulda_daily() -> pd.DataFrame:
    """Fulda (Germany) daily 1979–1988: precipitation mm/d, temperature °C, discharge m³/s.

    Source: spotpy 1.6.7, ``examples/cmf_data/fulda_climate.csv`` (catchment 2976.41 km²).
    """
    raw = pd.read_csv(_spotpy_file("cmf_data", "fulda_climate.csv"), skiprows=[1])
    raw.index = pd.to_datetime(raw.pop("date"), dayfirst=True)
    raw.index.name = "time"
    return pd.DataFrame(
        {
            "precipitation": raw["Prec"].astype(float),
            "temperature": raw["tmean"].astype(float),
            "t_min": raw["tmin"].astype(float),
            "t_max": raw["tmax"].astype(float),
            "discharge": raw["Q"].astype(float),
        }
    )


def _site24_hourly_index(written: pd.Series) -> pd.DatetimeIndex:
    """The true hours of the site-24 driver file.

    Its rows are hourly and in order from 2014-01-01 00:00, but on days 1–12 of each month the
    written date has day and month swapped (2014-02-01 is 2 January). Each row is checked to be
    its hour as written or as swapped, so any other damage is refused.
    """
    hours = pd.date_range("2014-01-01", periods=len(written), freq="h")
    as_written = pd.to_datetime(written, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    swapped = pd.to_datetime(written, format="%Y-%d-%m %H:%M:%S", errors="coerce")
    matches = (as_written.to_numpy() == hours.to_numpy()) | (swapped.to_numpy() == hours.to_numpy())
    if not matches.all():
        row = int((~matches).argmax())
        raise ValueError(
            f"site-24 driver row {row} is dated {written.iloc[row]!r}, not {hours[row]}"
        )
    return hours


def site24_daily() -> pd.DataFrame:
    """Site 24 (Hesse, Germany), daily 2014–2016: weather and 0–40 cm soil moisture.

    Source: spotpy 1.6.7, ``examples/cmf_data/driver_data_site24.csv`` (hourly weather at the
    Schwingbach near Rechtenbach) and ``soilmoisture_site24.csv`` (hourly soil moisture at 10, 25
    and 40 cm at the Vollnkirchener Bach), courtesy of the Chair of Landscape, Water and
    Biogeochemical Cycles, Justus-Liebig-University Gießen.

    Columns: ``precipitation`` mm/d (the file's rain is a rate in mm/d, so the daily total is the
    mean of the hourly rates, i.e. their sum/24); ``temperature``, ``t_min``, ``t_max`` °C (mean,
    minimum and maximum of the hours); ``solar_radiation`` MJ m⁻² d⁻¹ (mean W m⁻² × 0.0864);
    ``pressure`` kPa; ``relative_humidity`` %; ``wind_speed`` m/s; ``soil_moisture_10cm``,
    ``…_25cm``, ``…_40cm`` and ``soil_moisture`` (their mean, standing for 0–40 cm) in m³/m³.
    The driver file's dates are repaired (see ``_site24_hourly_index``).
    """
    driver = pd.read_csv(_spotpy_file("cmf_data", "driver_data_site24.csv"), comment="#")
    driver.index = _site24_hourly_index(driver.pop("time"))
    soil = pd.read_csv(
        _spotpy_file("cmf_data", "soilmoisture_site24.csv"),
        comment="#",  # the header line itself starts with '#'
        header=None,
        names=["time", "soil_moisture_10cm", "soil_moisture_25cm", "soil_moisture_40cm"],
    )
    soil.index = pd.DatetimeIndex(pd.to_datetime(soil.pop("time")))
    if not soil.index.equals(driver.index):
        raise ValueError("site-24 soil moisture and weather files cover different hours")
    daily = driver.resample("D")
    weather = pd.DataFrame(
        {
            "precipitation": daily["rain_mmday"].mean(),
            "temperature": daily["airtemp_degC"].mean(),
            "t_min": daily["airtemp_degC"].min(),
            "t_max": daily["airtemp_degC"].max(),
            "solar_radiation": daily["solarrad_Wm2"].mean() * 0.0864,
            "pressure": daily["airpressure_hPa"].mean() / 10,
            "relative_humidity": daily["relhum_perc"].mean(),
            "wind_speed": daily["windspeed_ms"].mean(),
        }
    )
    moisture = soil.resample("D").mean()
    moisture["soil_moisture"] = moisture.mean(axis=1)
    result = weather.join(moisture)
    result.index.name = "time"
    return result.astype(float)


def nile_annual() -> pd.DataFrame:
    """Annual flow of the Nile at Aswan, 1871–1970, in 10⁸ m³ (statsmodels 0.15.0)."""
    import statsmodels.api as sm

    raw = sm.datasets.nile.load_pandas().data
    time = pd.to_datetime(raw["year"].astype(int).astype(str), format="%Y")
    return pd.DataFrame(
        {"volume": raw["volume"].to_numpy(float)}, index=pd.Index(time, name="time")
    )
