"""The ``dte`` command: start DTE Hub on one machine, in the foreground.

``dte up`` checks the settings, the port, the state folder and the proxy *before* it starts
anything, so a mistake ends with one line naming the problem and nothing half-started. It then
runs JupyterHub, which runs the proxy, the user servers and the services (dask-gateway and its
clusters, the idle culler). Ctrl-C or SIGTERM stops JupyterHub, which stops what it runs; ``dte``
is a child subreaper, so anything that outlived its parent comes back to ``dte`` and is killed
before ``dte`` exits: no orphan process.

``dte reset --yes`` deletes the state folder (accounts, homes, secrets).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
from traitlets.config import Config

from hub.accounts import ensure_unix_account
from hub.dashboards.publish import add_commands as add_publishing_commands
from hub.dashboards.publish import publish, unpublish
from hub.oidc import configure_oidc
from hub.settings import SettingsError, load_settings
from hub.state import Runtime, StateError, StateFolder
from hub.wiring import dashboards_account, service_account

REPO = Path(__file__).resolve().parent.parent
PROXY = REPO / "hub/proxy/node_modules/.bin/configurable-http-proxy"
_PR_SET_CHILD_SUBREAPER = 36


class StartError(RuntimeError):
    """A check before start failed; the message is the one line the user sees."""


def _fail(message: str, code: int = 2) -> int:
    print(f"dte: {message}", file=sys.stderr)
    return code


def check_port_free(ip: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except PermissionError:
            raise StartError(
                f"no permission to listen on port {port}: choose a port above 1023 with DTE_PORT."
            ) from None
        except OSError as e:
            if e.errno == 98:  # EADDRINUSE
                raise StartError(
                    f"port {port} on {ip} is already in use: stop what uses it "
                    "(another `make up`?) or choose another port with DTE_PORT."
                ) from None
            raise StartError(
                f"cannot listen on {ip}:{port} ({e.strerror}): check DTE_IP."
            ) from None


def check_proxy() -> None:
    if not os.access(PROXY, os.X_OK):
        raise StartError(
            f"configurable-http-proxy is missing ({PROXY}): run `make install` "
            "(it runs `npm ci` in hub/proxy)."
        )


def check_open_to_others(state: Path) -> None:
    """Other accounts run this environment's Python and live in the state folder: every folder
    on those paths must let them through."""
    interpreter = Path(os.path.realpath(sys.executable))
    for folder in [*reversed(interpreter.parents), interpreter]:
        if not folder.stat().st_mode & 0o001:
            raise StartError(
                f"{folder} is closed to other accounts, so user servers cannot run {interpreter}:"
                " rebuild the environment on a shared Python (`rm -rf .venv; make install"
                " PYTHON=/usr/bin/python3`)."
            )
    for folder in reversed(state.parents):
        if not folder.stat().st_mode & 0o001:
            raise StartError(
                f"{folder} is closed to other accounts, so user servers cannot reach the state"
                f" folder {state}: open it (chmod o+x {folder}) or choose another DTE_STATE."
            )


def prepare(settings) -> tuple[StateFolder, bool, Runtime]:
    """Every check and preparation that must succeed before any process starts."""
    if settings.hub.mode == "system-users" and os.geteuid() != 0:
        raise StartError(
            "mode 'system-users' creates one Unix account per hub user and needs root: "
            "run as root, or use mode 'single-user'."
        )
    if settings.auth.kind == "oidc":
        configure_oidc(Config(), settings.auth)  # the same checks the hub will make, earlier
    check_proxy()
    check_port_free(settings.hub.ip, settings.hub.port)
    state = StateFolder(settings.state_dir)
    first_start = state.prepare()
    run_as = service_account(settings)
    if run_as or settings.hub.mode == "system-users":
        check_open_to_others(state.path)
        # Other accounts must traverse the state folder to reach their home; the secrets
        # folder stays 0700.
        os.chmod(state.path, 0o711)
        os.chmod(state.homes, 0o711)
        os.chmod(state.catalog_dir, 0o755)
    if run_as:
        account = ensure_unix_account(run_as, login_shell=False, system=True)
        # The gateway and the live feeds run as that account and write their state there.
        for service_dir in (state.gateway_dir, state.live_dir, state.catalog_dir):
            _give_tree(service_dir, account)
    dashboards = dashboards_account()
    if dashboards:
        account = ensure_unix_account(dashboards, login_shell=False, system=True)
        _give_tree(state.dashboards_dir, account)
        os.chmod(state.dashboards_dir, 0o700)
    runtime = Runtime.allocate()
    state.write_runtime(runtime)
    return state, first_start, runtime


def _give_tree(folder: Path, account) -> None:
    """Make ``account`` own ``folder`` and everything in it. Links are changed, never what
    they point to: the account may have planted them, and this runs as root."""
    for path in (folder, *folder.rglob("*")):
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


def _become_subreaper() -> None:
    """Orphans of our descendants are re-parented to us, not to init, so we can reap them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def stop_descendants(grace: float = 5.0) -> int:
    """Terminate, then kill, every process below this one; return how many there were."""
    me = psutil.Process()
    children = me.children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)
    # Orphans re-parented to us after the first sweep.
    for late in me.children(recursive=True):
        try:
            late.kill()
        except psutil.NoSuchProcess:
            pass
    return len(children)


def _announce_when_up(url: str, hub: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and hub.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/hub/api/", timeout=2):
                print(f"\nDTE Hub is up: {url}  (Ctrl-C stops it)\n", flush=True)
                return
        except OSError:
            time.sleep(0.2)


def prebuild_catalog(settings, state: StateFolder, env: dict) -> subprocess.Popen | None:
    """Build the catalog into the shared cache in the background (entries already built are
    kept), as the service account, readable by every user. Its output goes to the logs."""
    if not settings.catalog.prebuild:
        return None
    env = {**env, "DTE_CATALOG_CACHE": str(state.catalog_dir)}
    env.pop("DTE_CATALOG_SHARED", None)
    with open(state.logs / "catalog-build.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "catalogs", "build", "--size", settings.catalog.size],
            cwd=state.catalog_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=service_account(settings) or None,
            umask=0o022,
        )


def up(settings) -> int:
    try:
        state, first_start, runtime = prepare(settings)
    except (StartError, StateError, SettingsError) as e:
        return _fail(str(e))

    shown_ip = "127.0.0.1" if settings.hub.ip in ("", "0.0.0.0") else settings.hub.ip
    url = f"http://{shown_ip}:{settings.hub.port}"
    if first_start:
        print(
            f"First start. Log in at {url} as '{settings.hub.admin}' with password: "
            f"{state.secret('admin_password')}\n"
            f"(kept only in {state.secrets_dir / 'admin_password'}, readable by you alone)",
            flush=True,
        )
    env = dict(os.environ)
    env["DTE_STATE"] = str(state.path)
    env["DTE_INSTANCE"] = runtime.instance
    if settings.source != "defaults":
        env["DTE_SETTINGS"] = str(Path(settings.source).resolve())

    _become_subreaper()
    prebuild_catalog(settings, state, env)
    hub = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyterhub"),
            "-f",
            str(REPO / "hub/jupyterhub_config.py"),
        ],
        cwd=state.path,
        env=env,
    )

    def forward(signum, _frame):
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    _announce_when_up(url, hub)
    code = hub.wait()
    stop_descendants()
    return 0 if code in (0, -signal.SIGTERM, 128 + signal.SIGTERM) else code


def reset(settings, confirmed: bool) -> int:
    path = settings.state_dir
    if not confirmed:
        return _fail(f"this deletes {path} (accounts, homes, secrets): run `dte reset --yes`.")
    if (path / "jupyterhub.pid").exists():
        pid = int((path / "jupyterhub.pid").read_text().strip() or 0)
        if pid and psutil.pid_exists(pid):
            return _fail(f"the platform is running (pid {pid}): stop it first.")
    shutil.rmtree(path, ignore_errors=True)
    print(f"Deleted {path}.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dte", description="Run DTE Hub on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the platform in the foreground")
    reset_parser = commands.add_parser("reset", help="delete the state folder")
    reset_parser.add_argument("--yes", action="store_true", help="really delete it")
    add_publishing_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "publish":
        return publish(args)
    if args.command == "unpublish":
        return unpublish(args)
    try:
        settings = load_settings()
    except SettingsError as e:
        return _fail(str(e))
    if args.command == "up":
        return up(settings)
    return reset(settings, args.yes)


if __name__ == "__main__":
    sys.exit(main())
