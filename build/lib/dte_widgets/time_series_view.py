"""``TimeSeriesView``: lines over time of a twin result's variables, ensembles as a median and a
band, thresholds as horizontal lines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from dte_widgets.view_base import _date_axis, _label, _span, _units, _VariableView

__all__ = ["TimeSeriesView", "LEVEL_COLOURS"]

#: line colours of threshold levels (the alert levels of the twins), others grey
LEVEL_COLOURS = {"info": "#1f5fa8", "watch": "#b58900", "warning": "#d9480f", "danger": "#b00020"}


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
