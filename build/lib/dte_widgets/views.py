"""Views of twin results: time series, maps, histograms and spectrograms, drawn as images.

The views read what twins return: ``xarray.Dataset`` objects whose variables carry ``units``,
ensembles as ``<var>_quantile`` (dim ``quantile``) or ``<var>`` along ``member``; pandas and
NumPy data work too. Each lives in a module of its own, gathered here:

- ``TimeSeriesView``: ``dte_widgets.time_series_view``
- ``MapView``: ``dte_widgets.map_view``
- ``HistogramView``: ``dte_widgets.histogram_view``
- ``SpectrogramView``: ``dte_widgets.spectrogram_view``

What they share (the ``_VariableView`` base with its "Variable" dropdown and ``PlotArea``, and
the helpers that label, describe and aggregate) is in ``dte_widgets.view_base``.
"""

from __future__ import annotations

from dte_widgets.histogram_view import HistogramView
from dte_widgets.map_view import MapView
from dte_widgets.spectrogram_view import SpectrogramView
from dte_widgets.time_series_view import LEVEL_COLOURS as LEVEL_COLOURS
from dte_widgets.time_series_view import TimeSeriesView
from dte_widgets.view_base import NO_DATA as NO_DATA

__all__ = ["TimeSeriesView", "MapView", "HistogramView", "SpectrogramView"]
