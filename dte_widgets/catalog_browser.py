"""Browse the platform's data catalog, look inside an entry, hand it to a notebook, add one's own.

``CatalogBrowser`` lists the Intake catalog's entries (platform and personal), filters them by
words and kind, shows an entry's metadata, previews its first rows or a map of it, and hands the
data to the notebook. Users connect their physical twin's data by uploading a file checked
against the schema of a platform entry (``catalogs.register_dataset``).

Reading an entry the first time builds it into the cache, which can take seconds: reads and
registrations run in a background thread so the interface stays responsive; ``wait()`` joins
them (scripts, tests) and ``threaded=False`` runs them in the caller.

The metadata and preview tables and the preview plot are drawn by ``catalog_preview``; which
uploads are accepted and how they are written, by ``catalog_upload``.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets
import traitlets

from catalogs.errors import CatalogError, SchemaError
from catalogs.personal import add_personal_entries, register_dataset
from catalogs.search import KINDS, matching
from dte_widgets.catalog_preview import LINE_POINTS as LINE_POINTS
from dte_widgets.catalog_preview import MAP_CELLS as MAP_CELLS
from dte_widgets.catalog_preview import (
    PREVIEW_ROWS,
    _draw,
    _escape,
    _frame_table,
    _is_pandas,
    _metadata_table,
    _preview_values,
    _variable_to_draw,
    _variables_table,
)
from dte_widgets.catalog_upload import (
    MAX_UPLOAD_BYTES,
    UPLOAD_TYPES,
    _name_problem,
    _registrable,
    _safe_filename,
    _write_private,
)
from dte_widgets.markup import LABEL_STYLE as _LABEL_STYLE
from dte_widgets.markup import error_html
from dte_widgets.plotting import PlotArea

__all__ = ["CatalogBrowser", "KINDS", "MAX_UPLOAD_BYTES", "PREVIEW_ROWS", "UPLOAD_TYPES"]


class CatalogBrowser(widgets.VBox):
    """Search the data catalog, preview an entry, use it in the notebook, register your own.

    ``CatalogBrowser()`` opens the platform's catalog (``catalogs.open_catalog()``, with your own
    entries); pass ``catalog=`` for another (``open_catalog(size="small")``). Type in "Search"
    (name, description, units, provenance, …), pick a kind, select an entry to see its metadata.
    "Preview" reads it and shows its first rows (tables) or a map of its first variable (grids).
    "Use" reads it and hands it over: ``browser.data`` is then the pandas DataFrame or xarray
    Dataset, ``browser.selected`` its name, the ``value`` traitlet the name (for
    ``observe(..., "value")``), and every ``on_use(name, data)`` callback is called (in the
    reading thread when ``threaded``)::

        browser = CatalogBrowser(on_use=lambda name, data: print(name, len(data)))
        browser          # display; after "Use": browser.data

    "Register your own data": upload a .csv, .parquet or .nc file (up to 200 MB), name it and
    choose the platform entry it is like; it is checked against that entry's schema and added
    to your catalog ("mine"), so twins reading that entry can read it too.
    """

    value = traitlets.Unicode("", help="Name of the entry last handed over with Use.")

    def __init__(self, catalog=None, on_use=None, threaded: bool = True, **kwargs):
        if catalog is None:
            from catalogs import open_catalog

            catalog = open_catalog()
        self.catalog = catalog
        self.threaded = threaded
        #: name and data of the entry last handed over with Use (None before)
        self.selected: str | None = None
        self.data = None
        self._use_callbacks: list[Callable] = []
        self._threads: list[threading.Thread] = []
        self._preview_request = 0
        self._last_read: tuple[str | None, object] = (None, None)
        self._listing = False
        self._shown_entry: str | None = None
        self._build_browse()
        self._build_register()
        super().__init__(
            [
                widgets.HBox([self.search, self.kind]),
                self.count,
                self.entries,
                self.metadata,
                widgets.HBox([self.preview_button, self.use_button]),
                self.status,
                self.preview_table,
                self.plot,
                self.register_box,
            ],
            **kwargs,
        )
        self.add_class("dte-catalog-browser")
        if on_use is not None:
            self.on_use(on_use)
        self._relist()

    # --- public ----------------------------------------------------------------------------------
    def on_use(self, callback: Callable, remove: bool = False) -> None:
        """Call ``callback(name, data)`` whenever an entry is handed over with Use."""
        if remove:
            self._use_callbacks.remove(callback)
        else:
            self._use_callbacks.append(callback)

    def refresh(self) -> None:
        """List the entries again, with your own registered since (``register_dataset``)."""
        add_personal_entries(self.catalog)
        self._relist()

    def _relist(self) -> None:
        like = self.like.value
        self.like.options = [
            name for name, metadata in self._all_metadata().items() if _registrable(metadata)
        ]
        self.like.value = like if like in self.like.options else None
        self._update_list()

    def matching(self) -> list[str]:
        """Names of the entries the search words and kind filter let through."""
        return [value for _, value in self.entries.options]

    def select(self, name: str | None) -> None:
        """Select an entry as if clicked in the list (shows its metadata); the search and kind
        filter are cleared if they hide it."""
        if name is not None and name not in self.catalog.entries:
            raise CatalogError(
                f"the catalog has no entry {name!r}; its entries are "
                f"{', '.join(self.catalog.entries)}."
            )
        if name is not None and name not in self.matching():
            self.search.value, self.kind.value = "", "all"
        self.entries.value = name

    def preview(self) -> None:
        """Read the selected entry and show its first rows or a map (as the Preview button)."""
        name = self.entries.value
        if name is None:
            return
        self._preview_request += 1
        request = self._preview_request

        def show(data):
            if request == self._preview_request:
                self._show_preview(name, data)

        self._read(name, show, superseded=lambda: request != self._preview_request)

    def use(self) -> None:
        """Read the selected entry and hand it over (as the Use button)."""
        name = self.entries.value
        if name is not None:
            self._read(name, lambda data: self._hand_over(name, data))

    def register(self) -> None:
        """Register the uploaded file (as the Register button)."""
        problem = self._registration_problem()
        if problem:
            self.register_status.value = _alert(problem)
            return
        uploaded = self.upload.value[0]
        filename, content = _safe_filename(uploaded["name"]), bytes(uploaded["content"])
        name, like = self.entry_name.value.strip(), self.like.value
        self.register_status.value = _status(
            f"Registering {name}: checking {filename} against the schema of {like} …"
        )
        self._run(lambda: self._register(name, filename, content, like))

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background reads and registrations under way have finished."""
        for thread in list(self._threads):
            thread.join(timeout)
        self._threads = [thread for thread in self._threads if thread.is_alive()]

    # --- building --------------------------------------------------------------------------------
    def _build_browse(self) -> None:
        self.search = widgets.Text(
            description="Search",
            placeholder="name, description, units, provenance …",
            tooltip="Words to find in an entry's name, description and metadata",
            continuous_update=True,
            style=_LABEL_STYLE,
        )
        self.kind = widgets.Dropdown(
            description="Kind",
            options=KINDS,
            value="all",
            tooltip="Show all entries, only tables, grids, live feeds, or your own (mine)",
            style=_LABEL_STYLE,
        )
        self.count = widgets.HTML()
        self.entries = widgets.Select(
            description="Entries",
            options=[],
            value=None,
            rows=8,
            tooltip="Entries of the catalog that match; select one to see its metadata",
            style=_LABEL_STYLE,
            layout=widgets.Layout(width="min(100%, 36em)"),
        )
        self.metadata = widgets.HTML()
        self.preview_button = _button(
            "Preview", "eye", "Read the entry and show its first rows, or a map of it"
        )
        self.use_button = _button(
            "Use", "check", "Read the entry and hand it to the notebook (browser.data, on_use)"
        )
        self.status = widgets.HTML()
        self.preview_table = widgets.HTML()
        self.plot = PlotArea(width=5.5, height=3.6)
        self.search.observe(lambda _: self._update_list(), names="value")
        self.kind.observe(lambda _: self._update_list(), names="value")
        self.entries.observe(self._on_select, names="value")
        self.preview_button.on_click(lambda _: self.preview())
        self.use_button.on_click(lambda _: self.use())

    def _build_register(self) -> None:
        self.upload = widgets.FileUpload(
            description="Choose file",
            accept=",".join(UPLOAD_TYPES),
            multiple=False,
            tooltip="A .csv, .parquet or .nc file of your own data, at most 200 MB",
        )
        self.entry_name = widgets.Text(
            description="Entry name",
            placeholder="my_river",
            tooltip="Lowercase letters, digits and underscores, starting with a letter",
            style=_LABEL_STYLE,
        )
        self.like = widgets.Dropdown(
            description="Like entry",
            options=[],
            value=None,
            tooltip="The platform entry whose schema (columns or variables, units) your data has",
            style=_LABEL_STYLE,
        )
        self.register_button = _button(
            "Register", "plus", "Check the file against the entry's schema and add it to mine"
        )
        self.register_status = widgets.HTML()
        self.register_button.on_click(lambda _: self.register())
        self.register_box = widgets.VBox(
            [
                widgets.HTML("<h4>Register your own data</h4>"),
                widgets.HBox([self.upload, self.entry_name, self.like]),
                self.register_button,
                self.register_status,
            ]
        )
        self.register_box.add_class("dte-catalog-register")

    # --- browsing --------------------------------------------------------------------------------
    def _all_metadata(self) -> dict[str, dict]:
        return {name: dict(entry.metadata or {}) for name, entry in self.catalog.entries.items()}

    def _update_list(self) -> None:
        everything = self._all_metadata()
        words = self.search.value.lower().split()
        names = matching(everything, self.search.value, self.kind.value)
        kept = self.entries.value if self.entries.value in names else None
        self._listing = True  # new options select the first one for a moment: not a choice
        try:
            self.entries.options = [(_entry_label(n, everything[n]), n) for n in names]
            self.entries.value = kept
        finally:
            self._listing = False
        self._show_entry(kept)
        searched = f" for “{self.search.value.strip()}”" if words else ""
        self.count.value = _status(
            f"{len(names)} of {len(everything)} entries match{searched}."
            if names
            else f"No entry matches{searched}; try other words or kind “all”."
        )

    def _on_select(self, change) -> None:
        if not self._listing:
            self._show_entry(change["new"])

    def _show_entry(self, name: str | None) -> None:
        if name is not None and name == self._shown_entry:
            return  # still the same entry (the list was narrowed): keep its preview
        self._shown_entry = name
        self._preview_request += 1  # a preview of another entry still reading is dropped
        self.preview_table.value = ""
        self.plot.clear()
        self.status.value = ""
        self.preview_button.disabled = self.use_button.disabled = name is None
        if name is None:
            self.metadata.value = ""
            return
        self.metadata.value = _metadata_table(name, self._metadata_of(name))

    def _metadata_of(self, name: str) -> dict:
        return dict(self.catalog.entries[name].metadata or {})

    # --- reading ---------------------------------------------------------------------------------
    def _read(self, name: str, then: Callable, superseded: Callable[[], bool] = lambda: False):
        if self._last_read[0] == name:
            then(self._last_read[1])
            return
        # a live feed's history grows: read it afresh every time
        keep = not self._metadata_of(name).get("live")
        self.status.value = _status(f"Reading {name} … (first use builds the entry)")

        def work():
            try:
                data = self.catalog[name].read()
            except Exception as error:  # shown as a sentence, whatever the reader raised
                if not superseded():
                    self.status.value = _alert(f"Could not read {name}: {_sentence(error)}")
                return
            if keep:
                self._last_read = (name, data)
            try:
                then(data)
            except Exception as error:
                self.status.value = _alert(f"Could not show {name}: {_sentence(error)}")

        self._run(work)

    def _run(self, work: Callable[[], None]) -> None:
        if not self.threaded:
            work()
            return
        thread = threading.Thread(target=work, name="dte-catalog-browser", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _show_preview(self, name: str, data) -> None:
        if hasattr(data, "data_vars"):
            units = dict(self._metadata_of(name).get("units") or {})
            self.preview_table.value = _variables_table(name, data, units)
            self._show_map(name, data, units)
            self.status.value = _status(f"Preview of {name}: {_describe(data)}.")
        elif hasattr(data, "columns") and hasattr(data, "head"):
            self.preview_table.value = _frame_table(name, data)
            self.plot.clear()
            self.status.value = _status(f"Preview of {name}: {_describe(data)}.")
        else:
            self.status.value = _status(f"{name} holds {_describe(data)}; nothing to preview.")

    def _show_map(self, name: str, dataset, units: dict) -> None:
        variable = _variable_to_draw(dataset, order=list(units))
        if variable is None:
            self.plot.clear(f"{name} has no variable to draw.")
            return
        unit = units.get(variable.name) or str(variable.attrs.get("units", ""))
        shown, description = _preview_values(name, variable)
        self.plot.show(lambda figure: _draw(figure, name, variable.name, shown, unit), description)

    def _hand_over(self, name: str, data) -> None:
        self.data, self.selected = data, name
        self.value = name
        self.status.value = _status(f"{name} is ready in browser.data: {_describe(data)}.")
        for callback in list(self._use_callbacks):
            try:
                callback(name, data)
            except Exception as error:
                self.status.value = _alert(
                    f"{name} is in browser.data, but your on_use function failed: "
                    f"{_sentence(error)}"
                )

    # --- registering -----------------------------------------------------------------------------
    def _registration_problem(self) -> str:
        if not self.upload.value:
            return "Choose a file to register first (.csv, .parquet or .nc)."
        uploaded = self.upload.value[0]
        filename = str(uploaded["name"])
        suffix = Path(filename).suffix.lower()
        if suffix not in UPLOAD_TYPES:
            return (
                f"{filename}: use a .csv, .parquet or .nc file; {suffix or 'no suffix'} is not "
                "a format the catalog reads."
            )
        size = len(uploaded["content"])
        if size > MAX_UPLOAD_BYTES:
            return (
                f"{filename} is {_size_text(size)}, more than the {_size_text(MAX_UPLOAD_BYTES)} "
                "an upload may have: register a larger file "
                "from a path you own with catalogs.register_dataset(name, path, like=...)."
            )
        return _name_problem(self.entry_name.value.strip(), self._all_metadata()) or (
            "" if self.like.value else "Choose the entry your data is like (“Like entry”)."
        )

    def _register(self, name: str, filename: str, content: bytes, like: str) -> None:
        folder = Path(tempfile.mkdtemp(prefix="dte-upload-"))  # only this user can enter it
        path = folder / filename
        try:
            _write_private(path, content)
            register_dataset(
                name, path, like=like, description=f"{name}: {filename}, uploaded, like {like}"
            )
        except Exception as error:  # SchemaError names row, column or variable; also a full disk
            self.register_status.value = _alert(
                f"{filename} was not registered: {_sentence(error)}"
            )
            return
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self._show_registered(name, like)

    def _show_registered(self, name: str, like: str) -> None:
        entries = self.catalog.entries
        if name in entries and (entries[name].metadata or {}).get("personal"):
            del entries[name]  # registered again: take the new description
        if self._last_read[0] == name:
            self._last_read = (None, None)
        self.upload.value = ()
        self.search.value = ""
        self.kind.value = "mine"
        self._shown_entry = None  # registered again: show the new metadata
        self.refresh()
        self.entries.value = name
        self.register_status.value = _status(
            f"Registered {name} (like {like}): it is listed under “mine”."
        )


# --- helpers: text -------------------------------------------------------------------------------
def _button(description: str, icon: str, tooltip: str) -> widgets.Button:
    return widgets.Button(description=description, icon=icon, tooltip=tooltip)


def _status(text: str) -> str:
    return f'<p class="dte-status" role="status">{_escape(text)}</p>'


def _alert(text: str) -> str:
    return error_html(text)


def _sentence(error: BaseException) -> str:
    """The error's own sentence, ending with a full stop (its type if it has no text)."""
    text = str(error).strip() or type(error).__name__
    if not isinstance(error, CatalogError | SchemaError | OSError | ValueError | RuntimeError):
        text = f"{type(error).__name__}: {text}"
    return text if text.endswith((".", "!", "?")) else text + "."


def _describe(data) -> str:
    if hasattr(data, "data_vars"):
        sizes = " × ".join(f"{size} {dim}" for dim, size in data.sizes.items())
        return f"an xarray Dataset of {', '.join(map(str, data.data_vars))} ({sizes})"
    if hasattr(data, "columns"):
        rows = f"{_count(len(data), 'row')} × " if _is_pandas(data) else ""
        library = type(data).__module__.split(".")[0]
        return f"a {library} DataFrame of {rows}{_count(len(data.columns), 'column')}"
    return f"a {type(data).__name__}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _size_text(size: int) -> str:
    if size >= 1024**2:
        return f"{size / 1024**2:.0f} MB"
    return f"{size / 1024:.0f} kB" if size >= 1024 else _count(size, "byte")


# --- helpers: the list ---------------------------------------------------------------------------
def _entry_label(name: str, metadata: dict) -> str:
    kind = "live feed" if metadata.get("live") else metadata.get("kind", "entry")
    return f"{name} ({kind}{', mine' if metadata.get('personal') else ''})"
