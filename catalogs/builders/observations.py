"""Real observations that ship inside PyPI packages, read offline (SCIENCE.md, "Data that ships
offline"); each function returns a table in its catalog entry's schema.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["nile_annual"]


def nile_annual() -> pd.DataFrame:
    """Annual flow of the Nile at Aswan, 1871–1970, in 10⁸ m³ (statsmodels 0.15.0)."""
    import statsmodels.api as sm

    raw = sm.datasets.nile.load_pandas().data
    time = pd.to_datetime(raw["year"].astype(int).astype(str), format="%Y")
    return pd.DataFrame(
        {"volume": raw["volume"].to_numpy(float)}, index=pd.Index(time, name="time")
    )
