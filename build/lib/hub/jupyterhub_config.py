"""JupyterHub configuration of DTE Hub: reads the platform settings and wires classes.

Started by ``dte up`` (never by hand: ``dte`` prepares the state folder and the ports of this
run first). The logic lives in importable, tested modules of ``hub``.
"""

import os
import sys
from pathlib import Path

from hub.authenticators import USERNAME_PATTERN
from hub.landing import DEVELOPERS_GROUP, USERS_GROUP, landing_page
from hub.settings import load_settings
from hub.state import StateFolder
from hub.wiring import (
    dashboards_account,
    dashboards_url,
    gateway_urls,
    live_url,
    service_account,
)

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

settings = load_settings()
state = StateFolder(settings.state_dir)
runtime = state.read_runtime()
venv_bin = Path(sys.executable).parent
repo = Path(__file__).resolve().parent.parent
system_users = settings.hub.mode == "system-users"
# The account that runs user code (servers and Dask workers) in single-user mode.
run_as = service_account(settings)
urls = gateway_urls(settings, runtime)

# --- network and state -----------------------------------------------------------------------
c.JupyterHub.ip = settings.hub.ip
c.JupyterHub.port = settings.hub.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = runtime.hub_api_port
c.JupyterHub.db_url = f"sqlite:///{state.hub_db}"
c.JupyterHub.cookie_secret_file = str(state.secrets_dir / "cookie_secret")
c.JupyterHub.pid_file = str(state.path / "jupyterhub.pid")
c.CryptKeeper.keys = [bytes.fromhex(state.secret("crypt_key"))]
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.template_vars = {"announcement_login": "DTE Hub: digital twins platform"}

c.JupyterHub.proxy_class = "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [
    str(repo / "hub/proxy/node_modules/.bin/configurable-http-proxy")
]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{runtime.proxy_api_port}"
c.ConfigurableHTTPProxy.auth_token = state.secret("proxy_auth_token")
c.ConfigurableHTTPProxy.pid_file = str(state.path / "proxy.pid")

# --- accounts --------------------------------------------------------------------------------
c.Authenticator.admin_users = {settings.hub.admin}
c.Authenticator.username_pattern = USERNAME_PATTERN
if settings.auth.kind == "native":
    c.JupyterHub.authenticator_class = "hub.authenticators.PlatformNativeAuthenticator"
    # NativeAuthenticator itself refuses accounts an admin has not approved.
    c.Authenticator.allow_all = True
    c.PlatformNativeAuthenticator.bootstrap_admin = settings.hub.admin
    c.PlatformNativeAuthenticator.bootstrap_password_file = str(
        state.secrets_dir / "admin_password"
    )
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.minimum_password_length = settings.auth.minimum_password_length
    c.NativeAuthenticator.allowed_failed_logins = settings.auth.allowed_failed_logins
    c.NativeAuthenticator.seconds_before_next_try = settings.auth.seconds_before_next_try
else:
    from hub.oidc import configure_oidc

    configure_oidc(c, settings.auth)

# --- groups and what they may do ---------------------------------------------------------------
c.JupyterHub.load_groups = {
    DEVELOPERS_GROUP: {"users": sorted({settings.hub.admin, *settings.hub.developers})},
    USERS_GROUP: {"users": []},
}
c.JupyterHub.default_url = landing_page
c.JupyterHub.load_roles = [
    # Everyone who logs in: a DT user (dashboards and live feeds; no server of their own).
    {
        "name": "user",
        "scopes": [
            "read:users!user",
            "users:activity!user",
            "read:tokens!user",
            "tokens!user",
            "access:services!service=live",
            "access:services!service=dashboards",
        ],
    },
    # The dashboards service checks that the groups a dashboard is published for exist.
    {
        "name": "dashboards-service",
        "services": ["dashboards"],
        "scopes": ["list:groups", "read:groups:name"],
    },
    # The dashboards' kernels start Dask clusters for their viewers, and may do nothing else
    # with this token (see hub/dashboards/compute.py for whose clusters these are and why).
    {
        "name": "dashboards-compute",
        "services": ["dashboards-compute"],
        "scopes": ["access:services!service=dask-gateway"],
    },
    # DT developers: JupyterLab and compute.
    {
        "name": "dt-developer",
        "groups": [DEVELOPERS_GROUP],
        "scopes": ["self", "access:services!service=dask-gateway"],
    },
    # A server's own token may use the gateway and read the live feeds for its owner
    # (Gateway() and LiveFeed() in a notebook).
    {
        "name": "server",
        "scopes": [
            "users:activity!user",
            "access:servers!server",
            "access:services!service=dask-gateway",
            "access:services!service=live",
            # dte publish in a terminal: the service must see the owner's groups
            "access:services!service=dashboards",
            "read:users:groups!user",
        ],
    },
    {
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": [
            "list:users",
            "read:users:activity",
            "read:servers",
            "delete:servers",
        ],
    },
]

# --- user servers ------------------------------------------------------------------------------
if system_users:
    c.JupyterHub.spawner_class = "hub.spawners.SystemUserSpawner"
else:
    c.JupyterHub.spawner_class = "hub.spawners.SingleUserSpawner"
    c.SingleUserSpawner.run_as = run_as
c.Spawner.homes_dir = str(state.homes)
c.Spawner.cmd = [str(venv_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = settings.servers.default_url
c.Spawner.start_timeout = settings.servers.start_timeout
c.Spawner.http_timeout = settings.servers.start_timeout
c.Spawner.args = ["--MappingKernelManager.default_kernel_name=dte"]
c.Spawner.gateway_api_url = urls.internal_api
c.Spawner.stop_clusters_with_server = settings.compute.stop_with_server
c.Spawner.environment = {
    **urls.client_environment(),
    "DTE_LIVE_URL": live_url(settings),
    "DTE_DASHBOARDS_URL": dashboards_url(settings),
    # read-only to users; what it lacks is built into each user's own cache
    "DTE_CATALOG_SHARED": str(state.catalog_dir),
    "DTE_INSTANCE": runtime.instance,
    "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
}
# Faster than the default 10 s grace when a server ignores SIGINT (kernels busy).
c.Spawner.interrupt_timeout = 5
c.Spawner.term_timeout = 3

# --- hub-managed services ----------------------------------------------------------------------
service_environment = {"DTE_INSTANCE": runtime.instance, "DTE_STATE": str(state.path)}
if os.environ.get("DTE_SETTINGS"):
    service_environment["DTE_SETTINGS"] = os.environ["DTE_SETTINGS"]
for variable in ("DTE_IP", "DTE_PORT", "DTE_MODE"):
    if os.environ.get(variable):
        service_environment[variable] = os.environ[variable]

gateway_server = {
    "name": "dask-gateway-server",
    "display": False,
    "command": [
        str(venv_bin / "dask-gateway-server"),
        "-f",
        str(repo / "hub/dask_gateway_config.py"),
    ],
    "cwd": str(state.gateway_dir),
    "api_token": state.secret("gateway_server_token"),
    "environment": {
        **service_environment,
        "DTE_GATEWAY_DB_KEY": state.secret("gateway_db_key"),
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
    },
}

# Simulated physical twins (catalogs/live). The service needs no hub permission of its own:
# it checks each caller's token or OAuth login with the hub.
live_service = {
    "name": "live",
    "url": f"http://127.0.0.1:{runtime.live_port}",
    "command": [sys.executable, "-m", "catalogs.live.service"],
    "cwd": str(state.live_dir),
    "api_token": state.secret("live_token"),
    "environment": {
        **service_environment,
        "DTE_LIVE_ARCHIVE": str(state.live_dir / "archive.sqlite"),
        "DTE_LIVE_TICK": repr(settings.live.tick),
        "DTE_LIVE_RETENTION_DAYS": repr(settings.live.retention_days),
    },
    "oauth_no_confirm": True,
    "oauth_client_allowed_scopes": ["access:services!service=live"],
    "display": False,
}
# Twin applications: the gallery and publishing (hub/dashboards). The OAuth login may read the
# viewer's own groups only, to decide which dashboards they may open.
dashboards_service = {
    "name": "dashboards",
    "url": f"http://127.0.0.1:{runtime.dashboards_port}",
    "command": [sys.executable, "-m", "hub.dashboards.service"],
    "cwd": str(state.dashboards_dir),
    "api_token": state.secret("dashboards_token"),
    "environment": {
        **service_environment,
        **urls.client_environment(),
        # handed to the dashboards' kernels (the service's own account may not read secrets/)
        "DTE_DASHBOARDS_COMPUTE_TOKEN": state.secret("dashboards_compute_token"),
    },
    "oauth_no_confirm": True,
    "oauth_client_allowed_scopes": [
        "access:services!service=dashboards",
        "read:users:groups!user",
    ],
    "display": False,
}
if dashboards_account():
    dashboards_service["user"] = dashboards_account()
if run_as:
    gateway_server["user"] = run_as
    # It serves every user; no need for it to hold root's powers either.
    live_service["user"] = run_as

c.JupyterHub.services = [
    {
        # The front door of the gateway: passes its REST API through, and requires a hub login
        # (and ownership of the cluster) for Dask dashboards.
        "name": "dask-gateway",
        "url": f"http://127.0.0.1:{runtime.gateway_front_port}",
        "command": [sys.executable, "-m", "hub.gateway_front"],
        "api_token": state.secret("gateway_front_token"),
        "environment": service_environment,
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": ["access:services!service=dask-gateway"],
        "display": False,
    },
    gateway_server,
    live_service,
    dashboards_service,
    # an identity without a process: the dashboards' kernels use its token at the gateway
    {"name": "dashboards-compute", "api_token": state.secret("dashboards_compute_token")},
]
if settings.servers.idle_timeout > 0:
    c.JupyterHub.services.append(
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={settings.servers.idle_timeout}",
                f"--cull-every={settings.servers.cull_every}",
            ],
            "api_token": state.secret("culler_token"),
            "display": False,
        }
    )
