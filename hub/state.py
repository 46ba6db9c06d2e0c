"""The state folder: everything a running platform keeps between starts.

Layout (``<state>`` defaults to ``.dte/``)::

    <state>/jupyterhub.sqlite      hub database (accounts, groups, tokens)
    <state>/secrets/               mode 0700; one file per secret, each mode 0600
    <state>/home/<user>/           user homes
    <state>/dask-gateway/          gateway database and cluster working folders
    <state>/live/                  archive of the live feeds (SQLite)
    <state>/catalog/               catalog cache shared by all users (read-only to them)
    <state>/dashboards/            published dashboards (registry and notebook versions)
    <state>/runtime.json           ports of the current run (no secrets)
    <state>/logs/                  logs of the current run

Secrets are generated at first start and never printed, except the bootstrap admin's password,
which the ``dte`` command prints once.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "StateError",
    "StateFolder",
    "Runtime",
    "SECRET_NAMES",
    "free_ports",
    "one_per_two_cores",
]

# name -> how to make it. Hex strings keep every consumer happy (JupyterHub wants hex for the
# cookie secret, the crypt key must be 32 bytes as base64 or hex, tokens are opaque strings).
SECRET_NAMES = {
    "cookie_secret": lambda: secrets.token_hex(32),
    "proxy_auth_token": lambda: secrets.token_hex(32),
    "crypt_key": lambda: secrets.token_hex(32),
    # API tokens of the hub-managed services, stable across restarts
    "gateway_front_token": lambda: secrets.token_hex(32),
    "gateway_server_token": lambda: secrets.token_hex(32),
    "culler_token": lambda: secrets.token_hex(32),
    "live_token": lambda: secrets.token_hex(32),
    "dashboards_token": lambda: secrets.token_hex(32),
    # the dashboards' kernels: Dask clusters at the gateway and nothing else
    "dashboards_compute_token": lambda: secrets.token_hex(32),
    # dask-gateway encrypts cluster credentials in its database with a Fernet key
    "gateway_db_key": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "admin_password": lambda: secrets.token_urlsafe(12),
}


class StateError(RuntimeError):
    """The state folder cannot be used; the message says why and what to do."""


@dataclass
class Runtime:
    """Loopback ports of one run, chosen free at start and shared by every process."""

    hub_api_port: int
    proxy_api_port: int
    gateway_front_port: int
    gateway_http_port: int
    gateway_tcp_port: int
    gateway_api_port: int
    live_port: int
    dashboards_port: int
    instance: str

    @classmethod
    def allocate(cls) -> Runtime:
        ports = free_ports(8)
        return cls(*ports, instance=secrets.token_hex(8))


def one_per_two_cores() -> int:
    """Half the cores this process may use, at least 1: work that takes a core each and must
    leave the other half to the viewers (preheats, Panel processes)."""
    return max(1, len(os.sched_getaffinity(0)) // 2)


def free_ports(count: int) -> list[int]:
    """Ask the kernel for distinct free loopback ports (kept open together so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class StateFolder:
    """Creates, checks and reads the state folder of one platform."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()

    @property
    def secrets_dir(self) -> Path:
        return self.path / "secrets"

    @property
    def homes(self) -> Path:
        return self.path / "home"

    @property
    def gateway_dir(self) -> Path:
        return self.path / "dask-gateway"

    @property
    def live_dir(self) -> Path:
        return self.path / "live"

    @property
    def dashboards_dir(self) -> Path:
        """Published dashboards: their registry and notebook versions."""
        return self.path / "dashboards"

    @property
    def catalog_dir(self) -> Path:
        """The catalog cache every user server reads (built by the platform, read-only to users)."""
        return self.path / "catalog"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def hub_db(self) -> Path:
        return self.path / "jupyterhub.sqlite"

    @property
    def runtime_file(self) -> Path:
        return self.path / "runtime.json"

    def prepare(self) -> bool:
        """Create the folder and missing secrets; return True if this is the first start."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for folder in (
                self.homes,
                self.gateway_dir,
                self.live_dir,
                self.dashboards_dir,
                self.catalog_dir,
                self.logs,
            ):
                folder.mkdir(exist_ok=True)
            self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
            os.chmod(self.secrets_dir, 0o700)
            probe = self.path / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as e:
            raise StateError(
                f"state folder {self.path} is not writable ({e.strerror}): "
                "choose another with DTE_STATE or fix its permissions."
            ) from None
        first_start = not (self.secrets_dir / "admin_password").exists()
        for name, make in SECRET_NAMES.items():
            target = self.secrets_dir / name
            if not target.exists():
                _write_private(target, make())
            elif target.stat().st_mode & 0o077:
                os.chmod(target, 0o600)
        return first_start

    def secret(self, name: str) -> str:
        if name not in SECRET_NAMES:
            raise KeyError(name)
        try:
            return (self.secrets_dir / name).read_text().strip()
        except FileNotFoundError:
            raise StateError(
                f"secret {name} is missing from {self.secrets_dir}: run `make up` to create it."
            ) from None

    def write_runtime(self, runtime: Runtime) -> None:
        tmp = self.runtime_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(runtime)))
        tmp.replace(self.runtime_file)

    def read_runtime(self) -> Runtime:
        try:
            return Runtime(**json.loads(self.runtime_file.read_text()))
        except FileNotFoundError:
            raise StateError(
                f"{self.runtime_file} is missing: start the platform with `dte up`."
            ) from None


def _write_private(path: Path, content: str) -> None:
    """Write a file that only its owner can read, without a window where others could."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)
