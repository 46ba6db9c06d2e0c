"""User servers and Dask clusters through the real proxy, spawner and dask-gateway."""

import json

import nbformat
import pytest

from tests.hub.conftest import new_account
from tests.hub.platform import HubUser

pytestmark = pytest.mark.slow

CLUSTER_CODE = """
import json
from dask_gateway import Gateway
gateway = Gateway()
# Outlives this kernel, as a cluster a user leaves running would.
cluster = gateway.new_cluster(workers=2, shutdown_on_close=False)
client = cluster.get_client()
client.wait_for_workers(2, timeout=60)
total = client.submit(sum, range(10)).result()
workers = len(client.scheduler_info()["workers"])
print(json.dumps({"total": total, "workers": workers, "name": cluster.name,
                  "dashboard": cluster.dashboard_link}))
"""


@pytest.fixture(scope="module")
def alice(platform, admin):
    person = new_account(platform, admin, developer=True, prefix="alice")
    person.start_server()
    yield person


@pytest.fixture(scope="module")
def bob(platform, admin):
    return new_account(platform, admin, developer=True, prefix="bob")


@pytest.fixture(scope="module")
def alice_cluster(alice):
    return json.loads(alice.run_code(CLUSTER_CODE, timeout=180).strip().splitlines()[-1])


def test_kernel_runs_in_the_users_home_on_the_dte_kernel(platform, alice):
    out = alice.run_code(
        "import os, sys\n"
        "open('note.txt', 'w').write('kept')\n"
        "print(os.getcwd()); print(os.environ.get('DTE_KERNEL')); print(os.getuid())"
    )
    cwd, kernel_flag, uid = out.split()
    assert cwd == str(platform.state / "home" / alice.name)
    assert kernel_flag == "1"
    assert (platform.state / "home" / alice.name / "note.txt").read_text() == "kept"
    # The hub runs as root in CI: user code must not.
    assert uid != "0"


REACH_CODE = """
import json, os
from catalogs import open_catalog
from dte_twins.compute import find_client
catalog = open_catalog()
flows = catalog["nile_flow"].read()
client = find_client()
print(json.dumps({
    "entries": len(catalog.entries), "rows": len(flows),
    "shared": os.environ.get("DTE_CATALOG_SHARED"),
    "auth": os.environ.get("DASK_GATEWAY__AUTH__TYPE"),
    "cluster": type(client.cluster).__name__, "sum": client.submit(sum, [1, 2]).result(),
}))
"""


def test_a_notebook_on_the_dte_kernel_reaches_the_catalog_and_the_gateway(
    platform, alice, alice_cluster
):
    """No set-up in the notebook: the kernel spec and the server give it the platform."""
    notebook = {"type": "notebook", "content": nbformat.v4.new_notebook()}
    saved = alice.api("PUT", f"/user/{alice.name}/api/contents/reach.ipynb", json=notebook)
    assert saved.status_code in (200, 201), saved.text
    out = alice.run_code(REACH_CODE, timeout=180, notebook="reach.ipynb")
    reached = json.loads(out.strip().splitlines()[-1])
    assert reached["entries"] >= 10 and reached["rows"] == 100  # the Nile, 1871-1970
    assert reached["shared"] == str(platform.state / "catalog")
    assert reached["auth"] == "jupyterhub"
    assert reached["cluster"] == "GatewayCluster" and reached["sum"] == 3


def test_another_user_cannot_reach_a_server(platform, alice, bob):
    assert bob.api("GET", f"/user/{alice.name}/api/status").status_code in (403, 404)
    by_cookie = bob.session.get(f"{platform.url}/user/{alice.name}/lab")
    assert by_cookie.status_code == 403 or alice.name not in by_cookie.url
    assert bob.api("POST", f"/user/{alice.name}/api/kernels").status_code in (403, 404)


def test_anonymous_visitors_are_sent_to_login(platform, alice):
    anonymous = HubUser(platform, "anonymous", "")
    page = anonymous.session.get(f"{platform.url}/user/{alice.name}/lab")
    assert "/hub/login" in page.url


def test_a_gateway_cluster_computes_from_the_users_server(alice_cluster):
    assert alice_cluster["total"] == 45
    assert alice_cluster["workers"] == 2
    assert alice_cluster["dashboard"].startswith("/services/dask-gateway/clusters/")


def test_cluster_limits_are_enforced(alice):
    out = alice.run_code(
        "from dask_gateway import Gateway\n"
        "try:\n"
        "    Gateway().new_cluster(workers=99)\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    assert "workers" in out and "99" in out


COMPUTE_CONTROL_CODE = """
import json
from dte_widgets import ComputeControl
control = ComputeControl()
control.wait(60)
options = control.chosen_options()
control.option_controls["workers"].value = 1
control.start()
control.wait(180)
control.client.wait_for_workers(1, timeout=120)
total = control.client.submit(sum, range(5)).result()
control.refresh()
control.wait(60)
started = {"status": control.status, "workers": control.workers, "local": control.local}
link = control.cluster.dashboard_link
control.shutdown()
control.wait(120)
print(json.dumps({"options": options, "started": started, "total": total, "link": link,
                  "after": control.status}))
"""


def test_compute_control_drives_a_gateway_cluster_with_the_gateways_options(alice):
    """The ComputeControl widget in a user's kernel: its form is the platform's cluster options
    (not the local fallback), a cluster starts and computes, and shuts down."""
    result = json.loads(alice.run_code(COMPUTE_CONTROL_CODE, timeout=300).strip().splitlines()[-1])
    assert set(result["options"]) == {"worker_cores", "worker_memory", "workers"}
    assert result["started"] == {"status": "running", "workers": 1, "local": False}
    assert result["total"] == 10
    assert "/services/dask-gateway/" in result["link"]
    assert result["after"] == "stopped"


def test_another_user_can_neither_list_nor_connect_to_a_cluster(alice, bob, alice_cluster):
    name = alice_cluster["name"]
    listed = bob.gateway_api("GET", "/api/v1/clusters/")
    assert listed.status_code == 200 and name not in listed.json()
    assert alice.gateway_api("GET", "/api/v1/clusters/").json().get(name)
    # Connecting needs the cluster's TLS credentials, which only this call hands out.
    details = bob.gateway_api("GET", f"/api/v1/clusters/{name}")
    assert details.status_code == 403
    stop = bob.gateway_api("DELETE", f"/api/v1/clusters/{name}")
    assert stop.status_code == 403


def test_the_dask_dashboard_needs_a_login_and_the_right_user(platform, alice, bob, alice_cluster):
    link = platform.url + alice_cluster["dashboard"]
    anonymous = HubUser(platform, "anonymous", "").session.get(link)
    assert "/hub/login" in anonymous.url

    own = alice.session.get(link)
    assert own.status_code == 200, own.text[:500]
    assert "Dask" in own.text

    other = bob.session.get(link)
    assert other.status_code == 403


def test_stopping_the_server_stops_the_users_clusters(alice, alice_cluster):
    alice.stop_server()
    remaining = alice.gateway_api("GET", "/api/v1/clusters/?status=pending,running")
    assert remaining.status_code == 200
    assert alice_cluster["name"] not in remaining.json()
