"""Twins read every input through the catalog, and say which entry and version they read."""

import json

import pytest

from catalogs import open_catalog
from catalogs.entries import ENTRIES
from dte_twins.environment.drought import DroughtTwin
from dte_twins.environment.flood import FloodTwin
from dte_twins.physics.calorimeter import CalorimeterTwin
from dte_twins.physics.detector_noise import DetectorNoiseTwin

TWINS = [FloodTwin, DroughtTwin, DetectorNoiseTwin, CalorimeterTwin]


@pytest.mark.parametrize("twin_class", TWINS, ids=lambda c: c.__name__)
def test_every_input_of_every_twin_is_a_catalog_entry(twin_class):
    for name, entry in twin_class.inputs.items():
        assert entry in ENTRIES, f"{twin_class.__name__}.{name} reads {entry!r}, not in the catalog"
        assert f"{twin_class.__name__}.{name}" in ENTRIES[entry].used_by


def test_the_flood_twin_runs_on_catalog_data_and_records_the_versions():
    twin = FloodTwin(catalog=open_catalog(size="small"), registry=False)
    result = twin.run()
    versions = json.loads(result.attrs["input_versions"])
    assert versions["forcing"].startswith("fulda_forcing@sha256:")
    assert versions["terrain"].startswith("floodplain_terrain@sha256:")
    assert float(result.peak_damage) >= 0 and result.max_depth.dims == ("y", "x")


def test_the_calorimeter_twin_learns_from_the_test_beam_entry():
    twin = CalorimeterTwin(catalog=open_catalog(size="small"), registry=False, n_events=50)
    twin.assimilate(twin.input_value("showers"))
    assert json.loads(twin.run().attrs["input_versions"])["showers"].startswith(
        "calorimeter_showers@"
    )


def test_the_drought_twin_runs_on_the_site_24_entry():
    result = DroughtTwin(catalog=open_catalog(), registry=False).run()
    assert json.loads(result.attrs["input_versions"])["forcing"].startswith("site24_daily@")
    assert "observed_soil_moisture" in result or "soil_moisture" in result


def test_the_detector_twin_finds_the_glitches_of_the_catalog_channels():
    twin = DetectorNoiseTwin(catalog=open_catalog(size="small"), registry=False, duration=16)
    result = twin.run()
    assert json.loads(result.attrs["input_versions"])["channels"].startswith("detector_channels@")
    assert result.sizes["trigger"] >= 1
