"""dask-gateway configuration of DTE Hub: per-user clusters with limits, behind the hub.

Run by the hub-managed service ``dask-gateway-server``. It reads the same platform settings as
``jupyterhub_config.py``; the ports of this run come from the state folder's ``runtime.json``.
"""

import os
import sys
from pathlib import Path

from dask_gateway_server.options import Float, Integer, Options

from hub.settings import load_settings
from hub.state import StateFolder
from hub.wiring import DASHBOARDS_COMPUTE_USER, GATEWAY_PREFIX

c = get_config()  # noqa: F821 (provided by dask-gateway-server when it loads this file)

settings = load_settings()
compute = settings.compute
state = StateFolder(settings.state_dir)
runtime = state.read_runtime()
venv_bin = Path(sys.executable).parent

c.DaskGateway.address = f"127.0.0.1:{runtime.gateway_api_port}"
c.Proxy.address = f"127.0.0.1:{runtime.gateway_http_port}"
c.Proxy.tcp_address = f"127.0.0.1:{runtime.gateway_tcp_port}"
c.Proxy.prefix = GATEWAY_PREFIX

c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
# Tokens must carry access:services!service=dask-gateway (granted to dt-developers).
c.JupyterHubAuthenticator.jupyterhub_service_name = "dask-gateway"

if settings.hub.mode == "system-users":
    c.DaskGateway.backend_class = "hub.gateway_backend.PlatformLocalBackend"
else:
    c.DaskGateway.backend_class = "hub.gateway_backend.PlatformUnsafeLocalBackend"
c.LocalBackend.clusters_directory = str(state.gateway_dir / "clusters")
c.LocalBackend.inherited_environment = ["PATH", "VIRTUAL_ENV", "LANG", "LC_ALL", "DTE_INSTANCE"]
c.DBBackendBase.db_url = f"sqlite:///{state.gateway_dir / 'gateway.sqlite'}"
c.DBBackendBase.db_encrypt_keys = [os.environ["DTE_GATEWAY_DB_KEY"]]
c.DBBackendBase.stop_clusters_on_shutdown = True
# Status checks on loopback are cheap; check often so new workers are seen quickly.
c.DBBackendBase.worker_status_period = 1.0
c.DBBackendBase.cluster_status_period = 1.0

# distributed no longer ships dask-scheduler / dask-worker (DESIGN.md).
c.ClusterConfig.scheduler_cmd = [str(venv_bin / "dask"), "scheduler"]
c.ClusterConfig.worker_cmd = [str(venv_bin / "dask"), "worker"]
# Workers fork from their nanny instead of starting a fresh interpreter: the nanny has already
# imported distributed.
CLUSTER_ENVIRONMENT = {"DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD": "fork"}
c.ClusterConfig.environment = CLUSTER_ENVIRONMENT
c.ClusterConfig.idle_timeout = compute.idle_timeout
c.ClusterConfig.cluster_max_workers = compute.cluster_max_workers
c.ClusterConfig.cluster_max_cores = compute.cluster_max_cores
c.ClusterConfig.cluster_max_memory = f"{compute.cluster_max_memory}G"


def cluster_options_handler(options, user):
    """Turn the user's choices into cluster config; the limits above still bound the total.

    A dashboard viewer's cluster (made by the dashboards' kernels, as the hub service
    ``dashboards-compute``) is held to the viewer's limits whatever the dashboard's code asks:
    one core and the default memory per worker, at most ``[dashboards] viewer_max_workers``.
    """
    if user.name == DASHBOARDS_COMPUTE_USER:
        viewer_workers = settings.dashboards.viewer_max_workers
        return {
            "worker_cores": 1,
            "worker_threads": 1,
            "worker_memory": f"{compute.worker_memory}G",
            "cluster_max_workers": viewer_workers,
            # the gateway counts the scheduler's core (ClusterConfig.scheduler_cores, 1) too
            "cluster_max_cores": viewer_workers + 1.0,
            "environment": {
                **CLUSTER_ENVIRONMENT,
                "DTE_INITIAL_WORKERS": str(min(options.workers, viewer_workers)),
            },
        }
    return {
        "worker_cores": options.worker_cores,
        "worker_threads": options.worker_cores,
        "worker_memory": f"{options.worker_memory}G",
        "environment": {**CLUSTER_ENVIRONMENT, "DTE_INITIAL_WORKERS": str(options.workers)},
    }


c.Backend.cluster_options = Options(
    Integer(
        "worker_cores",
        default=compute.worker_cores,
        min=1,
        max=compute.worker_cores_max,
        label="Cores per worker",
    ),
    Float(
        "worker_memory",
        default=compute.worker_memory,
        min=0.5,
        max=compute.worker_memory_max,
        label="Memory per worker (GiB)",
    ),
    Integer(
        "workers",
        default=compute.workers,
        min=0,
        max=compute.cluster_max_workers,
        label="Workers at start",
    ),
    handler=cluster_options_handler,
)
