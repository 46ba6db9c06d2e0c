"""Every control of the DTE widgets carries a label, and every button a name and a tooltip:
what a screen reader announces and what keyboard users tab through."""

import ipywidgets as widgets
import pytest

from dte_twins.environment.flood import FloodTwin
from dte_twins.physics.detector_noise import DetectorNoiseTwin
from dte_widgets import CatalogBrowser, LiveFeedView, RunHistory, TwinDashboard
from tests.dte_twins.synthetic import synthetic_forcing, valley


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def controls(root):
    """The widgets a user operates: values they set and buttons they press."""
    return [
        widget
        for widget in walk(root)
        if isinstance(widget, widgets.ValueWidget | widgets.Button)
        and not isinstance(widget, widgets.HTML | widgets.Label | widgets.IntProgress)
        and widget.layout.display != "none"
    ]


def unlabelled(root) -> list[str]:
    problems = []
    for control in controls(root):
        name = getattr(control, "description", "")
        if not name.strip():
            problems.append(f"{type(control).__name__} without a label")
        if isinstance(control, widgets.Button) and not control.tooltip:
            problems.append(f"button {name!r} without a tooltip")
    return problems


@pytest.mark.parametrize(
    "make",
    [
        lambda: TwinDashboard(FloodTwin(forcing=synthetic_forcing(), terrain=valley())),
        lambda: TwinDashboard(DetectorNoiseTwin(), compute=False),
        lambda: CatalogBrowser(),
        lambda: RunHistory(),
    ],
    ids=["flood dashboard", "detector dashboard", "catalog browser", "run history"],
)
def test_every_control_has_a_label_and_every_button_a_tooltip(make):
    root = make()
    try:
        assert len(controls(root)) >= 3
        assert unlabelled(root) == []
    finally:
        root.close()


def test_the_live_view_controls_are_labelled_too():
    from catalogs.live.feeds import RiverGauge, play

    observations, _ = play(RiverGauge(), 5)
    view = LiveFeedView(RiverGauge(), source=iter(observations))
    try:
        assert unlabelled(view) == []
    finally:
        view.close()


def test_a_dashboard_run_result_keeps_every_control_labelled():
    dashboard = TwinDashboard(FloodTwin(forcing=synthetic_forcing(), terrain=valley()))
    dashboard.runner.start()
    assert dashboard.runner.wait(120) == "done", dashboard.runner.error
    assert unlabelled(dashboard) == []
