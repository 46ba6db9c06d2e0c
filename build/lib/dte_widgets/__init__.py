"""DTE widgets: ipywidgets to build twin notebooks and dashboards from a few lines.

``TwinDashboard(FloodTwin(catalog=open_catalog()))`` composes a parameter form, a run button
with progress, compute control, result views, alerts and the run history; each part is also a
widget of its own. They work alike in JupyterLab, Voila and ``panel serve``
(``dte_widgets.panel_app.servable``), and every plot is drawn in the kernel, so nothing is
loaded from outside the platform.

Names are imported on first use, so a dashboard pays only for the widgets it shows.
"""

from __future__ import annotations

from importlib import import_module

#: public name -> module of this package that defines it
_EXPORTS = {
    "ParameterForm": "forms",
    "CatalogBrowser": "catalog_browser",
    "ComputeControl": "compute",
    "ScenarioRunner": "scenarios",
    "RunHistory": "history",
    "LiveFeedView": "live_view",
    "TimeSeriesView": "views",
    "MapView": "views",
    "HistogramView": "views",
    "SpectrogramView": "views",
    "AlertBanner": "alert_banner",
    "TwinDashboard": "dashboard",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dte_widgets' has no attribute {name!r}")
    value = getattr(import_module(f"dte_widgets.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
