"""CatalogBrowser: search and filter, metadata, previews read in the background, use, register."""

from __future__ import annotations

import tempfile
import threading

import pandas as pd
import pytest

import dte_widgets.catalog_browser as catalog_browser
from catalogs import open_catalog, read_entry
from dte_widgets.catalog_browser import CatalogBrowser

PLATFORM = [
    "fulda_forcing",
    "site24_daily",
    "nile_flow",
    "floodplain_terrain",
    "gauge_network",
    "soil_properties",
    "detector_channels",
    "calorimeter_showers",
    "live_river_gauge",
    "live_detector",
]


class GatedCatalog:
    """The platform's catalog, with reads held until the test opens the gate."""

    def __init__(self):
        self.catalog = open_catalog()
        self.entries = self.catalog.entries
        self.gate = threading.Event()
        self.reads: list[str] = []

    def __getitem__(self, name):
        reader = self.catalog[name]
        outer = self

        class Gated:
            def read(self):
                outer.reads.append(name)
                assert outer.gate.wait(10), "the test never opened the gate"
                return reader.read()

        return Gated()


def upload(browser, name: str, content: bytes) -> None:
    """What the front end sends when a file is chosen."""
    browser.upload.set_state(
        {
            "value": [
                {
                    "name": name,
                    "type": "text/csv",
                    "size": len(content),
                    "content": memoryview(content),
                    "last_modified": 0,
                }
            ]
        }
    )


def forcing_csv(rows: int = 30) -> pd.DataFrame:
    return read_entry("fulda_forcing").head(rows).reset_index()


@pytest.fixture
def browser():
    return CatalogBrowser(threaded=False)


def test_lists_every_entry_and_labels_its_controls(browser):
    assert "dte-catalog-browser" in browser._dom_classes
    assert browser.matching() == PLATFORM
    assert "10 of 10 entries match." in browser.count.value
    assert browser.search.description == "Search" and browser.search.continuous_update
    assert browser.entries.description == "Entries"
    assert list(browser.kind.options) == ["all", "tables", "grids", "live feeds", "mine"]
    for button in (browser.preview_button, browser.use_button, browser.register_button):
        assert button.tooltip
    assert browser.preview_button.disabled and browser.use_button.disabled  # nothing selected


def test_search_words_and_kind_narrow_the_list(browser):
    browser.search.value = "soil"  # name of one, description of the other
    assert browser.matching() == ["site24_daily", "soil_properties"]
    browser.search.value = "Aswan nile"  # every word, in any case and order
    assert browser.matching() == ["nile_flow"]
    browser.search.value = "m³/s"  # units in the metadata
    assert browser.matching() == ["fulda_forcing", "gauge_network", "live_river_gauge"]
    browser.search.value = "no such thing"
    assert browser.matching() == [] and "No entry matches" in browser.count.value
    browser.search.value = ""
    browser.kind.value = "grids"
    assert browser.matching() == [
        "floodplain_terrain",
        "soil_properties",
        "detector_channels",
        "calorimeter_showers",
    ]
    browser.kind.value = "live feeds"
    assert browser.matching() == ["live_river_gauge", "live_detector"]
    browser.kind.value = "tables"
    assert browser.matching() == ["fulda_forcing", "site24_daily", "nile_flow", "gauge_network"]
    browser.kind.value = "mine"
    assert browser.matching() == []


def test_selecting_an_entry_shows_its_metadata_as_an_escaped_table(browser):
    browser.select("nile_flow")
    table = browser.metadata.value
    assert table.startswith('<table class="dte-metadata"><caption>Entry nile_flow</caption>')
    assert '<th scope="row">license</th>' in table and "BSD-3-Clause" in table
    assert "Durbin &amp; Koopman" in table  # escaped
    assert '<th scope="row">columns</th>' in table and "1e8 m³/yr" in table
    assert not browser.preview_button.disabled
    browser.search.value = "nile"  # narrowing the list keeps the selection
    assert browser.entries.value == "nile_flow" and browser.metadata.value == table
    browser.search.value = "soil"  # filtered out: nothing selected, nothing shown
    assert browser.entries.value is None and browser.metadata.value == ""


def test_preview_reads_in_the_background_then_shows_the_first_rows():
    catalog = GatedCatalog()
    browser = CatalogBrowser(catalog)
    browser.select("nile_flow")
    browser.preview_button.click()  # returns while the read is held
    assert "Reading nile_flow … (first use builds the entry)" in browser.status.value
    assert browser.preview_table.value == ""
    catalog.gate.set()
    browser.wait()
    table = browser.preview_table.value
    assert "<caption>First 10 of 100 rows of nile_flow</caption>" in table
    assert '<th scope="col">volume</th>' in table
    assert '<th scope="row">1871-01-01</th><td>1120</td>' in table
    assert table.count("<tr>") == 11  # header and ten rows
    assert "100 rows × 1 column." in browser.status.value


def test_a_preview_of_an_entry_no_longer_selected_is_dropped():
    catalog = GatedCatalog()
    browser = CatalogBrowser(catalog)
    browser.select("nile_flow")
    browser.preview()
    browser.select("fulda_forcing")
    catalog.gate.set()
    browser.wait()
    assert browser.preview_table.value == "" and browser.status.value == ""
    assert "Entry fulda_forcing" in browser.metadata.value


def test_preview_of_a_grid_draws_a_map_of_its_first_variable(browser):
    browser.select("soil_properties")
    browser.preview()
    assert browser.plot.png.startswith(b"\x89PNG")
    # the first variable the entry declares, not the first in alphabetical order
    assert browser.plot.description == "Map of sand in entry soil_properties (64 y × 64 x)"
    assert '<th scope="row">capacity</th><td>y, x</td><td>64 × 64</td><td>mm</td>' in (
        browser.preview_table.value
    )


def test_live_feed_preview_without_the_live_service_says_why(browser, monkeypatch):
    monkeypatch.delenv("DTE_LIVE_URL", raising=False)
    browser.select("live_river_gauge")
    browser.preview()
    assert 'role="alert"' in browser.status.value
    assert "Could not read live_river_gauge: no address for the live service" in (
        browser.status.value
    )
    assert "Traceback" not in browser.status.value


def test_use_hands_the_data_to_callbacks_and_observers():
    used, observed = [], []
    browser = CatalogBrowser(on_use=lambda name, data: used.append((name, data)))
    browser.observe(lambda change: observed.append((change.new, browser.data)), "value")
    browser.select("nile_flow")
    browser.use_button.click()
    browser.wait()
    assert browser.selected == "nile_flow" and browser.value == "nile_flow"
    assert isinstance(browser.data, pd.DataFrame) and len(browser.data) == 100
    assert used == [("nile_flow", browser.data)]
    assert observed == [("nile_flow", browser.data)]  # data is set before value changes
    assert "nile_flow is ready in browser.data" in browser.status.value


def test_register_an_uploaded_csv_as_my_own_entry(browser, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    modes = []

    def register_recording(name, path, **kwargs):
        modes.append(path.stat().st_mode & 0o777)
        return register(name, path, **kwargs)

    register = catalog_browser.register_dataset
    monkeypatch.setattr(catalog_browser, "register_dataset", register_recording)
    table = forcing_csv()
    upload(browser, "gauge.csv", table.to_csv(index=False).encode())
    browser.entry_name.value = "my_river"
    browser.like.value = "fulda_forcing"
    browser.register_button.click()

    assert "Registered my_river (like fulda_forcing)" in browser.register_status.value
    assert modes == [0o600]  # a private file of the user's own
    assert list((tmp_path / "tmp").iterdir()) == []  # and gone afterwards
    assert browser.kind.value == "mine" and browser.matching() == ["my_river"]
    assert browser.entries.value == "my_river" and "gauge.csv" in browser.metadata.value
    assert browser.upload.value == ()
    assert "my_river" not in browser.like.options  # register like platform entries only
    browser.use()
    assert len(browser.data) == 30 and list(browser.data.columns) == list(table.columns[1:])
    assert "my_river" in open_catalog().entries


def test_a_malformed_csv_is_refused_naming_row_and_column(browser):
    table = forcing_csv()
    table.loc[4, "precipitation"] = -3.0
    upload(browser, "bad.csv", table.to_csv(index=False).encode())
    browser.entry_name.value = "my_river"
    browser.like.value = "fulda_forcing"
    browser.register()
    message = browser.register_status.value
    assert 'role="alert"' in message and "bad.csv was not registered" in message
    assert (
        "&#x27;precipitation&#x27; at row 5" in message and "outside the allowed range" in message
    )
    browser.kind.value = "mine"
    assert browser.matching() == []


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "Give the entry a name"),
        ("My River", "is not allowed: use 1–63 lowercase letters"),
        ("1st_gauge", "is not allowed"),
        ("gauge-2", "is not allowed"),
        ("nile_flow", "is an entry of the platform"),
    ],
)
def test_bad_names_are_refused_before_anything_is_read(browser, name, problem):
    upload(browser, "gauge.csv", b"time,precipitation\n")
    browser.entry_name.value = name
    browser.like.value = "fulda_forcing"
    browser.register()
    assert problem in browser.register_status.value
    assert 'role="alert"' in browser.register_status.value


def test_uploads_are_checked_for_type_size_and_a_like_entry(browser, monkeypatch):
    browser.entry_name.value = "my_river"
    browser.register()
    assert "Choose a file to register first" in browser.register_status.value
    upload(browser, "gauge.xlsx", b"x")
    browser.register()
    assert "use a .csv, .parquet or .nc file; .xlsx is not" in browser.register_status.value
    upload(browser, "gauge.csv", b"time,precipitation\n")
    browser.register()
    assert "Choose the entry your data is like" in browser.register_status.value
    monkeypatch.setattr(catalog_browser, "MAX_UPLOAD_BYTES", 10)
    browser.like.value = "fulda_forcing"
    browser.register()
    assert "gauge.csv is 19 bytes, more than the 10 bytes an upload may have: register" in (
        browser.register_status.value
    )
    assert "catalogs.register_dataset(name, path, like=...)" in browser.register_status.value


def test_refresh_lists_entries_registered_outside_the_browser(browser):
    from catalogs import CatalogError, register_dataset

    register_dataset("my_nile", read_entry("nile_flow").head(20), like="nile_flow")
    browser.kind.value = "mine"
    assert browser.matching() == []
    browser.refresh()
    assert browser.matching() == ["my_nile"]
    browser.select("fulda_forcing")  # hidden by the filter: the filters are cleared
    assert browser.kind.value == "all" and browser.entries.value == "fulda_forcing"
    with pytest.raises(CatalogError, match="no entry 'nile'"):
        browser.select("nile")
