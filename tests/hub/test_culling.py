"""Idle user servers are stopped by jupyterhub-idle-culler, and their Dask clusters with them."""

import time

import pytest

from tests.hub.conftest import new_account
from tests.hub.platform import HubUser, running_platform

pytestmark = pytest.mark.slow

QUICK_CULLING = {"servers": {"idle_timeout": 6, "cull_every": 2}}


@pytest.fixture
def culling_platform(root):
    with running_platform(root / "state", settings=QUICK_CULLING) as platform:
        yield platform


def test_an_idle_server_is_culled_and_its_clusters_stopped(culling_platform):
    admin = HubUser(culling_platform, "admin", culling_platform.admin_password)
    admin.login()
    admin.create_token()
    person = new_account(culling_platform, admin, developer=True, prefix="idle")
    person.start_server()
    person.run_code(
        "from dask_gateway import Gateway\nGateway().new_cluster(shutdown_on_close=False)\n"
    )
    assert person.gateway_api("GET", "/api/v1/clusters/").json()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not person.api("GET", f"/hub/api/users/{person.name}").json()["servers"]:
            break
        time.sleep(1)
    else:
        pytest.fail("the idle server was not culled within 60 s")
    running = person.gateway_api("GET", "/api/v1/clusters/?status=pending,running").json()
    assert running == {}
