"""The Jupyter server extension in a real ``jupyter server``: enabled by its config file alone,
the catalog's REST API (list, search, metadata, preview) and publishing, with clear errors."""

from pathlib import Path

import nbformat
import numpy as np
import pytest
import requests

from catalogs import read_entry
from catalogs.entries import ENTRIES
from hub.dashboards.twin_notebooks import TWIN_NOTEBOOKS


def api(server, path, method="GET", **kwargs):
    url, session, _, _ = server
    return session.request(method, f"{url}/dte/api/{path}", timeout=120, **kwargs)


def test_the_catalog_lists_every_entry(server):
    listing = api(server, "catalog").json()
    assert [e["name"] for e in listing["entries"]] == list(ENTRIES)
    assert listing["total"] == len(ENTRIES) and listing["size"] == "default"
    flood = next(e for e in listing["entries"] if e["name"] == "fulda_forcing")
    assert flood["kind"] == "table" and flood["description"]


def test_search_narrows_by_words_and_kind(server):
    grids = api(server, "catalog", params={"kind": "grids"}).json()["entries"]
    assert {e["name"] for e in grids} == {
        n for n, spec in ENTRIES.items() if spec.schema.kind == "grid"
    }
    live = api(server, "catalog", params={"q": "live", "kind": "live feeds"}).json()["entries"]
    assert {e["name"] for e in live} == {n for n, spec in ENTRIES.items() if spec.live}
    nile = api(server, "catalog", params={"q": "NILE flow"}).json()
    assert [e["name"] for e in nile["entries"]] == ["nile_flow"]
    assert api(server, "catalog", params={"q": "no-such-word-anywhere"}).json()["entries"] == []


def test_a_table_preview_is_its_first_rows(server):
    answer = api(server, "catalog/gauge_network/preview", params={"rows": 5, "size": "small"})
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    expected = read_entry("gauge_network", "small")
    assert shown["kind"] == "table" and shown["size"] == "small"
    assert [c["name"] for c in shown["columns"]] == list(expected.columns)
    assert len(shown["rows"]) == 5 and shown["total_rows"] == len(expected)
    numeric = [i for i, c in enumerate(expected.columns) if expected[c].dtype.kind == "f"][0]
    assert np.allclose(
        [row[numeric] for row in shown["rows"]],
        expected.iloc[:5, numeric].to_numpy(),
        equal_nan=True,
    )


def test_a_grid_preview_is_its_shape_and_ranges(server):
    answer = api(server, "catalog/floodplain_terrain/preview", params={"size": "small"})
    assert answer.status_code == 200, answer.text
    shown, expected = answer.json(), read_entry("floodplain_terrain", "small")
    assert shown["kind"] == "grid"
    assert shown["dims"] == {str(d): int(s) for d, s in expected.sizes.items()}
    assert set(shown["variables"]) == set(expected.data_vars)
    numeric = [name for name in expected.data_vars if expected[name].dtype.kind == "f"]
    assert numeric
    for name in numeric:
        low, high = float(expected[name].min()), float(expected[name].max())
        # every cell of a small grid is sampled: the range is the variable's own
        assert shown["variables"][name]["min"] == pytest.approx(low, rel=1e-6)
        assert shown["variables"][name]["max"] == pytest.approx(high, rel=1e-6)


def test_one_entrys_metadata(server):
    entry = api(server, "catalog/nile_flow").json()
    assert entry["name"] == "nile_flow" and entry["kind"] == "table"


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("catalog/rivers", {}, 404, "no entry 'rivers'"),
        ("catalog/rivers/preview", {}, 404, "no entry 'rivers'"),
        ("catalog/nile_flow/preview", {"rows": "all"}, 400, "rows must be a whole number"),
        ("catalog/nile_flow/preview", {"rows": "0"}, 400, "rows must be a whole number"),
        ("catalog", {"size": "giant"}, 400, "size 'giant' is not one of"),
        ("catalog", {"kind": "pictures"}, 400, "kind 'pictures' is not one of"),
        # no live service outside DTE Hub: the reader's own sentence, not a traceback
        ("catalog/live_river_gauge/preview", {}, 500, "no address for the live service"),
    ],
)
def test_bad_requests_say_what_was_wrong(server, path, params, status, says):
    answer = api(server, path, params=params)
    assert answer.status_code == status
    assert says in answer.json()["message"]


def test_nothing_without_the_servers_login(server):
    url, _, _, _ = server
    for path in ("catalog", "catalog/nile_flow/preview", "dashboards"):
        assert requests.get(f"{url}/dte/api/{path}", timeout=10).status_code == 403


def test_publishing_outside_dte_hub_says_it_needs_the_hub(server):
    _, _, home, _ = server
    (home / "twin.ipynb").write_text(Path(__file__).with_name("empty.ipynb").read_text())
    answer = api(server, "dashboards/twin", "PUT", json={"path": "twin.ipynb", "title": "T"})
    assert answer.status_code == 503
    assert "publishing needs DTE Hub" in answer.json()["message"]


def test_publishing_checks_the_request_before_anything_else(server):
    answer = api(server, "dashboards/twin", "PUT", json={"path": "notes.txt"})
    assert answer.status_code == 400 and "path must name a notebook" in answer.json()["message"]
    answer = api(server, "dashboards/twin", "PUT", data="[1, 2]")
    assert answer.status_code == 400 and "send a JSON object" in answer.json()["message"]


def test_the_launcher_offers_the_catalog_and_each_twin_as_a_voila_dashboard(server):
    """Without a hub (Binder, a laptop) the twin notebooks under notebooks/ are the dashboards,
    opened by this server's Voila."""
    offer = api(server, "launcher").json()
    assert offer["catalog"]["title"] == "Data catalog" and offer["problem"] is None
    by_name = {d["name"]: d for d in offer["dashboards"]}
    assert set(by_name) == set(TWIN_NOTEBOOKS)
    assert by_name["flood"]["url"] == "/voila/render/notebooks/flood.ipynb"
    assert by_name["calorimeter"]["domain"] == "physics"
    assert by_name["flood"]["title"] == "Flood early warning"


def test_the_catalog_card_keeps_one_notebook_on_the_dte_kernel(server):
    _, _, home, _ = server
    first = api(server, "launcher/catalog", "POST").json()
    assert first["as_written"] is True
    assert api(server, "launcher/catalog", "POST").json() == first  # the same, again
    notebook = nbformat.read(home / first["path"], as_version=4)
    assert notebook.metadata.kernelspec.name == "dte"
    assert "CatalogBrowser()" in notebook.cells[-1].source
    # the user's own changes are kept: the card opens their copy again
    notebook.cells.append(nbformat.v4.new_code_cell("browser.data"))
    nbformat.write(notebook, home / first["path"])
    again = api(server, "launcher/catalog", "POST").json()
    assert again == {"path": first["path"], "as_written": False}  # opened, not run
    assert len(nbformat.read(home / first["path"], as_version=4).cells) == 3


def test_the_server_stays_offline_and_starts_the_dte_kernel_by_default(server):
    """The environment's server settings are read (jupyter_server reads only the extensions'
    switches from jupyter_server_config.d): no news, no update check, no extension installs,
    the DTE kernel for a notebook without a kernelspec."""
    import json
    import re

    url, session, _, _ = server
    assert session.get(f"{url}/api/kernelspecs", timeout=30).json()["default"] == "dte"
    page = session.get(f"{url}/lab", timeout=30).text
    config = re.search(r'<script id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)
    config = json.loads(config.group(1))
    assert config["news"] == {"disabled": True}
    assert config["extensionManager"]["name"] == "read-only"
    assert not config["extensionManager"]["can_install"]
    assert session.get(f"{url}/lab/api/update", timeout=30).json() == {"notification": None}
