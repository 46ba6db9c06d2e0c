"""The catalog: every entry reads and follows its schema, builds are deterministic and atomic,
damage to the cache is found and repaired, and the catalog file is plain Intake 2."""

import json
import shutil

import intake
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from catalogs import CatalogError, build_entry, open_catalog, read_entry
from catalogs.cache import MANIFEST, CachedData
from catalogs.catalog_file import CATALOG_FILE, build_catalog
from catalogs.entries import ENTRIES
from catalogs.store import cached
from dte_twins.provenance import content_hash


def size_for(name):
    return "small" if ENTRIES[name].sized else "default"


# Live entries need the running live service: tests/hub/test_live.py reads them through the hub.
@pytest.mark.parametrize("name", sorted(n for n, spec in ENTRIES.items() if not spec.live))
def test_every_entry_reads_and_follows_its_schema(name, shared_cache, monkeypatch):
    monkeypatch.setenv("DTE_CATALOG_CACHE", str(shared_cache))
    spec = ENTRIES[name]
    data = open_catalog(size=size_for(name), personal=False)[name].read()
    if spec.schema.kind == "grid":
        assert isinstance(data, xr.Dataset)
        spec.schema.validate(data.load())
        for variable in spec.schema.fields:
            assert data[variable.name].attrs.get("units", "") == variable.units
    else:
        assert isinstance(data, pd.DataFrame) and len(data) > 0
        spec.schema.validate(data)
    metadata = open_catalog(personal=False).entries[name].metadata
    for key in ("description", "units", "license", "provenance", "spatial_extent", "time_extent"):
        assert metadata[key] != "", key
    assert metadata["synthetic"] == spec.synthetic


def test_the_catalog_file_is_the_declarations():
    # `python -m catalogs write` regenerates it; a stale file fails here.
    fresh = build_catalog()
    on_disk = intake.from_yaml_file(str(CATALOG_FILE))
    assert set(on_disk.entries) == set(fresh.entries) == set(ENTRIES)
    for name in ENTRIES:
        assert on_disk.entries[name].metadata == json.loads(
            json.dumps(fresh.entries[name].metadata)
        ), name


def test_plain_intake_reads_an_entry():
    catalog = intake.from_yaml_file(str(CATALOG_FILE))
    nile = catalog["nile_flow"].read()
    assert len(nile) == 100 and nile.index[0].year == 1871
    assert nile["volume"].min() == 456.0  # 1913, SCIENCE.md


def test_builders_are_deterministic(tmp_path, monkeypatch):
    hashes = []
    for attempt in ("one", "two"):
        monkeypatch.setenv("DTE_CATALOG_CACHE", str(tmp_path / attempt))
        hashes.append(
            [
                content_hash(read_entry(name, "small").compute())
                if ENTRIES[name].schema.kind == "grid"
                else content_hash(read_entry(name, "small"))
                for name in ("floodplain_terrain", "gauge_network")
            ]
        )
    assert hashes[0] == hashes[1]


def test_size_scales_the_synthetic_data():
    small = read_entry("gauge_network", "small")
    default = read_entry("gauge_network", "default")
    assert small.gauge.nunique() < default.gauge.nunique()
    terrain = read_entry("floodplain_terrain", "small")
    assert terrain.sizes["x"] < read_entry("floodplain_terrain").sizes["x"]


def test_unknown_entries_and_sizes_are_named():
    with pytest.raises(CatalogError, match="no entry 'rivers'.*fulda_forcing"):
        read_entry("rivers")
    with pytest.raises(CatalogError, match="size 'giant' is not allowed.*small, default"):
        read_entry("gauge_network", "giant")


def test_the_default_size_comes_from_the_environment(monkeypatch):
    """Binder sets DTE_CATALOG_SIZE=small: a twin opening the catalog with no size gets small."""
    monkeypatch.setenv("DTE_CATALOG_SIZE", "small")
    small = open_catalog(personal=False)["gauge_network"].read()
    assert small.gauge.nunique() == read_entry("gauge_network", "small").gauge.nunique()
    assert small.gauge.nunique() < read_entry("gauge_network", "default").gauge.nunique()
    monkeypatch.setenv("DTE_CATALOG_SIZE", "tiny")
    with pytest.raises(CatalogError, match="DTE_CATALOG_SIZE='tiny' is not a catalog size"):
        open_catalog()


def test_a_truncated_parquet_file_is_found_and_rebuilt():
    build_entry("gauge_network", "small")
    data_file = cached(ENTRIES["gauge_network"], "small").data_path
    data_file.write_bytes(data_file.read_bytes()[:-100])
    with pytest.raises(CatalogError) as raised:
        read_entry("gauge_network", "small")
    message = str(raised.value)
    assert "gauge_network" in message and "corrupt" in message and "rebuild" in message
    build_entry("gauge_network", "small", force=True)
    assert len(read_entry("gauge_network", "small")) > 0


def test_a_zarr_store_missing_a_chunk_is_found():
    build_entry("floodplain_terrain", "small")
    store = cached(ENTRIES["floodplain_terrain"], "small").data_path
    chunk = next(p for p in sorted(store.rglob("*")) if p.is_file() and "elevation" in p.parts)
    chunk.unlink()
    with pytest.raises(CatalogError, match="floodplain_terrain.*missing.*rebuild"):
        read_entry("floodplain_terrain", "small")


def test_an_interrupted_build_leaves_nothing_behind(tmp_path):
    target = CachedData("broken", "default", "parquet", root=tmp_path)

    def rows_then_failure():
        yield pd.DataFrame({"a": [1.0]}, index=pd.DatetimeIndex(["2020-01-01"], name="time"))
        raise KeyboardInterrupt  # the user pressed Ctrl-C half-way

    with pytest.raises(KeyboardInterrupt):
        target.write(rows_then_failure, {})
    assert not target.exists()
    assert list(tmp_path.rglob("*.parquet")) == []
    assert not any(p.name.startswith(".") for p in (tmp_path / "broken").iterdir())


def _one_row(value: float) -> pd.DataFrame:
    return pd.DataFrame({"a": [value]}, index=pd.DatetimeIndex(["2020-01-01"], name="time"))


def test_two_processes_building_at_once_keep_the_copy_that_came_first(tmp_path):
    ours = CachedData("race", "default", "parquet", root=tmp_path)
    theirs = CachedData("race", "default", "parquet", root=tmp_path)

    def produce_while_the_other_finishes():
        theirs.write(lambda: _one_row(2.0), {})  # the other kernel is faster
        reader = theirs.open(lazy=False)  # and starts reading its copy
        assert reader["a"].tolist() == [2.0]
        return _one_row(1.0)

    ours.write(produce_while_the_other_finishes, {})
    assert ours.open(lazy=False)["a"].tolist() == [2.0]
    assert sorted(p.name for p in (tmp_path / "race").iterdir()) == ["default"]


def test_a_damaged_copy_is_replaced_by_a_rebuild(tmp_path):
    target = CachedData("damaged", "default", "parquet", root=tmp_path)
    target.write(lambda: _one_row(1.0), {})
    (target.folder / MANIFEST).write_text("{not json")
    target.write(lambda: _one_row(3.0), {})
    assert target.open(lazy=False)["a"].tolist() == [3.0]
    assert sorted(p.name for p in (tmp_path / "damaged").iterdir()) == ["default"]


def test_a_cache_without_its_manifest_is_incomplete():
    build_entry("nile_flow")
    folder = cached(ENTRIES["nile_flow"]).folder
    (folder / MANIFEST).unlink()
    with pytest.raises(CatalogError, match="incomplete"):
        CachedData("nile_flow", "default", "parquet").open(lazy=False)
    # reading builds it again
    assert len(read_entry("nile_flow")) == 100


def test_large_tables_open_lazily_with_dask():
    table = read_entry("gauge_network", "small", lazy=True)
    import dask.dataframe as dd

    assert isinstance(table, dd.DataFrame)
    eager = read_entry("gauge_network", "small")
    assert np.isclose(table["precipitation"].sum().compute(), eager["precipitation"].sum())


def test_the_platforms_shared_cache_serves_first_and_a_damaged_copy_falls_back(
    shared_cache, tmp_path, monkeypatch
):
    monkeypatch.setenv("DTE_CATALOG_CACHE", str(shared_cache))
    build_entry("nile_flow")
    shared = tmp_path / "shared"
    shutil.copytree(shared_cache / "nile_flow", shared / "nile_flow")
    monkeypatch.setenv("DTE_CATALOG_SHARED", str(shared))
    monkeypatch.setenv("DTE_CATALOG_CACHE", str(tmp_path / "own"))

    assert cached(ENTRIES["nile_flow"]).root == shared
    nile = read_entry("nile_flow")
    assert not (tmp_path / "own").exists()  # nothing built for this user

    data_file = shared / "nile_flow" / "default" / "data.parquet"
    data_file.write_bytes(data_file.read_bytes()[:100])  # someone damaged the shared copy
    with pytest.warns(UserWarning, match="your own cache"):
        again = read_entry("nile_flow")
    pd.testing.assert_frame_equal(again, nile)
    assert (tmp_path / "own" / "nile_flow" / "default" / MANIFEST).exists()
