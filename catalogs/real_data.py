"""Real observations that ship inside PyPI packages, read offline (SCIENCE.md, "Data that ships
offline"). The Intake catalog (issue 4) will list these; until then twins and tests call them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["fulda_daily", "FULDA_AREA_KM2", "FULDA_LATITUDE"]

FULDA_AREA_KM2 = 2976.41
FULDA_LATITUDE = 50.6


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
