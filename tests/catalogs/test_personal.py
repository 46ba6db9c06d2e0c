"""Connecting one's own physical twin: own files checked against an entry's schema, kept in a
personal catalog, and refused with the row, column or variable at fault."""

import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from catalogs import CatalogError, SchemaError, open_catalog, register_dataset, remove_dataset
from dte_twins.environment.flood import FloodTwin


def gauge_table(days=60):
    time = pd.date_range("2024-03-01", periods=days, freq="D")
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "time": time.strftime("%Y-%m-%d"),
            "precipitation": rng.gamma(0.8, 6, days),
            "temperature": 8 + rng.normal(0, 3, days),
            "t_min": 3.0,
            "t_max": 14.0,
            "discharge": rng.gamma(2, 5, days),
        }
    )


def test_a_csv_of_ones_own_gauge_becomes_a_catalog_entry_a_twin_can_use(tmp_path):
    path = tmp_path / "my_gauge.csv"
    gauge_table().to_csv(path, index=False)
    metadata = register_dataset("my_river", path, like="fulda_forcing", description="our weir")
    assert metadata["units"]["discharge"] == "m³/s" and metadata["personal"]
    catalog = open_catalog()
    assert "my_river" in catalog.entries and "fulda_forcing" in catalog.entries
    data = catalog["my_river"].read()
    assert len(data) == 60 and isinstance(data.index, pd.DatetimeIndex)
    result = FloodTwin(forcing=data, registry=False, area=12.5, warmup_days=0).run()
    assert result.discharge.notnull().all()
    remove_dataset("my_river")
    assert "my_river" not in open_catalog().entries


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda t: t.drop(columns="discharge"), ["column 'discharge'", "missing"]),
        (
            lambda t: t.assign(precipitation=t.precipitation.where(t.index != 7, -4.0)),
            ["'precipitation'", "row 8", "2024-03-08", "from 0 to 1000 mm/d"],
        ),
        (
            lambda t: t.assign(temperature=t.temperature.where(t.index != 3, np.nan)),
            ["'temperature'", "row 4", "missing"],
        ),
        (lambda t: t.assign(time=t.time.where(t.index != 5, "2024-13-45")), ["'time'"]),
        (lambda t: pd.concat([t, t.iloc[[2]]]), ["2024-03-03", "more than once"]),
    ],
)
def test_a_malformed_csv_is_refused_naming_the_fault(tmp_path, damage, words):
    path = tmp_path / "bad.csv"
    damage(gauge_table()).to_csv(path, index=False)
    with pytest.raises(SchemaError) as raised:
        register_dataset("bad_river", path, like="fulda_forcing")
    for word in words:
        assert word in str(raised.value)
    assert "bad_river" not in open_catalog().entries


def test_a_truncated_csv_line_is_named(tmp_path):
    path = tmp_path / "cut.csv"
    text = gauge_table().to_csv(index=False)
    path.write_text(text + "2024-05-01,1.0,2.0,3.0,4.0,5.0,6.0,7.0\n")
    with pytest.raises(SchemaError, match="cut.csv is not a well-formed CSV.*line 62"):
        register_dataset("cut", path, like="fulda_forcing")


def test_netcdf_variables_are_checked(tmp_path):
    terrain = xr.Dataset(
        {"height": (("y", "x"), np.zeros((4, 5)))},
        coords={"x": np.arange(5.0), "y": np.arange(4.0)},
    )
    path = tmp_path / "dem.nc"
    terrain.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(SchemaError, match="variable 'elevation'.*missing.*height"):
        register_dataset("my_dem", path, like="floodplain_terrain")


def test_parquet_that_is_not_parquet_is_refused(tmp_path):
    path = tmp_path / "gauge.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(SchemaError, match="gauge.parquet cannot be read as parquet"):
        register_dataset("broken", path, like="fulda_forcing")


def test_names_and_files_of_others_are_refused(tmp_path):
    with pytest.raises(CatalogError, match="name 'My River!' is not allowed"):
        register_dataset("My River!", gauge_table(), like="fulda_forcing")
    with pytest.raises(CatalogError, match="no entry 'rivers'"):
        register_dataset("mine", gauge_table(), like="rivers")
    foreign = tmp_path / "theirs.csv"
    gauge_table().to_csv(foreign, index=False)
    if os.geteuid() == 0:
        os.chown(foreign, 65534, 65534)  # nobody's file
    else:
        foreign = "/etc/passwd"
    with pytest.raises(CatalogError, match="belongs to another account"):
        register_dataset("theirs", foreign, like="fulda_forcing")
