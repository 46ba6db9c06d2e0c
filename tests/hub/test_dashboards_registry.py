"""The registry of published dashboards: versions, atomic republishing, refusals that explain."""

import nbformat
import pytest

from hub.dashboards.registry import Dashboard, DashboardRegistry, PublishError
from hub.dashboards.service import publish_platform_dashboards
from hub.dashboards.twin_notebooks import TWIN_NOTEBOOKS


def notebook(text="print('hello')") -> str:
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_markdown_cell("# A twin\nIt forecasts."),
        nbformat.v4.new_code_cell(text),
    ]
    return nbformat.writes(book)


@pytest.fixture
def registry(tmp_path):
    return DashboardRegistry(tmp_path / "dashboards")


def publish(registry, slug="river", owner="ada", groups=("dt-users",), **fields):
    return registry.publish(
        slug,
        fields.pop("content", notebook()),
        title=fields.pop("title", "River"),
        owner=owner,
        groups=list(groups),
        **fields,
    )


def test_republishing_makes_a_new_version_and_keeps_the_old_file_for_open_sessions(registry):
    first = publish(registry)
    old_file = registry.notebook_path(first)
    second = publish(registry, content=notebook("print('v2')"), owner="someone-else")
    assert (first.version, second.version) == (1, 2)
    assert second.owner == "ada"  # ownership does not move with a republish
    assert old_file.exists() and "v2" in registry.notebook_path(second).read_text()
    assert registry.get("river").version == 2


def test_old_versions_are_pruned_after_three(registry):
    for _ in range(5):
        current = publish(registry)
    kept = sorted(p.name for p in registry.notebook_path(current).parent.glob("*.ipynb"))
    assert kept == ["v3.ipynb", "v4.ipynb", "v5.ipynb"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "Bad Name"}, "lowercase letters"),
        ({"title": "  "}, "needs a title"),
        ({"domain": "astrology"}, "domain 'astrology'"),
        ({"content": "{not json"}, "not a valid Jupyter notebook"),
        ({"content": '{"cells": "x"}'}, "not a valid Jupyter notebook"),
    ],
)
def test_refusals_say_what_was_wrong(registry, fields, message):
    with pytest.raises(PublishError, match=message):
        publish(registry, **fields)
    assert registry.all() == []


def test_who_may_open_and_who_may_change():
    dashboard = Dashboard("river", "River", "", "environment", "ada", ["dt-users"])
    assert dashboard.visible_to({"name": "bo", "groups": ["dt-users"]})
    assert not dashboard.visible_to({"name": "cy", "groups": ["dt-developers"]})
    assert dashboard.visible_to({"name": "ada", "groups": []})
    assert dashboard.visible_to({"name": "root", "admin": True})
    assert dashboard.changeable_by({"name": "ada"})
    assert not dashboard.changeable_by({"name": "bo", "groups": ["dt-users"]})


def test_the_twin_notebooks_are_published_once(registry):
    publish_platform_dashboards(registry, owner="admin")
    publish_platform_dashboards(registry, owner="admin")  # a restart changes nothing
    dashboards = {d.slug: d for d in registry.all()}
    assert set(dashboards) == set(TWIN_NOTEBOOKS)
    assert dashboards["flood"].title == "Flood early warning"
    assert dashboards["flood"].description.startswith("Rainfall and temperature")
    assert all(d.version == 1 for d in dashboards.values())


def test_voila_preheats_current_versions_only_and_keeps_its_guards(registry):
    from hub.dashboards.voila_server import VoilaServer

    publish(registry)
    publish(registry)  # v2 is current, v1 stays for open sessions
    command = VoilaServer(registry, 9999, "/services/dashboards/", pool_size=3).command()
    assert "--VoilaKernelManager.preheat_denylist=['river/v1.ipynb']" in command
    for guard in (
        "--Voila.ip=127.0.0.1",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.show_tracebacks=False",
        "--MappingKernelManager.allow_tracebacks=False",
        "--template=dte",
    ):
        assert guard in command
    # the token travels in a private file (JUPYTER_TOKEN_FILE), never on the command line
    server = VoilaServer(registry, 9999, "/services/dashboards/")
    assert "--Voila.auto_token=True" in server.command()
    assert not any(server.token in part for part in server.command())


def test_a_number_is_never_reused_after_an_unpublish(registry):
    first = publish(registry)
    registry.unpublish("river")
    again = publish(registry, content=notebook("print('new')"))
    assert again.version == first.version + 1
    assert "new" in registry.notebook_path(again).read_text()


def test_voila_fills_each_dashboards_own_pool(registry, tmp_path):
    """The operator's per-dashboard pools reach a real Voila: two kernels wait for the river
    dashboard, none for the lake (pool_size 0), and none for the river's old version."""
    import time

    from hub.dashboards.voila_server import VoilaServer
    from tests.hub.platform import free_port

    publish(registry)
    publish(registry)
    publish(registry, slug="lake")
    server = VoilaServer(
        registry,
        free_port(),
        "/services/dashboards/",
        pool_size=0,
        pools={"river": 2},
        environment={"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    server.start()
    log = registry.folder / "voila.log"
    try:
        deadline = time.monotonic() + 90
        while "Kernel pool of river/v2.ipynb is filled with 2" not in log.read_text():
            assert server.process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        time.sleep(2)  # any other pool would be filling by now
        text = log.read_text()
        assert text.count("Kernel started") == 2
        assert "lake/v1.ipynb is filled" not in text and "river/v1.ipynb is filled" not in text
    finally:
        server.stop()
