"""Views of twin results: time series, maps, histograms and spectrograms, drawn as images.

Every view is a ``VBox`` with a "Variable" dropdown (hidden while there is one choice), any
controls of its own and a ``PlotArea`` (``plotting``); ``update(data, ...)`` gives it new data and
``update()`` with none shows a sentence instead of a plot. The views read what twins return:
``xarray.Dataset`` objects whose variables carry ``units``, ensembles as ``<var>_quantile`` (dim
``quantile``) or ``<var>`` along ``member``; pandas and NumPy data work too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.colors import LogNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from dte_widgets.plotting import DPI, PlotArea

__all__ = ["TimeSeriesView", "MapView", "HistogramView", "SpectrogramView"]

NO_DATA = "No data to show yet."
#: line colours of threshold levels (the alert levels of the twins), others grey
LEVEL_COLOURS = {"info": "#1f5fa8", "watch": "#b58900", "warning": "#d9480f", "danger": "#b00020"}
_Y_DIMS, _X_DIMS = ("y", "lat", "latitude"), ("x", "lon", "longitude")
_GEOGRAPHIC = {"lat", "latitude", "lon", "longitude"}


# --- shared helpers -------------------------------------------------------------------------------
def _as_dataset(data, view: str) -> xr.Dataset | None:
    """Twin results as they are; pandas and NumPy data as a Dataset (a time index as ``time``)."""
    if data is None or isinstance(data, xr.Dataset):
        return data
    if isinstance(data, xr.DataArray):
        return data.to_dataset(name=str(data.name or "value"))
    if isinstance(data, pd.Series):
        data = data.to_frame(str(data.name or "value"))
    if isinstance(data, pd.DataFrame):
        frame = data.rename(columns=str)
        if isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.rename_axis("time")
        return xr.Dataset.from_dataframe(frame)
    if isinstance(data, np.ndarray | list | tuple):
        return xr.Dataset({"value": xr.DataArray(np.asarray(data))})
    raise TypeError(
        f"{view} shows an xarray Dataset or DataArray, a pandas DataFrame or Series or a NumPy "
        f"array, not {type(data).__name__}."
    )


def _is_empty(data: xr.Dataset | None) -> bool:
    return data is None or not data.data_vars or all(v.size == 0 for v in data.data_vars.values())


def _units(array: xr.DataArray) -> str:
    units = str(array.attrs.get("units", ""))
    return "" if units == "1" else units  # "1" (dimensionless) says nothing on an axis


def _label(name: str, units: str) -> str:
    return f"{name} ({units})" if units else name


def _dims(variable: xr.DataArray) -> str:
    return "(" + ", ".join(map(str, variable.dims)) + ")"


def _refusal(view: str, need: str, data: xr.Dataset, name, choices: Sequence[str]) -> ValueError:
    """The error for a variable the view cannot draw, naming the ones it can."""
    if name is None:
        found = ", ".join(f"{n} {_dims(v)}" for n, v in data.data_vars.items())
        return ValueError(f"{view} needs {need}; this data has none: it has {found}.")
    if name in data:
        what = f"{name!r} has dims {_dims(data[name])}, dtype {data[name].dtype}"
    else:
        what = f"this data has no {name!r}"
    offered = f"Choose one of: {', '.join(choices)}." if choices else "This data has none."
    return ValueError(f"{view} needs {need}; {what}. {offered}")


def _format_value(value, units: str = "") -> str:
    """A coordinate value for a sentence: dates as dates, numbers short, with their units."""
    if np.issubdtype(np.asarray(value).dtype, np.datetime64):
        return _format_dates([value])[0]
    if isinstance(value, int | float | np.number):
        return f"{value:.4g}" + (f" {units}" if units else "")
    return str(value)


def _format_dates(values) -> list[str]:
    """Dates as days, or with hours and minutes when any of them is not at midnight."""
    stamps = pd.to_datetime(np.asarray(values))
    daily = bool((stamps == stamps.normalize()).all())
    return [stamp.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M") for stamp in stamps]


def _span(coordinate: xr.DataArray) -> str:
    values = coordinate.to_numpy()
    if np.issubdtype(values.dtype, np.datetime64):
        first, last = _format_dates([values.min(), values.max()])
        return f"{first} to {last}"
    units = _units(coordinate)
    return f"{_format_value(values.min(), units)} to {_format_value(values.max(), units)}"


def _date_axis(axis) -> None:
    """Short date ticks that do not overlap."""
    locator = AutoDateLocator()
    axis.set_major_locator(locator)
    axis.set_major_formatter(ConciseDateFormatter(locator))


def _aggregated(field: xr.DataArray, max_shape: tuple[int, int]) -> xr.DataArray:
    """The 2-D ``field`` (dims y, x) averaged down to at most ``max_shape`` cells with datashader,
    or unchanged when it already fits: the picture cannot show more cells than it has pixels."""
    ydim, xdim = field.dims
    if field.shape[0] <= max_shape[0] and field.shape[1] <= max_shape[1]:
        return field
    import datashader  # numba starts up slowly: only for grids that need it

    canvas = datashader.Canvas(
        plot_width=min(field.shape[1], max_shape[1]), plot_height=min(field.shape[0], max_shape[0])
    )
    plain = field.reset_coords(drop=True).astype(float).rename("value")
    return canvas.quadmesh(plain, x=xdim, y=ydim, agg=datashader.mean("value"))


def _pixels(size: tuple[float, float]) -> tuple[int, int]:
    """(rows, columns) of pixels of a figure of ``size`` inches."""
    return int(size[1] * DPI), int(size[0] * DPI)


class _VariableView(widgets.VBox):
    """A plot of the variable chosen in a "Variable" dropdown. Subclasses fill the dropdown in
    ``update`` (``_offer``) and draw the choice in ``_redraw``."""

    css_class = ""
    plot_size = (7.0, 3.2)

    def __init__(self, title: str = "", controls: Sequence[widgets.Widget] = ()):
        self.title = title
        self.data: xr.Dataset | None = None
        self.variable_picker = widgets.Dropdown(description="Variable", options=())
        self.plot = PlotArea(*self.plot_size)
        self._holding = False
        super().__init__([self.variable_picker, *controls, self.plot])
        self.add_class(self.css_class)
        self.variable_picker.observe(self._on_control, "value")

    def _offer(self, options: Sequence, value) -> None:
        """Fill the dropdown without redrawing on the way; it shows only with a real choice."""
        self._holding = True
        try:
            self.variable_picker.options = options
            self.variable_picker.value = value
        finally:
            self._holding = False
        self.variable_picker.layout.display = "" if len(options) > 1 else "none"

    def _on_control(self, change) -> None:
        if not self._holding and self.data is not None and change["new"] is not None:
            self._redraw()

    def _choose(self, names: list[str], variable: str | None, need: str) -> str:
        """``variable`` if the view can draw it, else the current choice or the first."""
        if variable in names:
            return variable
        if variable is None and names:
            current = self.variable_picker.value
            return current if current in names else names[0]
        raise _refusal(type(self).__name__, need, self.data, variable, names)

    def _start(self, data, view: str) -> bool:
        """Keep ``data``; False (and a message on show) when there is nothing to draw."""
        self.data = _as_dataset(data, view)
        if _is_empty(self.data):
            self.data = None
            self.plot.clear(NO_DATA)
            return False
        return True

    def _title(self, axes) -> None:
        if self.title:
            axes.set_title(self.title)

    def _described(self, sentence: str) -> str:
        """The accessible description: the title, then what the plot shows."""
        return f"{self.title}: {sentence}" if self.title else sentence

    def _redraw(self) -> None:
        raise NotImplementedError


# --- time series ----------------------------------------------------------------------------------
def _series_in(data: xr.Dataset) -> dict[str, str]:
    """Variables to draw against ``time``: name -> "line", "quantile" (``<name>_quantile``) or
    "member". The parts of an ensemble summary (mean, quantiles, standard errors) are not
    offered on their own."""
    found: dict[str, str] = {}
    for name, variable in data.data_vars.items():
        extra = set(variable.dims) - {"time"}
        if "time" not in variable.dims or not np.issubdtype(variable.dtype, np.number):
            continue
        if name.endswith("_quantile") and extra == {"quantile"}:
            found[name.removesuffix("_quantile")] = "quantile"
        elif extra == {"member"}:
            found.setdefault(name, "member")
        elif not extra:
            found.setdefault(name, "line")
    ensembles = {name for name, kind in found.items() if kind != "line"}
    return {
        name: kind
        for name, kind in found.items()
        if not (name.endswith("_mean") and name.removesuffix("_mean") in ensembles)
        and not (name.endswith("_stderr") and name.removesuffix("_stderr") in found)
    }


def _ensemble(data: xr.Dataset, name: str, kind: str):
    """(median, lowest, highest, band label) of an ensemble variable."""
    if kind == "quantile":
        summary = data[f"{name}_quantile"]
    else:
        summary = data[name].quantile([0.05, 0.5, 0.95], dim="member", keep_attrs=True)
    levels = summary["quantile"].to_numpy()
    middle = int(np.abs(levels - 0.5).argmin())
    low, high = int(levels.argmin()), int(levels.argmax())
    label = f"{levels[low]:.0%}–{levels[high]:.0%}"
    return (*(summary.isel(quantile=i) for i in (middle, low, high)), label)


def _thresholds(entries) -> list[tuple[float, str]]:
    """``[(150, "watch"), 250]`` -> ``[(150.0, "watch"), (250.0, "")]``."""
    pairs = []
    for entry in entries:
        value, label = entry if isinstance(entry, tuple | list) else (entry, "")
        pairs.append((float(value), str(label)))
    return pairs


_TIME_NEED = "a numeric variable with a time dim (and perhaps member or quantile)"


class TimeSeriesView(_VariableView):
    """Lines over time of a twin result's variables, with their units on the y axis.

    ``data``: an ``xarray.Dataset`` with a ``time`` dim (what twins return) or a pandas DataFrame
    or Series indexed by time. An ensemble, ``<var>_quantile`` along ``quantile`` (as
    ``Twin.ensemble`` returns) or ``<var>`` along ``member``, is drawn as its median line and a
    band from the lowest to the highest quantile (5–95 % of the members); ``bands`` lists the
    variables drawn so. ``thresholds`` adds horizontal lines per variable, as numbers or
    ``(value, label)``; labels that are alert levels get their colour. The "Variable" dropdown
    chooses what to draw; ``variables`` preselects one name, or several drawn together::

        view = TimeSeriesView(twin.ensemble(20), variables="discharge",
                              thresholds={"discharge": [(150, "watch"), (250, "warning")]})
        view.update(twin.ensemble(20, rainfall_spread=0.5))
    """

    css_class = "dte-time-series-view"

    def __init__(self, data=None, variables=None, title: str = "", thresholds=None):
        self.thresholds = {name: _thresholds(v) for name, v in (thresholds or {}).items()}
        self.bands: list[str] = []
        self._kinds: dict[str, str] = {}
        super().__init__(title)
        self.update(data, variables)

    def update(self, data=None, variables: str | Sequence[str] | None = None) -> None:
        """Show ``data``; ``variables`` (a name or several) chooses, else the current choice or
        the first variable."""
        if not self._start(data, "TimeSeriesView"):
            self.bands = []
            return
        self._kinds = _series_in(self.data)
        names = list(self._kinds)
        chosen = self._chosen(variables, names)
        options = [(name, (name,)) for name in names]
        if len(chosen) > 1:
            options.insert(0, (" + ".join(chosen), chosen))
        self._offer(options, chosen)
        self._redraw()

    def _chosen(self, variables, names: list[str]) -> tuple[str, ...]:
        if variables is None:
            current = self.variable_picker.value
            if current and set(current) <= set(names):
                return current
            variables = self._choose(names, None, _TIME_NEED)
        chosen = (variables,) if isinstance(variables, str) else tuple(variables)
        return tuple(self._choose(names, name, _TIME_NEED) for name in chosen)

    def _curve(self, name: str) -> dict:
        """What to draw of ``name``: its line, and for an ensemble the band around it."""
        kind = self._kinds[name]
        source = self.data[name] if name in self.data else self.data[f"{name}_quantile"]
        curve = {"name": name, "label": _label(name, _units(source)), "band": ""}
        if kind == "line":
            curve["line"] = source
        else:
            curve["line"], curve["low"], curve["high"], curve["band"] = _ensemble(
                self.data, name, kind
            )
        return curve

    def _redraw(self) -> None:
        curves = [self._curve(name) for name in self.variable_picker.value]
        time = self.data["time"]
        labels = ", ".join(curve["label"] for curve in curves)
        sentence = f"{labels} over time, {_span(time)}"
        bands = [f"{c['name']} median and {c['band']} band" for c in curves if c["band"]]
        if bands:
            sentence += f"; ensemble {', '.join(bands)}"
        lines = [(c["name"], *pair) for c in curves for pair in self.thresholds.get(c["name"], [])]
        if lines:
            sentence += "; thresholds " + ", ".join(f"{lvl or n} {v:g}" for n, v, lvl in lines)

        def draw(figure):
            axes = figure.add_subplot()
            for curve in curves:
                line = curve["line"]
                x = line["time"].to_numpy()
                if not curve["band"]:
                    axes.plot(x, line.to_numpy(), label=curve["name"])
                    continue
                (drawn,) = axes.plot(x, line.to_numpy(), label=f"{curve['name']} median")
                axes.fill_between(
                    x,
                    curve["low"].to_numpy(),
                    curve["high"].to_numpy(),
                    color=drawn.get_color(),
                    alpha=0.25,
                    linewidth=0,
                    label=f"{curve['name']} {curve['band']}",
                )
            for _, value, level in lines:
                colour = LEVEL_COLOURS.get(level, "0.4")
                axes.axhline(value, color=colour, linestyle="--", linewidth=1, label=level or None)
            if np.issubdtype(time.dtype, np.datetime64):
                _date_axis(axes.xaxis)
            axes.set_xlabel(_label("time", _units(time)))
            axes.set_ylabel(labels)
            if len(axes.get_legend_handles_labels()[1]) > 1:
                axes.legend(fontsize="small")
            self._title(axes)

        self.plot.show(draw, self._described(sentence))
        self.bands = [c["name"] for c in curves if c["band"]]


# --- maps -----------------------------------------------------------------------------------------
def _grid_dims(variable: xr.DataArray) -> tuple[str, str] | None:
    """(y, x) dims of a gridded variable (y/x or lat/lon) with at most one more dim, else None."""
    ydim = next((d for d in variable.dims if d in _Y_DIMS), None)
    xdim = next((d for d in variable.dims if d in _X_DIMS), None)
    if ydim and xdim and variable.ndim <= 3 and np.issubdtype(variable.dtype, np.number):
        return ydim, xdim
    return None


def _is_geographic(field: xr.DataArray, ydim: str, xdim: str) -> bool:
    if {ydim, xdim} <= _GEOGRAPHIC:
        return True
    return all("degree" in str(field[d].attrs.get("units", "")).lower() for d in (ydim, xdim))


def _edges(coordinate: np.ndarray) -> tuple[float, float]:
    """Outer edges of cells centred on ``coordinate``."""
    half = (
        abs(coordinate[-1] - coordinate[0]) / (len(coordinate) - 1) / 2
        if len(coordinate) > 1
        else 0.5
    )
    return float(coordinate.min() - half), float(coordinate.max() + half)


def _point_columns(points: pd.DataFrame) -> tuple[str, str]:
    for x, y in (("x", "y"), ("lon", "lat"), ("longitude", "latitude")):
        if {x, y} <= set(points.columns):
            return x, y
    raise ValueError(
        "MapView points need x and y (or lon and lat) columns; they have "
        f"{', '.join(map(str, points.columns)) or 'none'}."
    )


class MapView(_VariableView):
    """A gridded field (dims ``y``, ``x`` or ``lat``, ``lon``) as a map, coloured by value, with a
    colourbar in the variable's units.

    A grid larger than the picture is averaged down to its pixels with datashader
    (``shown_shape`` is the size drawn). Geographic coordinates get longitude/latitude axes and
    the aspect of a map at their mean latitude (no web tiles: it works offline). ``points``, a
    DataFrame with ``x``/``y`` or ``lon``/``lat`` columns and an optional ``label``, are marked on
    top (gauges, buildings). The "Variable" dropdown picks among the gridded variables; one with
    a third dim (``time``, ``member``, ...) gets a slider for the slice::

        view = MapView(flood_result, variable="max_depth", points=gauges)
        view.update(new_result)
    """

    css_class = "dte-map-view"
    plot_size = (7.0, 4.5)

    def __init__(self, data=None, variable=None, title="", cmap="viridis", points=None):
        self.cmap = cmap
        self.points = None
        self.shown_shape: tuple[int, int] | None = None
        self._slice_dim: str | None = None
        self.slice_picker = widgets.SelectionSlider(
            description="Slice", options=[("", 0)], continuous_update=False
        )
        self.slice_picker.layout.display = "none"
        super().__init__(title, [self.slice_picker])
        self.slice_picker.observe(self._on_control, "value")
        self.update(data, variable, points)

    def update(self, data=None, variable: str | None = None, points=None) -> None:
        """Show ``data``; ``variable`` chooses, else the current choice or the first gridded
        variable. ``points`` replaces the marked points (None keeps them)."""
        if points is not None:
            _point_columns(points)
            self.points = points
        if not self._start(data, "MapView"):
            self.shown_shape = None
            return
        names = [n for n, v in self.data.data_vars.items() if _grid_dims(v)]
        chosen = self._choose(
            names, variable, "a variable with dims (y, x) or (lat, lon), and at most one more"
        )
        self._offer(names, chosen)
        self._offer_slices(self.data[chosen])
        self._redraw()

    def _offer_slices(self, variable: xr.DataArray) -> None:
        """A slider over the variable's third dim, if it has one."""
        ydim, xdim = _grid_dims(variable)
        extra = [d for d in variable.dims if d not in (ydim, xdim)]
        self._holding = True
        try:
            if extra:
                dim = extra[0]
                values = variable[dim].to_numpy()  # positions when the dim has no coordinate
                labels = (
                    _format_dates(values)
                    if np.issubdtype(values.dtype, np.datetime64)
                    else [_format_value(value) for value in values]
                )
                self.slice_picker.options = [(label, i) for i, label in enumerate(labels)]
                self.slice_picker.description = dim.replace("_", " ").capitalize()
            else:
                self.slice_picker.options = [("", 0)]
        finally:
            self._holding = False
        self.slice_picker.layout.display = "" if extra else "none"
        self._slice_dim = extra[0] if extra else None

    def _on_control(self, change) -> None:
        if change["owner"] is self.variable_picker and not self._holding and change["new"]:
            self._offer_slices(self.data[change["new"]])
        super()._on_control(change)

    def _redraw(self) -> None:
        name = self.variable_picker.value
        variable = self.data[name]
        ydim, xdim = _grid_dims(variable)
        where = ""
        if self._slice_dim:
            variable = variable.isel({self._slice_dim: self.slice_picker.value})
            where = f" at {self._slice_dim} {self.slice_picker.label}"
        frame = _map_frame(variable, ydim, xdim, self.plot_size)
        # the figure narrows to fit a tall map, so the picture has no empty half
        self.plot.size = frame["size"]
        field = variable.transpose(ydim, xdim).sortby([ydim, xdim])
        field = _aggregated(field, _pixels(frame["size"]))
        self.shown_shape = field.shape
        label = _label(name, _units(variable))
        points = self.points if self.points is not None and len(self.points) else None
        sentence = (
            f"Map of {label}{where}, {variable.sizes[xdim]} × {variable.sizes[ydim]} cells over "
            f"{frame['x_name']} {_span(variable[xdim])} and {frame['y_name']} "
            f"{_span(variable[ydim])}"
        )
        if points is not None:
            sentence += f", {len(points)} point{'s' if len(points) > 1 else ''} marked"

        def draw(figure):
            axes = figure.add_subplot()
            image = axes.imshow(
                field.to_numpy(),
                origin="lower",
                extent=frame["extent"],
                aspect=frame["aspect"],
                cmap=self.cmap,
                interpolation="nearest",
            )
            figure.colorbar(image, ax=axes, label=label)
            axes.set_xlabel(frame["x_label"])
            axes.set_ylabel(frame["y_label"])
            if points is not None:
                _mark(axes, points)
            self._title(axes)

        self.plot.show(draw, self._described(sentence))


def _map_frame(variable: xr.DataArray, ydim: str, xdim: str, size: tuple[float, float]) -> dict:
    """Axis labels, extent, aspect and figure size of a map of ``variable``."""
    x, y = np.sort(variable[xdim].to_numpy()), np.sort(variable[ydim].to_numpy())
    extent = (*_edges(x), *_edges(y))
    if _is_geographic(variable, ydim, xdim):
        names = ("longitude", "latitude")
        labels = ("longitude (°E)", "latitude (°N)")
        # a degree of longitude is cos(latitude) times as long as a degree of latitude
        aspect = 1 / max(math.cos(math.radians(float(np.mean(y)))), 0.01)
    else:
        names = (xdim, ydim)
        labels = tuple(_label(d, _units(variable[d])) for d in (xdim, ydim))
        aspect = "equal" if _units(variable[xdim]) == _units(variable[ydim]) else "auto"
    width = size[0]
    if aspect != "auto":
        y_scale = 1.0 if aspect == "equal" else aspect
        shape = (extent[1] - extent[0]) / ((extent[3] - extent[2]) * y_scale)
        # room for the axis labels and the colourbar beside a map as high as the figure allows
        width = min(size[0], max(3.5, (size[1] - 0.8) * shape + 1.8))
    return {
        "extent": extent,
        "aspect": aspect,
        "x_name": names[0],
        "y_name": names[1],
        "x_label": labels[0],
        "y_label": labels[1],
        "size": (width, size[1]),
    }


def _mark(axes, points: pd.DataFrame) -> None:
    """Points (and their labels) on a map."""
    px, py = _point_columns(points)
    axes.scatter(points[px], points[py], s=24, c="white", edgecolors="black", zorder=3)
    labels = points["label"] if "label" in points else ()
    for text, x, y in zip(labels, points[px], points[py], strict=False):
        axes.annotate(
            str(text), (x, y), xytext=(4, 4), textcoords="offset points", fontsize="small"
        )


# --- histograms -----------------------------------------------------------------------------------
class HistogramView(_VariableView):
    """A histogram of a variable's values (all of them, whatever its dims), its units on the x
    axis, with optional vertical reference lines ``markers={"mean": 10.2, "beam": 10}``.

    ``data``: a DataArray, pandas Series or 1-D array, or a Dataset / DataFrame whose variable the
    "Variable" dropdown chooses (``variable`` preselects). NaNs are left out::

        energies = result.reconstructed_energy.sel(simulator="reference", energy=10)
        view = HistogramView(energies, markers={"beam": 10.0}, title="Energy response, 10 GeV")
    """

    css_class = "dte-histogram-view"

    def __init__(self, data=None, variable=None, bins: int = 40, title: str = "", markers=None):
        self.bins = bins
        self.markers = dict(markers or {})
        super().__init__(title)
        self.update(data, variable)

    def update(self, data=None, variable: str | None = None, markers=None) -> None:
        """Show ``data``; ``variable`` chooses, else the current choice or the first numeric
        variable. ``markers`` replaces the reference lines (None keeps them)."""
        if markers is not None:
            self.markers = dict(markers)
        if not self._start(data, "HistogramView"):
            return
        names = [n for n, v in self.data.data_vars.items() if np.issubdtype(v.dtype, np.number)]
        chosen = self._choose(names, variable, "a numeric variable")
        self._offer(names, chosen)
        self._redraw()

    def _redraw(self) -> None:
        name = self.variable_picker.value
        variable = self.data[name]
        values = variable.to_numpy().astype(float).ravel()
        values = values[np.isfinite(values)]
        if not values.size:
            self.plot.clear(f"{name} has no values to count (all missing).")
            return
        label = _label(name, _units(variable))
        units = _units(variable)
        sentence = (
            f"Histogram of {label}: {values.size} values in {self.bins} bins from "
            f"{_format_value(values.min(), units)} to {_format_value(values.max(), units)}"
        )
        if self.markers:
            sentence += "; lines at " + ", ".join(
                f"{marker} {_format_value(float(value), units)}"
                for marker, value in self.markers.items()
            )

        def draw(figure):
            axes = figure.add_subplot()
            axes.hist(values, bins=self.bins, color="#1f5fa8", alpha=0.85)
            for index, (marker, value) in enumerate(self.markers.items()):
                axes.axvline(
                    float(value),
                    color=f"C{index + 1}",
                    linestyle="--",
                    label=f"{marker} = {float(value):.4g}",
                )
            axes.set_xlabel(label)
            axes.set_ylabel("count")
            if self.markers:
                axes.legend(fontsize="small")
            self._title(axes)

        self.plot.show(draw, self._described(sentence))


# --- spectra and spectrograms ---------------------------------------------------------------------
def _frequency_dim(variable: xr.DataArray) -> str | None:
    return next((d for d in variable.dims if "frequency" in d or d in ("f", "freq")), None)


def _time_dim(variable: xr.DataArray) -> str | None:
    for dim in variable.dims:
        if "time" in dim or (
            dim in variable.coords and np.issubdtype(variable[dim].dtype, np.datetime64)
        ):
            return dim
    return None


def _spectral_kind(variable: xr.DataArray) -> str | None:
    """ "spectrum" (frequency only), "spectrogram" (frequency and time) or None."""
    if not np.issubdtype(variable.dtype, np.number) or not _frequency_dim(variable):
        return None
    if variable.ndim == 1:
        return "spectrum"
    if variable.ndim == 2 and _time_dim(variable):
        return "spectrogram"
    return None


def _plain_log_ticks(axis) -> None:
    """Ticks of a log frequency axis at 1, 2, 5 × 10ⁿ written as plain numbers (20, 50, 100)."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _log_norm(values: np.ndarray):
    """A logarithmic colour scale for positive values over more than a decade (an ASD), else
    linear (a Q-scan's energies start at 0)."""
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 10:
        return LogNorm(finite.min(), finite.max())
    return None


class SpectrogramView(_VariableView):
    """A time–frequency image with a logarithmic frequency axis and a colourbar in the variable's
    units (the detector twin's ``qscan``, an ASD over time), or a spectrum, a variable along
    ``frequency`` only, as a log-log line (``strain_asd``).

    The "Variable" dropdown picks among the variables with a frequency dim (a name containing
    "frequency") and, for images, a time dim (a name containing "time"); ``variable``
    preselects. Images larger than the picture are averaged down to its pixels, in log frequency::

        view = SpectrogramView(detector_result, variable="qscan", title="Q-scan of the strain")
        view.update(detector_result, variable="strain_asd")
    """

    css_class = "dte-spectrogram-view"
    plot_size = (7.0, 3.6)

    def __init__(self, data=None, variable=None, title: str = ""):
        self.shown_shape: tuple[int, ...] | None = None
        super().__init__(title)
        self.update(data, variable)

    def update(self, data=None, variable: str | None = None) -> None:
        """Show ``data``; ``variable`` chooses, else the current choice or the first spectrogram
        (or spectrum)."""
        if not self._start(data, "SpectrogramView"):
            self.shown_shape = None
            return
        kinds = {n: _spectral_kind(v) for n, v in self.data.data_vars.items()}
        names = sorted((n for n in kinds if kinds[n]), key=lambda n: kinds[n] != "spectrogram")
        need = "a variable with a frequency dim, alone or with a time dim"
        chosen = self._choose(names, variable, need)
        self._offer(names, chosen)
        self._redraw()

    def _redraw(self) -> None:
        name = self.variable_picker.value
        variable = self.data[name]
        fdim = _frequency_dim(variable)
        variable = variable.isel({fdim: variable[fdim].to_numpy() > 0})  # 0 Hz has no log
        label = _label(name, _units(variable))
        f_label = _label(fdim, _units(variable[fdim]) or "Hz")
        if variable.ndim == 1:
            self._show_spectrum(variable, fdim, label, f_label)
        else:
            self._show_spectrogram(variable, fdim, label, f_label)

    def _show_spectrum(self, spectrum, fdim, label, f_label) -> None:
        values = spectrum.to_numpy()
        frequency = spectrum[fdim].to_numpy()
        self.shown_shape = values.shape
        positive = bool(np.nanmin(values) > 0) if values.size else False
        sentence = f"Spectrum of {label} against {fdim} {_span(spectrum[fdim])}, " + (
            "log-log" if positive else "log frequency"
        )

        def draw(figure):
            axes = figure.add_subplot()
            axes.plot(frequency, values)
            axes.set_xscale("log")
            _plain_log_ticks(axes.xaxis)
            if positive:
                axes.set_yscale("log")
            axes.set_xlabel(f_label)
            axes.set_ylabel(label)
            axes.grid(True, which="both", alpha=0.3)
            self._title(axes)

        self.plot.show(draw, self._described(sentence))

    def _show_spectrogram(self, image, fdim, label, f_label) -> None:
        tdim = _time_dim(image)
        image = image.transpose(fdim, tdim).sortby([fdim, tdim])
        # averaged in log frequency, the scale the picture has
        logged = image.assign_coords({fdim: np.log10(image[fdim].to_numpy())})
        clock = image[tdim].to_numpy()
        dated = np.issubdtype(clock.dtype, np.datetime64)
        if dated:
            logged = logged.assign_coords({tdim: (clock - clock[0]) / np.timedelta64(1, "s")})
        field = _aggregated(logged, _pixels(self.plot_size))
        self.shown_shape = field.shape
        frequency = 10 ** field[fdim].to_numpy()
        time = field[tdim].to_numpy()
        if dated:
            time = clock[0] + (time * 1e9).astype("timedelta64[ns]")
        values = field.to_numpy()
        sentence = (
            f"Spectrogram of {label} over {tdim} {_span(image[tdim])} and {fdim} "
            f"{_span(image[fdim])} (log frequency)"
        )

        def draw(figure):
            axes = figure.add_subplot()
            mesh = axes.pcolormesh(
                time, frequency, values, shading="nearest", cmap="viridis", norm=_log_norm(values)
            )
            axes.set_yscale("log")
            _plain_log_ticks(axes.yaxis)
            if dated:
                _date_axis(axes.xaxis)
            figure.colorbar(mesh, ax=axes, label=label)
            axes.set_xlabel(_label(tdim, _units(image[tdim])))
            axes.set_ylabel(f_label)
            self._title(axes)

        self.plot.show(draw, self._described(sentence))
