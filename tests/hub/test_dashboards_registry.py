"""The registry of published dashboards: versions, atomic republishing, refusals that explain."""

import pytest

from hub.dashboards.registry import Dashboard, DashboardRegistry, PublishError
from hub.dashboards.service import publish_platform_dashboards
from hub.dashboards.twin_notebooks import TWIN_NOTEBOOKS
from tests.hub.registry_helpers import notebook, publish


@pytest.fixture
def registry(tmp_path):
    return DashboardRegistry(tmp_path / "dashboards")


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


def test_a_number_is_never_reused_after_an_unpublish(registry):
    first = publish(registry)
    registry.unpublish("river")
    again = publish(registry, content=notebook("print('new')"))
    assert again.version == first.version + 1
    assert "new" in registry.notebook_path(again).read_text()
