"""RunHistory over a registry filled by real twin runs: the table, the twin filter, two runs
compared, PROV-JSON and CSV exports and their download links, and errors as sentences."""

import base64
import io
import json
import re
import shutil
from types import SimpleNamespace

import pandas as pd
import pytest
import traitlets

from dte_twins.base import Twin
from dte_twins.environment.drought import DroughtTwin
from dte_twins.physics.calorimeter import CalorimeterTwin
from dte_twins.provenance import RunRecord, RunRegistry
from dte_widgets.history import RunHistory
from tests.dte_twins.synthetic import synthetic_forcing


class BrokenTwin(Twin):
    """A twin whose science fails, as a bug in ``simulate`` would."""

    def simulate(self, settings, rng, member=False):
        raise RuntimeError("the bucket overflowed <badly>")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Six real runs, oldest first: three drought runs (one parameter changed, one input
    changed), a drought ensemble, a calorimeter run and a failed run."""
    from distributed import Client, LocalCluster

    registry = RunRegistry(tmp_path_factory.mktemp("runs") / "runs.sqlite")
    drought = DroughtTwin(forcing=synthetic_forcing(days=730), registry=registry, seed=3)
    base = drought.run().attrs["run_id"]
    capacity = drought.run(capacity=120).attrs["run_id"]
    other = DroughtTwin(forcing=synthetic_forcing(days=730, seed=4), registry=registry, seed=3)
    forcing = other.run().attrs["run_id"]
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
        with Client(cluster, set_as_default=False) as client:
            ensemble = drought.ensemble(2, client=client).attrs["run_id"]
    calorimeter = CalorimeterTwin(registry=registry, seed=1, n_events=50, energy_points=1)
    shower = calorimeter.run(beam_energy=5).attrs["run_id"]
    with pytest.raises(RuntimeError):
        BrokenTwin(registry=registry, seed=5).run()
    (failed,) = [r.run_id for r in registry.runs("BrokenTwin")]
    ids = [base, capacity, forcing, ensemble, shower, failed]
    return SimpleNamespace(
        path=registry.path,
        base=base,
        capacity=capacity,
        forcing=forcing,
        ensemble=ensemble,
        shower=shower,
        failed=failed,
        ids=ids,
    )


@pytest.fixture
def runs(recorded, private_registry):
    """The recorded runs in this test's own registry (DTE_RUN_REGISTRY), to change freely."""
    shutil.copy(recorded.path, private_registry)
    return recorded


def table_ids(history):
    return re.findall(r'<code title="([0-9a-f]{32})">', history.table.value)


def decoded(link_html, filename, mime):
    assert f'download="{filename}"' in link_html
    (data,) = re.findall(rf'href="data:{re.escape(mime)};base64,([^"]+)"', link_html)
    return base64.b64decode(data).decode("utf-8")


# --- the table and the filter --------------------------------------------------------------------
def test_table_lists_every_run_newest_first(runs):
    history = RunHistory()  # the default registry: DTE_RUN_REGISTRY
    assert table_ids(history) == runs.ids[::-1]
    table = history.table.value
    assert "<caption>Runs, newest first</caption>" in table
    assert all(f'<th scope="col">{c}</th>' in table for c in ("Time", "Twin", "Status", "Seed"))
    assert "failed: the bucket overflowed &lt;badly&gt;" in table  # escaped
    assert "<badly>" not in table
    cells = re.findall(r"<tr class='dte-\w+'>(.*?)</tr>", table)
    rows = dict(zip(table_ids(history), cells, strict=True))
    ensemble = re.findall(r"<td>(.*?)</td>", rows[runs.ensemble])
    assert ensemble[1:5] == ["DroughtTwin", "ensemble", "2", "ok"]
    assert ensemble[6] == "3"  # seed
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", ensemble[0])
    assert f">{runs.ensemble[:8]}</code>" in rows[runs.ensemble]  # the short id
    assert history.picker.description == "Runs"
    assert [value for _, value in history.picker.options] == runs.ids[::-1]
    assert "dte-run-history" in history._dom_classes


def test_filter_by_twin_and_refresh(runs):
    history = RunHistory()
    names = [value for _, value in history.twin_filter.options]
    assert names == ["", "BrokenTwin", "CalorimeterTwin", "DroughtTwin"]
    assert history.twin_filter.description == "Twin"
    history.twin_filter.value = "DroughtTwin"
    assert table_ids(history) == [runs.ensemble, runs.forcing, runs.capacity, runs.base]
    assert len(history.picker.options) == 4 and len(history.runs) == 4

    only = RunHistory(twin=CalorimeterTwin)
    assert table_ids(only) == [runs.shower] and only.twin_filter.value == "CalorimeterTwin"
    CalorimeterTwin(seed=2, n_events=40, energy_points=1).run(beam_energy=5)
    assert len(table_ids(only)) == 1
    only.selected = [runs.shower]
    only.refresh_button.click()
    assert len(table_ids(only)) == 2  # the new run, and still only this twin's
    assert only.selected == [runs.shower] and only.picker.value == (runs.shower,)

    none = RunHistory(twin="FloodTwin")
    assert "No runs of FloodTwin yet" in none.table.value


def test_max_rows_limits_the_table_not_the_exports(runs):
    history = RunHistory(max_rows=2)
    assert table_ids(history) == [runs.failed, runs.shower]
    assert "the newest 2 of 6" in history.table.value
    assert len(pd.read_csv(io.StringIO(history.csv(runs.ids)))) == 6


# --- comparing two runs --------------------------------------------------------------------------
def test_a_changed_parameter_is_marked(runs):
    history = RunHistory()
    history.picker.value = (runs.base, runs.capacity)  # picked in the list
    assert history.selected == [runs.base, runs.capacity]
    html = history.comparison.value
    marked = re.findall(r"<tr class='dte-differs'[^>]*><th scope=\"row\">(.*?)</th>", html)
    assert marked == ["parameter capacity"]
    (row,) = re.findall(r"<tr[^>]*><th scope=\"row\">parameter capacity</th>(.*?)</tr>", html)
    assert re.findall(r"<td>(.*?)</td>", row) == ["150.0", "120", "<strong>differs</strong>"]
    assert "1 difference</caption>" in html
    assert '<th scope="row">duration (s)</th>' in html and '<th scope="row">code version' in html

    table = history.compare()
    assert list(table.index[table.differs]) == ["parameter capacity"]
    assert table.loc["input forcing"].iloc[0].startswith("sha256:")


def test_a_changed_input_is_marked(runs):
    history = RunHistory()
    history.selected = [runs.base[:8], runs.forcing[:8]]  # short ids are made whole
    assert history.selected == [runs.base, runs.forcing]
    marked = re.findall(r"<tr class='dte-differs'[^>]*><th scope=\"row\">(.*?)</th>",
                        history.comparison.value)  # fmt: skip
    assert marked == ["input forcing"]
    assert '<code title="sha256:' in history.comparison.value  # the whole hash on hover

    history.selected = [runs.base]
    assert "Select two runs" in history.comparison.value


def test_selection_follows_the_filter(runs):
    history = RunHistory()
    history.selected = [runs.base, runs.shower]
    history.twin_filter.value = "DroughtTwin"
    assert history.selected == [runs.base] and history.picker.value == (runs.base,)
    with pytest.raises(traitlets.TraitError, match="set the Twin filter"):
        history.selected = [runs.shower]
    with pytest.raises(traitlets.TraitError, match="no run"):
        history.selected = ["ffffffffffff"]


# --- exports -------------------------------------------------------------------------------------
def test_prov_json_of_the_selected_runs(runs):
    history = RunHistory()
    history.selected = [runs.base, runs.ensemble]
    document = json.loads(json.dumps(history.prov_json()))
    assert set(document["activity"]) == {f"dte:run-{runs.base}", f"dte:run-{runs.ensemble}"}
    assert f"dte:result-{runs.ensemble}" in document["entity"]
    assert document["activity"][f"dte:run-{runs.ensemble}"]["dte:members"] == 2
    used = [u["prov:entity"] for u in document["used"].values()]
    assert len(used) == 2 and all(e.startswith("dte:input-forcing-") for e in used)
    assert len(document["wasGeneratedBy"]) == 2

    history.prov_button.click()
    link = history.download.value
    assert "Download runs.prov.json (2 runs)" in link
    assert json.loads(decoded(link, "runs.prov.json", "application/json")) == document


def test_csv_has_one_row_per_run_and_its_link_decodes_to_it(runs):
    history = RunHistory()
    history.selected = runs.ids
    text = history.csv()
    table = pd.read_csv(io.StringIO(text))
    assert list(table.run_id) == runs.ids and len(table) == 6
    by_id = table.set_index("run_id")
    assert by_id.loc[runs.capacity, "parameters.capacity"] == 120
    assert by_id.loc[runs.failed, "status"] == "failed"
    assert by_id.loc[runs.failed, "error"] == "the bucket overflowed <badly>"
    assert by_id.loc[runs.ensemble, "members"] == 2
    assert by_id.loc[runs.base, "inputs.forcing"].startswith("sha256:")

    history.csv_button.click()
    assert decoded(history.download.value, "runs.csv", "text/csv") == text


def test_export_writes_files(runs, tmp_path):
    history = RunHistory()
    written = history.export(tmp_path / "two.csv", run_ids=[runs.base, runs.failed])
    assert len(pd.read_csv(written)) == 2
    written = history.export(tmp_path / "one.json", run_ids=runs.shower)
    assert f"dte:run-{runs.shower}" in json.loads(written.read_text())["activity"]
    with pytest.raises(ValueError, match="format"):
        history.export(tmp_path / "runs.xlsx", run_ids=runs.ids)


# --- errors --------------------------------------------------------------------------------------
def test_exporting_nothing_is_a_sentence(runs):
    history = RunHistory()
    history.csv_button.click()
    assert history.message.value == (
        '<p class="dte-error" role="alert">Could not export: no runs are selected: pick one or '
        "more in the Runs list.</p>"
    )
    assert history.download.value == ""


def test_an_unreadable_registry_is_a_sentence(tmp_path):
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"not a database " * 100)
    history = RunHistory(registry=damaged)
    message = history.message.value
    assert 'role="alert"' in message and "Could not read the run registry" in message
    assert str(damaged) in message and "press Refresh" in message
    assert "Traceback" not in message

    damaged.unlink()  # fixed: an empty registry is made at this path
    history.refresh_button.click()
    assert history.message.value == "" and "No runs yet" in history.table.value


def test_in_a_shared_dashboard_registry_each_viewer_sees_their_own_runs(tmp_path, monkeypatch):
    registry = RunRegistry(tmp_path / "dashboard-runs.sqlite")
    for user in ("ada", "bo", "ada"):
        monkeypatch.setenv("DTE_RUN_USER", user)
        registry.record(
            RunRecord(
                twin="FloodTwin",
                twin_version="0.1.0",
                kind="run",
                parameters={"x1": 350.0},
                seed=0,
                inputs={},
                code_version="test",
                started="2026-11-24T12:00:00",
                duration_s=0.1,
            )
        )
    monkeypatch.setenv("DTE_RUN_USER", "ada")
    history = RunHistory(registry=registry)
    assert [run.user for run in history.runs] == ["ada", "ada"]
