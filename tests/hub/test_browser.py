"""A person in a real browser (headless Chromium): log in, JupyterLab, a Dask dashboard."""

import pytest

from tests.browser import browser_page, log_in
from tests.hub.platform import HubUser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def running_cluster(platform, admin):
    created = admin.gateway_api("POST", "/api/v1/clusters/", json={"cluster_options": {}})
    assert created.status_code == 201, created.text
    name = created.json()["name"]
    ready = admin.gateway_api("GET", f"/api/v1/clusters/{name}?wait")
    assert ready.json()["status"] == "RUNNING"
    yield name
    admin.gateway_api("DELETE", f"/api/v1/clusters/{name}")


def test_log_in_reach_jupyterlab_and_see_a_live_dask_dashboard(platform, running_cluster):
    admin = HubUser(platform, "admin", platform.admin_password)
    with browser_page() as (page, requests, console_errors):
        log_in(page, platform.url, admin)
        # A DT developer lands in JupyterLab, started for them.
        page.wait_for_url("**/user/admin/lab**", timeout=60_000)
        page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)

        page.goto(f"{platform.url}/services/dask-gateway/clusters/{running_cluster}/status")
        # Bokeh draws the dashboard only once its websocket, relayed by the front door, works.
        page.wait_for_selector(".bk-Canvas, canvas", timeout=30_000)
        assert "Dask" in page.title()

        page.goto(f"{platform.url}/hub/logout")
        page.goto(f"{platform.url}/services/dask-gateway/clusters/{running_cluster}/status")
        page.wait_for_url("**/hub/login**", timeout=30_000)

    assert requests.offsite == []
    assert console_errors == []
