"""``TwinDashboard``: a whole twin application from one line, for any ``Twin``.

It composes the widgets of this package: the parameter form, the scenario runner (run button,
progress, cancel), the alert banner, result views chosen from what the twin returns (time
series, maps, spectra, distributions), compute control and the run history. The same object
is shown in JupyterLab, in Voila and in ``panel serve``.

Result views are made from the first result and updated by later ones: a view is offered when
the result has variables it can draw (``views_for``), so a new twin needs no dashboard code.
"""

from __future__ import annotations

import html
import logging

import ipywidgets as widgets
import xarray as xr

from dte_widgets.alert_banner import AlertBanner
from dte_widgets.forms import ParameterForm
from dte_widgets.scenarios import ScenarioRunner
from dte_widgets.views import HistogramView, MapView, SpectrogramView, TimeSeriesView
from dte_widgets.voila_viewer import session_viewer

__all__ = ["TwinDashboard", "views_for"]

log = logging.getLogger(__name__)


def events_of(result: xr.Dataset, first=()) -> xr.Dataset:
    """The per-event variables of a result (headline ones first), at the first value of every
    other dimension."""
    per_event = [name for name, variable in result.data_vars.items() if "event" in variable.dims]
    if not per_event:
        raise ValueError("the result has no per-event variables")
    per_event.sort(key=lambda name: name not in first)
    selected = result[per_event]
    return selected.isel({dim: 0 for dim in selected.dims if dim != "event"})


def _first_of(result: xr.Dataset, names, dims: set[str]) -> str | None:
    """The first of ``names`` the result has with one of ``dims``."""
    for name in names:
        if name in result.data_vars and dims & set(result[name].dims):
            return name
    return None


def views_for(result: xr.Dataset, headline=(), thresholds=None) -> dict[str, widgets.Widget]:
    """A view per kind the result has variables for (tab title -> view), each showing the
    twin's ``headline`` variables first and its ``thresholds`` (name -> levels) as lines."""
    makers = {
        "Time series": lambda: TimeSeriesView(
            result,
            variables=_first_of(result, headline, {"time"}),
            thresholds=thresholds or None,
        ),
        "Map": lambda: MapView(result, variable=_first_of(result, headline, {"x", "lon"})),
        "Spectra": lambda: SpectrogramView(
            result, variable=_first_of(result, headline, {"frequency", "scan_frequency"})
        ),
        "Distribution": lambda: HistogramView(events_of(result, headline)),
    }
    views = {}
    for title, make in makers.items():
        try:
            views[title] = make()
        except ValueError:
            continue  # nothing of this kind in the result
    return views


def _update(title: str, view, result: xr.Dataset) -> None:
    if title == "Distribution":
        result = events_of(result, ())
    view.update(result)  # each view keeps the variable the user chose


class TwinDashboard(widgets.VBox):
    """A twin application: parameters, run with progress, alerts, results, compute, history.

    ``TwinDashboard(twin, parameters=None, client=None, compute=True, history=True)``:
    ``parameters`` restricts and orders the form; ``client`` is the Dask client for
    ensembles (default: the compute control's cluster if one is running, else the platform's
    compute); ``compute`` and ``history`` add those sections. After a run, ``dashboard.result``
    is the result and ``dashboard.views`` the result views by tab title.
    """

    def __init__(
        self,
        twin,
        parameters=None,
        client=None,
        compute: bool = True,
        history: bool = True,
        title: str | None = None,
        **kwargs,
    ):
        self.twin = twin
        # in a ``panel serve`` session (many viewers, one process) the runs are its viewer's
        if getattr(twin, "run_user", "") is None:
            twin.run_user = session_viewer()
        self.result = None
        self.views: dict[str, widgets.Widget] = {}
        self.form = ParameterForm(twin, parameters)
        self.runner = ScenarioRunner(twin, form=self.form, client=client)
        self.alerts = AlertBanner()
        # shown or hidden, never added later: in ``panel serve`` a widget made before the page
        # loaded and displayed only afterwards never reaches the page (ipywidgets_bokeh)
        self.results = widgets.Tab(layout=widgets.Layout(min_height="22em", display="none"))
        self.placeholder = widgets.HTML("<p>Run the twin to see its results here.</p>")
        self.results_area = widgets.VBox(
            [self.placeholder, self.results], layout=widgets.Layout(flex="1")
        )
        self.runner.on_result(self._show)

        sections = []
        self.compute = self.history = None
        if compute:
            from dte_widgets.compute import ComputeControl

            self.compute = ComputeControl()
            if client is None:
                self.compute.observe(self._use_cluster, "status")
            sections.append(("Compute", self.compute))
        if history:
            from dte_widgets.history import RunHistory

            self.history = RunHistory(twin=type(twin).__name__)
            sections.append(("Run history", self.history))

        header = widgets.HTML(_header(twin, title))
        controls = widgets.VBox(
            [self.form, self.runner], layout=widgets.Layout(width="30em", min_width="22em")
        )
        body = widgets.HBox(
            [controls, widgets.VBox([self.alerts, self.results_area], layout={"flex": "1"})],
            layout=widgets.Layout(flex_flow="row wrap", justify_content="space-between"),
        )
        children = [header, body]
        if sections:
            more = widgets.Accordion(children=[widget for _, widget in sections])
            for index, (name, _) in enumerate(sections):
                more.set_title(index, name)
            children.append(more)
        super().__init__(children, **kwargs)
        self.add_class("dte-twin-dashboard")

    def close(self) -> None:
        """Close the parts that hold something beyond their widgets: the form (its uploaded
        files), the runner (the run under way is cancelled), the compute control (a cluster it
        started), the history and the result views. A ``panel serve`` session closes every
        widget it made when it ends (``dte_widgets.panel_app``)."""
        parts = [self.form, self.runner, self.compute, self.history, *self.views.values()]
        for part in parts:
            if part is None:
                continue
            try:
                part.close()
            except Exception:  # one part that fails to close must not keep the others open
                log.exception("closing the %s of a dashboard failed", type(part).__name__)
        super().close()

    def _show(self, result: xr.Dataset) -> None:
        """Called by the runner after each run, in its background thread."""
        self.result = result
        self.alerts.update(self.twin.alerts(result))
        if not self.views:
            thresholds = self.twin.default_thresholds(self.twin.result_settings(result))
            self.views = views_for(result, self.twin.headline_variables, thresholds)
            self.results.children = list(self.views.values())
            for index, title in enumerate(self.views):
                self.results.set_title(index, title)
            if self.views:
                self.placeholder.layout.display, self.results.layout.display = "none", ""
        else:
            for title, view in self.views.items():
                try:
                    _update(title, view, result)
                except ValueError as error:  # an ensemble after a run may lack a variable
                    log.info("view %s not updated: %s", title, error)
        if self.history is not None:
            self.history.refresh()

    def _use_cluster(self, change) -> None:
        self.runner.client = self.compute.client if change["new"] == "running" else None


def _header(twin, title: str | None) -> str:
    doc = (type(twin).__doc__ or "").strip().splitlines()
    heading = title or (doc[0].rstrip(".") if doc else type(twin).__name__)
    return (
        f"<h2 class='dte-dashboard-title'>{html.escape(heading)}</h2>"
        f"<p class='dte-dashboard-twin'>{html.escape(type(twin).__name__)} "
        f"{html.escape(getattr(twin, 'twin_version', ''))}</p>"
    )
