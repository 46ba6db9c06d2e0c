"""What the result views share: the ``_VariableView`` base class and the helpers they all use.

Every view is a ``VBox`` with a "Variable" dropdown (hidden while there is one choice), any
controls of its own and a ``PlotArea`` (``plotting``); ``update(data, ...)`` gives it new data and
``update()`` with none shows a sentence instead of a plot. The helpers turn pandas and NumPy data
into a Dataset, refuse a variable a view cannot draw in a sentence naming those it can, write
units, values and spans for axis labels and descriptions, and average a grid larger than the
picture down to its pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

from dte_widgets.plotting import DPI, PlotArea

__all__ = ["NO_DATA"]

NO_DATA = "No data to show yet."


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
