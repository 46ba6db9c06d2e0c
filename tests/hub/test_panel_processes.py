"""Which ``panel serve`` process runs a viewer's sessions (``hub.dashboards.panel_server``)."""

from collections import Counter

from hub.dashboards.panel_server import PanelServer, process_of
from hub.dashboards.registry import DashboardRegistry


def servers(tmp_path, count: int) -> list[PanelServer]:
    registry = DashboardRegistry(tmp_path / "dashboards")
    return [
        PanelServer(registry, 9000 + number, "/services/dashboards/", number=number)
        for number in range(1, count + 1)
    ]


def test_a_viewers_sessions_always_reach_the_same_process(tmp_path):
    """The page makes the session in one process; its websocket, and the viewer's next pages,
    must reach that process, also after the service started again (new server objects)."""
    first, again = servers(tmp_path, 3), servers(tmp_path, 3)
    for viewer in ("ada", "grace", "alan", "barbara"):
        chosen = process_of(viewer, first)
        assert process_of(viewer, first) is chosen
        assert process_of(viewer, again).port == chosen.port


def test_viewers_spread_over_the_processes(tmp_path):
    panels = servers(tmp_path, 3)
    used = Counter(process_of(f"viewer-{n}", panels).port for n in range(300))
    assert set(used) == {p.port for p in panels}
    assert min(used.values()) > 60  # each takes about a third


def test_each_process_keeps_its_own_log(tmp_path):
    assert [p.log_name for p in servers(tmp_path, 2)] == ["panel-1.log", "panel-2.log"]


def test_a_panel_session_keeps_its_first_viewer_and_only_the_newest_are_kept(monkeypatch):
    from hub.dashboards.service import PageViewers

    monkeypatch.setattr(PageViewers, "LIMIT", 3)
    viewers = PageViewers()
    assert viewers.claim("session-1", "ada") == "ada"
    assert viewers.claim("session-1", "grace") == "ada"  # a page never joins a session
    for n in range(2, 6):
        viewers.claim(f"session-{n}", "ada")
    assert list(viewers) == ["session-3", "session-4", "session-5"]
