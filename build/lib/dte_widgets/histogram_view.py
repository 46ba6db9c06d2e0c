"""``HistogramView``: a histogram of a variable's values, with vertical reference lines."""

from __future__ import annotations

import numpy as np

from dte_widgets.view_base import _format_value, _label, _units, _VariableView

__all__ = ["HistogramView"]


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
