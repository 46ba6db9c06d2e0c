"""``SpectrogramView``: a time–frequency image on a log frequency axis, or a spectrum as a
log-log line."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from dte_widgets.view_base import (
    _aggregated,
    _date_axis,
    _label,
    _pixels,
    _span,
    _units,
    _VariableView,
)

__all__ = ["SpectrogramView"]


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
