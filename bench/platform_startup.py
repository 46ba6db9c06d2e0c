"""Benchmark of the platform foundation; prints one JSON document.

Measured in one run, so the machine's noise hits both sides alike (compare ratios and medians):

- spawn: from the request that starts a user server to JupyterLab answering through the proxy;
  DTE Hub against a stock JupyterHub (SimpleLocalProcessSpawner, default polling, same proxy);
- gateway: from ``Gateway().new_cluster()`` to 2 workers ready; DTE Hub's gateway (through the
  hub) against a stock dask-gateway-server (UnsafeLocalBackend, defaults, cluster.scale(2));
- fresh clone: ``git clone`` of this repository, ``make install``, ``dte up``, hub answering
  (skip with ``--no-fresh-clone``).

Usage: ``python bench/platform_startup.py [--runs 5] [--no-fresh-clone]``
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

import requests

from bench.timing import summary
from tests.hub.platform import (
    HubUser,
    free_port,
    running_platform,
)

VENV_BIN = Path(sys.executable).parent
PROXY = REPO / "hub/proxy/node_modules/.bin/configurable-http-proxy"


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).ok:
                return
        time.sleep(0.1)
    raise TimeoutError(url)


def time_two_worker_cluster(new_cluster, scale: int = 0, **options) -> float:
    """Seconds from asking for a cluster to 2 workers ready; the cluster is shut down after.

    ``scale`` asks for workers after the cluster starts (stock dask-gateway's only way);
    ``options`` go to ``new_cluster`` (DTE Hub's ``workers`` starts them with the scheduler).
    """
    started = time.monotonic()
    cluster = new_cluster(**options)
    if scale:
        cluster.scale(scale)
    client = cluster.get_client()
    client.wait_for_workers(2, timeout=120)
    elapsed = time.monotonic() - started
    client.close()
    cluster.shutdown()
    return elapsed


def start_in(root: Path, command: list[str]) -> subprocess.Popen:
    """Start a stock server in its own session (so its whole group can be stopped), logging
    to a file in ``root``."""
    log = open(root / "server.log", "wb")
    return subprocess.Popen(
        command, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def temp_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="dte-bench-"))
    root.chmod(0o755)
    return root


# --- DTE Hub ----------------------------------------------------------------------------------
def dte_figures(runs: int) -> tuple[list[float], list[float]]:
    from dask_gateway import Gateway
    from dask_gateway.auth import JupyterHubAuth

    root = temp_root()
    spawn, gateway = [], []
    try:
        with running_platform(root / "state") as platform:
            admin = HubUser(platform, "admin", platform.admin_password)
            admin.login()
            admin.create_token()
            for _ in range(runs):
                spawn.append(admin.start_server())
                admin.stop_server()
            runtime = json.loads((platform.state / "runtime.json").read_text())
            for _ in range(runs):
                client_gateway = Gateway(
                    address=f"{platform.url}/services/dask-gateway",
                    proxy_address=f"gateway://127.0.0.1:{runtime['gateway_tcp_port']}",
                    auth=JupyterHubAuth(api_token=admin.token),
                )
                gateway.append(time_two_worker_cluster(client_gateway.new_cluster, workers=2))
                client_gateway.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return spawn, gateway


# --- stock JupyterHub -------------------------------------------------------------------------
STOCK_HUB_CONFIG = """
import os
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.Spawner.cmd = [{singleuser!r}]
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
if os.geteuid() == 0:
    c.Spawner.args = ["--ServerApp.allow_root=True"]  # needed to run at all, not a tuning
c.JupyterHub.services = [{{"name": "bench", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "bench", "services": ["bench"],
    "scopes": ["admin:users", "admin:servers", "access:servers"]}}]
"""


def stock_spawn(runs: int) -> list[float]:
    root = temp_root()
    port, token = free_port(), secrets.token_hex(16)
    (root / "homes").mkdir()
    (root / "jupyterhub_config.py").write_text(
        STOCK_HUB_CONFIG.format(
            port=port,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            proxy=str(PROXY),
            singleuser=str(VENV_BIN / "jupyterhub-singleuser"),
            homes=str(root / "homes"),
            token=token,
        )
    )
    hub = start_in(root, [str(VENV_BIN / "jupyterhub"), "-f", "jupyterhub_config.py"])
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    times = []
    try:
        wait_http(f"{url}/hub/api/")
        requests.post(f"{url}/hub/api/users/bench", headers=headers).raise_for_status()
        for _ in range(runs):
            started = time.monotonic()
            requests.post(f"{url}/hub/api/users/bench/server", headers=headers).raise_for_status()
            while True:
                lab = requests.get(f"{url}/user/bench/lab", headers=headers, allow_redirects=False)
                if lab.status_code == 200:
                    break
                time.sleep(0.05)
            times.append(time.monotonic() - started)
            requests.delete(f"{url}/hub/api/users/bench/server", headers=headers)
            while requests.get(f"{url}/hub/api/users/bench", headers=headers).json()["servers"]:
                time.sleep(0.2)
    finally:
        os.killpg(hub.pid, signal.SIGTERM)
        hub.wait(60)
        shutil.rmtree(root, ignore_errors=True)
    return times


# --- stock dask-gateway -----------------------------------------------------------------------
STOCK_GATEWAY_CONFIG = """
c.DaskGateway.address = "127.0.0.1:{api_port}"
c.Proxy.address = "127.0.0.1:{http_port}"
c.Proxy.tcp_address = "127.0.0.1:{tcp_port}"
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
c.LocalBackend.clusters_directory = {clusters!r}
# distributed no longer ships dask-scheduler / dask-worker: needed to run at all.
c.ClusterConfig.scheduler_cmd = [{dask!r}, "scheduler"]
c.ClusterConfig.worker_cmd = [{dask!r}, "worker"]
"""


def stock_gateway(runs: int) -> list[float]:
    from dask_gateway import BasicAuth, Gateway

    root = temp_root()
    http_port, tcp_port = free_port(), free_port()
    (root / "config.py").write_text(
        STOCK_GATEWAY_CONFIG.format(
            api_port=free_port(),
            http_port=http_port,
            tcp_port=tcp_port,
            clusters=str(root / "clusters"),
            dask=str(VENV_BIN / "dask"),
        )
    )
    server = start_in(root, [str(VENV_BIN / "dask-gateway-server"), "-f", "config.py"])
    times = []
    try:
        wait_http(f"http://127.0.0.1:{http_port}/api/version")
        for _ in range(runs):
            gateway = Gateway(
                address=f"http://127.0.0.1:{http_port}",
                proxy_address=f"gateway://127.0.0.1:{tcp_port}",
                auth=BasicAuth("bench", "bench"),
            )
            times.append(time_two_worker_cluster(gateway.new_cluster, scale=2))
            gateway.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
        shutil.rmtree(root, ignore_errors=True)
    return times


# --- fresh clone ------------------------------------------------------------------------------
def fresh_clone_to_hub() -> float:
    root = temp_root()
    port = free_port()
    started = time.monotonic()
    hub = None
    try:
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(root / "clone")], check=True)
        subprocess.run(
            ["make", "-C", str(root / "clone"), "install"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        env = {**os.environ, "DTE_PORT": str(port), "DTE_STATE": str(root / "state")}
        hub = subprocess.Popen(
            [str(root / "clone/.venv/bin/dte"), "up"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/hub/api/", timeout=2).ok:
                    return time.monotonic() - started
            time.sleep(0.2)
        raise TimeoutError("fresh clone did not answer in 300 s")
    finally:
        if hub is not None:
            hub.send_signal(signal.SIGTERM)
            hub.wait(60)
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-fresh-clone", action="store_true")
    args = parser.parse_args()

    dte_spawn, dte_gateway = dte_figures(args.runs)
    stock_spawn_times = stock_spawn(args.runs)
    stock_gateway_times = stock_gateway(args.runs)
    report = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "spawn": {
            "dte": summary(dte_spawn),
            "stock": summary(stock_spawn_times),
            "dte_over_stock": round(
                statistics.median(dte_spawn) / statistics.median(stock_spawn_times), 3
            ),
            "target_median_s": 3.0,
        },
        "gateway": {
            "dte": summary(dte_gateway),
            "stock": summary(stock_gateway_times),
            "dte_over_stock": round(
                statistics.median(dte_gateway) / statistics.median(stock_gateway_times), 3
            ),
            "target_median_s": 2.0,
        },
    }
    if not args.no_fresh_clone:
        report["fresh_clone_to_hub_s"] = {"value": round(fresh_clone_to_hub(), 1), "target": 120}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
