"""The history of twin runs: a table of the run registry, two runs compared, runs exported.

Every ``Twin.run`` and ``Twin.ensemble`` is recorded in the user's run registry
(``dte_twins.provenance``). ``RunHistory`` shows it newest first, filtered by twin, compares two
runs side by side and offers the selected runs as W3C PROV-JSON or CSV, as download links that
carry their content (``data:`` URLs), so no server extension is needed in JupyterLab, Voila or
``panel serve``.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
import traitlets

from dte_twins.provenance import RunRecord, RunRegistry, to_prov_json
from dte_widgets.markup import LABEL_STYLE, error_html
from dte_widgets.markup import escape as _escape
from dte_widgets.voila_viewer import session_viewer

__all__ = ["RunHistory"]

ALL_TWINS = ""
#: comparison rows that differ between any two runs, so never marked as a difference
_ALWAYS_DIFFERENT = ("started", "duration (s)")
_FORMATS = {"csv": "csv", "json": "prov-json", "prov-json": "prov-json", "jsonld": "prov-json"}


class RunHistory(widgets.VBox):
    """The runs of the run registry, newest first; compare two, export the selected ones.

    ::

        history = RunHistory()                  # the user's registry (DTE_RUN_REGISTRY)
        history = RunHistory(twin=DroughtTwin)  # only one twin's runs
        history.selected = [run_id_a, run_id_b] # or pick them in the "Runs" list
        history.compare()                       # a DataFrame; the widget shows it too
        history.csv(), history.prov_json()      # the selected runs
        history.export("runs.json")             # PROV-JSON (or .csv) written to a file

    ``registry``: a ``RunRegistry`` or the path of its SQLite file (default
    ``RunRegistry.default()``). ``twin``: a twin name, class or instance to show first.
    ``max_rows``: the newest runs shown in the table (all of them stay exportable).
    """

    #: run ids picked in the "Runs" list (short prefixes are accepted and made whole)
    selected = traitlets.List(traitlets.Unicode())

    def __init__(self, registry=None, twin=None, max_rows: int = 200, **kwargs):
        self._registry_source = registry
        #: show only this viewer's runs (a shared dashboard's registry): a ``panel serve``
        #: session's viewer, else ``DTE_RUN_USER``, which a Voila kernel sets for its viewer
        self.viewer: str | None = session_viewer()
        #: the ``RunRegistry`` shown (None while it cannot be opened)
        self.registry: RunRegistry | None = None
        self.max_rows = max_rows
        self._records: list[RunRecord] = []  # every run, newest first
        self._showing = False  # the table's options are being replaced
        self._filtering = False  # the filter's options are being replaced
        self._build()
        super().__init__(
            [
                widgets.HBox([self.twin_filter, self.refresh_button]),
                self.message,
                self.table,
                self.picker,
                self.comparison,
                widgets.HBox([self.prov_button, self.csv_button]),
                self.download,
            ],
            **kwargs,
        )
        self.add_class("dte-run-history")
        if twin is not None:  # chosen before the first reading, so the table is drawn once
            self._set_filter({_twin_name(twin)}, _twin_name(twin), draw=False)
        self.refresh()

    # --- public ------------------------------------------------------------------------------
    @property
    def runs(self) -> list[RunRecord]:
        """The runs of the twin chosen in the filter (all twins by default), newest first."""
        twin = self.twin_filter.value
        return [r for r in self._records if twin in (ALL_TWINS, r.twin)]

    def refresh(self) -> None:
        """Read the registry again (runs made since appear)."""
        self.message.value = ""
        try:
            if self.registry is None:
                self.registry = _open_registry(self._registry_source)
            records = self.registry.runs()
        except (sqlite3.Error, OSError) as error:
            where = self.registry.path if self.registry else _registry_path(self._registry_source)
            self._show_error(
                f"Could not read the run registry {where}: {error}. Check that the file is a "
                "run registry (DTE_RUN_REGISTRY names it) and press Refresh."
            )
            return
        viewer = self.viewer or os.environ.get("DTE_RUN_USER")
        if viewer:  # a dashboard's registry is shared: each viewer sees their own runs
            records = [r for r in records if r.user == viewer]
        self._records = sorted(records, key=lambda r: r.started, reverse=True)
        current = self.twin_filter.value
        self._set_filter({r.twin for r in self._records} | {current}, current)

    def show_twin(self, twin: str) -> None:
        """Filter the table to one twin's runs ("" for all)."""
        self._set_filter({value for _, value in self.twin_filter.options} | {twin}, twin)

    def run(self, run_id: str) -> RunRecord:
        """The record of a run, by its id or the start of it (the table's short id)."""
        matches = [r for r in self._records if run_id and r.run_id.startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise KeyError(f"{run_id!r} is the start of {len(matches)} run ids: give more of it")
        if self.registry is None or not run_id:
            raise KeyError(f"no run {run_id!r}")
        return self.registry.get(run_id)

    def compare(self, first: str | None = None, second: str | None = None) -> pd.DataFrame:
        """Two runs side by side (default: the two selected), one row per field, with a
        ``differs`` column; shown in the widget as well."""
        if first is None and second is None:
            if len(self.selected) != 2:
                raise ValueError("select exactly two runs to compare them")
            first, second = self.selected
        a, b = self.run(first), self.run(second)
        table = _comparison(a, b)
        self.comparison.value = _comparison_html(a, b, table)
        return table

    def prov_json(self, run_ids=None) -> dict:
        """The runs (default: the selected ones) as one W3C PROV-JSON document."""
        document: dict = {}
        for run_id in self._ids(run_ids):
            for section, items in to_prov_json(self.run(run_id)).items():
                document.setdefault(section, {}).update(items)
        return document

    def csv(self, run_ids=None) -> str:
        """The runs (default: the selected ones) as CSV: one row per run, one column per field,
        parameter (``parameters.<name>``) and input hash (``inputs.<name>``)."""
        return _frame([self.run(run_id) for run_id in self._ids(run_ids)]).to_csv(index=False)

    def export(self, path, format: str | None = None, run_ids=None) -> Path:
        """Write the runs (default: the selected ones) to ``path`` as ``"csv"`` or
        ``"prov-json"`` (default: from the file's suffix)."""
        path = Path(path)
        format = _FORMATS.get((format or path.suffix.lstrip(".")).lower())
        if format is None:
            raise ValueError(f"cannot tell the format of {path}: pass format='csv' or 'prov-json'")
        if format == "csv":
            path.write_text(self.csv(run_ids), encoding="utf-8")
        else:
            path.write_text(json.dumps(self.prov_json(run_ids), indent=2), encoding="utf-8")
        return path

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.twin_filter = widgets.Dropdown(
            description="Twin", options=[("All twins", ALL_TWINS)], style=LABEL_STYLE
        )
        self.refresh_button = widgets.Button(
            description="Refresh", tooltip="Read the run registry again"
        )
        self.message = widgets.HTML()
        self.table = widgets.HTML()
        self.picker = widgets.SelectMultiple(
            description="Runs",
            options=[],
            rows=6,
            style=LABEL_STYLE,
            tooltip="Pick runs to compare (two) or export (any number)",
            layout=widgets.Layout(width="100%"),
        )
        self.comparison = widgets.HTML(_COMPARE_HINT)
        self.prov_button = widgets.Button(
            description="Export PROV-JSON",
            tooltip="A download link for the selected runs as W3C PROV-JSON",
        )
        self.csv_button = widgets.Button(
            description="Export CSV", tooltip="A download link for the selected runs as CSV"
        )
        self.download = widgets.HTML()
        self.refresh_button.on_click(lambda _: self.refresh())
        self.prov_button.on_click(lambda _: self._offer("prov-json"))
        self.csv_button.on_click(lambda _: self._offer("csv"))
        self.twin_filter.observe(self._on_filter, "value")
        self.picker.observe(self._on_pick, "value")

    def _set_filter(self, twins: set[str], value: str, draw: bool = True) -> None:
        names = sorted(twins - {ALL_TWINS})
        self._filtering = True  # new options empty the Dropdown for a moment: not a choice
        try:
            self.twin_filter.options = [("All twins", ALL_TWINS)] + [(t, t) for t in names]
            self.twin_filter.value = value
        finally:
            self._filtering = False
        if draw:
            self._show_runs()

    def _on_filter(self, change) -> None:
        if not self._filtering:
            self._show_runs()

    # --- selection ---------------------------------------------------------------------------
    @traitlets.validate("selected")
    def _whole_ids(self, proposal) -> list[str]:
        shown = {run.run_id: run for run in self.runs[: self.max_rows]}
        whole = []
        for run_id in proposal.value:
            try:
                run = self.run(run_id)
            except KeyError as error:
                raise traitlets.TraitError(f"no run {run_id!r} in the registry") from error
            if run.run_id not in shown:
                raise traitlets.TraitError(
                    f"run {run_id} ({run.twin}) is not in the table: set the Twin filter to show it"
                )
            whole.append(run.run_id)
        return whole

    @traitlets.observe("selected")
    def _on_selected(self, change) -> None:
        self.picker.value = tuple(change.new)
        self.download.value = ""
        if len(change.new) == 2:
            self.compare()
        else:
            self.comparison.value = _COMPARE_HINT

    def _on_pick(self, change) -> None:
        if not self._showing and list(change.new) != self.selected:
            self.selected = list(change.new)

    def _ids(self, run_ids) -> list[str]:
        if run_ids is None:
            ids = list(self.selected)
        elif isinstance(run_ids, str):
            ids = [run_ids]
        else:
            ids = list(run_ids)
        if not ids:
            raise ValueError("no runs are selected: pick one or more in the Runs list")
        return ids

    # --- display -----------------------------------------------------------------------------
    def _show_runs(self) -> None:
        runs = self.runs
        shown = runs[: self.max_rows]
        self.table.value = _runs_table(shown, len(runs), self.twin_filter.value)
        visible = {r.run_id for r in shown}
        keep = [run_id for run_id in self.selected if run_id in visible]
        self._showing = True  # new options empty the picker: the selection is kept here
        try:
            self.picker.options = [(_label(r), r.run_id) for r in shown]
        finally:
            self._showing = False
        if keep == self.selected:
            self.picker.value = tuple(keep)
        else:
            self.selected = keep

    def _offer(self, format: str) -> None:
        try:
            if format == "csv":
                content, name, mime = self.csv().encode(), "runs.csv", "text/csv"
            else:
                text = json.dumps(self.prov_json(), indent=2)
                content, name, mime = text.encode(), "runs.prov.json", "application/json"
        except (ValueError, KeyError) as error:
            self.download.value = ""
            self._show_error(f"Could not export: {_reason(error)}.")
            return
        self.message.value = ""
        self.download.value = _download_link(content, name, mime, len(self.selected))

    def _show_error(self, sentence: str) -> None:
        self.message.value = error_html(sentence)


# --- helpers -------------------------------------------------------------------------------------
def _reason(error: Exception) -> str:
    # KeyError's str() is the repr of its argument
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return str(text).rstrip(".")


def _open_registry(source) -> RunRegistry:
    if isinstance(source, RunRegistry):
        return source
    return RunRegistry.default() if source is None else RunRegistry(source)


def _registry_path(source) -> str:
    if source is None:
        return str(RunRegistry.default_path())
    return str(getattr(source, "path", source))


def _twin_name(twin) -> str:
    if isinstance(twin, str):
        return twin
    return twin.__name__ if isinstance(twin, type) else type(twin).__name__


def _when(started: str) -> str:
    moment = datetime.fromisoformat(started)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.utcoffset() is not None else "")


def _status(run: RunRecord) -> str:
    return f"failed: {run.error}" if run.status == "failed" else run.status


def _label(run: RunRecord) -> str:
    return f"{_when(run.started)} · {run.twin} · {run.kind} · {run.status} · {run.run_id[:8]}"


_COMPARE_HINT = "<p class='dte-hint'>Select two runs in the Runs list to compare them.</p>"
_COLUMNS = ("Time", "Twin", "Kind", "Members", "Status", "Duration", "Seed", "Run")


def _runs_table(runs: list[RunRecord], total: int, twin: str) -> str:
    if not runs:
        whose = f"of {twin} " if twin else ""
        return (
            f"<p class='dte-hint'>No runs {_escape(whose)}yet: every Twin.run and Twin.ensemble "
            "is recorded here. Press Refresh after running a twin.</p>"
        )
    head = "".join(f'<th scope="col">{c}</th>' for c in _COLUMNS)
    body = "".join(_run_row(run) for run in runs)
    caption = "Runs, newest first"
    if total > len(runs):
        caption += f" (the newest {len(runs)} of {total}; filter by twin to see others)"
    return (
        f"<table class='dte-run-table'><caption>{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _run_row(run: RunRecord) -> str:
    cells = [
        _when(run.started),
        run.twin,
        run.kind,
        run.members,
        _status(run),
        f"{run.duration_s:.3g} s",
        run.seed,
    ]
    status_class = "dte-failed" if run.status == "failed" else "dte-ok"
    return (
        f"<tr class='{status_class}'>"
        + "".join(f"<td>{_escape(cell)}</td>" for cell in cells)
        + f'<th scope="row"><code title="{_escape(run.run_id)}">{run.run_id[:8]}</code></th>'
        + "</tr>"
    )


def _comparison(a: RunRecord, b: RunRecord) -> pd.DataFrame:
    rows = {
        "twin": (a.twin, b.twin),
        "twin version": (a.twin_version, b.twin_version),
        "kind": (a.kind, b.kind),
        "members": (a.members, b.members),
        "status": (_status(a), _status(b)),
        "started": (_when(a.started), _when(b.started)),
        "duration (s)": (round(a.duration_s, 4), round(b.duration_s, 4)),
        "seed": (a.seed, b.seed),
        "code version": (a.code_version, b.code_version),
    }
    for name in sorted(a.parameters.keys() | b.parameters.keys()):
        rows[f"parameter {name}"] = (a.parameters.get(name, ""), b.parameters.get(name, ""))
    for name in sorted(a.inputs.keys() | b.inputs.keys()):
        rows[f"input {name}"] = (a.inputs.get(name, ""), b.inputs.get(name, ""))
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=[a.run_id[:8], b.run_id[:8]], dtype=object
    )
    table["differs"] = [field not in _ALWAYS_DIFFERENT and x != y for field, (x, y) in rows.items()]
    table.index.name = "field"
    return table


def _comparison_html(a: RunRecord, b: RunRecord, table: pd.DataFrame) -> str:
    first, second = a.run_id[:8], b.run_id[:8]
    head = (
        '<th scope="col">Field</th>'
        f'<th scope="col">Run {first}</th><th scope="col">Run {second}</th>'
        '<th scope="col">Differs</th>'
    )
    body = []
    for field, row in table.iterrows():
        marked = bool(row["differs"])
        attributes = " class='dte-differs' style='background:#fff3bf'" if marked else ""
        values = "".join(f"<td>{_cell(row[column])}</td>" for column in (first, second))
        flag = "<strong>differs</strong>" if marked else ""
        body.append(
            f'<tr{attributes}><th scope="row">{_escape(field)}</th>{values}<td>{flag}</td></tr>'
        )
    count = int(table["differs"].sum())
    caption = f"Run {first} compared with run {second}: {count} difference{'s' * (count != 1)}"
    return (
        f"<table class='dte-run-comparison'><caption>{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _cell(value) -> str:
    text = str(value)
    if text.startswith("sha256:") or "@sha256:" in text:
        # a content hash: the start identifies it, the whole is in the tooltip
        return (
            f'<code title="{_escape(text)}">{_escape(text[: text.index("sha256:") + 19])}…</code>'
        )
    return _escape(text)


def _frame(runs: list[RunRecord]) -> pd.DataFrame:
    rows = []
    for run in runs:
        row = {
            "run_id": run.run_id,
            "started": run.started,
            "twin": run.twin,
            "twin_version": run.twin_version,
            "kind": run.kind,
            "members": run.members,
            "status": run.status,
            "error": run.error,
            "duration_s": run.duration_s,
            "seed": run.seed,
            "user": run.user,
            "code_version": run.code_version,
        }
        row.update({f"parameters.{k}": _scalar(v) for k, v in run.parameters.items()})
        row.update({f"inputs.{k}": v for k, v in run.inputs.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _scalar(value):
    return json.dumps(value) if isinstance(value, list | dict) else value


def _download_link(content: bytes, filename: str, mime: str, count: int) -> str:
    data = base64.b64encode(content).decode("ascii")
    runs = f"{count} run{'s' * (count != 1)}"
    return (
        f'<a class="dte-download" download="{_escape(filename)}" '
        f'href="data:{mime};base64,{data}">Download {_escape(filename)} ({runs})</a>'
    )
