"""``MapView``: a gridded field as a map coloured by value, with marked points and a slider over
a third dim."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import pandas as pd
import xarray as xr

from dte_widgets.view_base import (
    _aggregated,
    _format_dates,
    _format_value,
    _label,
    _pixels,
    _span,
    _units,
    _VariableView,
)

__all__ = ["MapView"]

_Y_DIMS, _X_DIMS = ("y", "lat", "latitude"), ("x", "lon", "longitude")
_GEOGRAPHIC = {"lat", "latitude", "lon", "longitude"}


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
