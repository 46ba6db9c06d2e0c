"""``servable`` under ``panel serve``: a page broken by another session's widget is made again."""

import pytest

from dte_widgets import panel_app


class FlakyPane:
    """A pane whose page making is broken ``failures`` times, as Panel's walk over the process's
    ipywidgets is when another session's thread makes a widget meanwhile."""

    def __init__(self, failures, message="dictionary changed size during iteration"):
        self.failures, self.message, self.attempts = failures, message, 0

    def servable(self, title):
        self.attempts += 1
        if self.attempts <= self.failures:
            raise RuntimeError(self.message)
        return f"page {title}"


@pytest.fixture
def in_panel_serve(monkeypatch):
    import panel

    monkeypatch.setattr(panel_app, "served_by_panel", lambda: True)
    monkeypatch.setattr(panel_app, "keep_resources_local", lambda: None)
    monkeypatch.setattr(panel, "extension", lambda *a, **k: None)

    def serve(pane):
        monkeypatch.setattr(panel, "panel", lambda widget: pane)
        return pane

    return serve


def test_a_page_broken_by_another_sessions_widget_is_made_again(in_panel_serve):
    pane = in_panel_serve(FlakyPane(failures=3))
    assert panel_app.servable(object(), title="Flood") == "page Flood"
    assert pane.attempts == 4


def test_other_errors_and_a_race_that_never_ends_are_raised(in_panel_serve):
    in_panel_serve(FlakyPane(failures=1, message="something else"))
    with pytest.raises(RuntimeError, match="something else"):
        panel_app.servable(object())
    pane = in_panel_serve(FlakyPane(failures=100))
    with pytest.raises(RuntimeError, match="changed size"):
        panel_app.servable(object())
    assert pane.attempts == panel_app.RACE_RETRIES


def test_outside_panel_serve_the_widget_is_returned_unchanged():
    widget = object()
    assert panel_app.servable(widget) is widget
