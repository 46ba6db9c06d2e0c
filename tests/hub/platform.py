"""Start the real platform for tests: `dte up` on a free port in a temporary state folder.

``running_platform`` is a context manager in the spirit of dask-gateway's ``temp_gateway``: it
starts the whole thing (hub, proxy, gateway, culler) as a user would, waits until the hub
answers, and on exit stops it with SIGTERM like Ctrl-C, then checks nothing was left behind.
``HubUser`` drives the hub as a person or a notebook would: the login form, the REST API, a
kernel over the proxy's websocket.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
import websocket

REPO = Path(__file__).resolve().parents[2]
DTE = Path(sys.executable).parent / "dte"


@contextlib.contextmanager
def shared_temp_folder():
    """A temporary folder other local accounts can traverse, removed afterwards.

    Not pytest's tmp_path: its folders are private to root, and the unprivileged account that
    runs user code must reach the state folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="dte-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def wait_until(predicate, timeout: float, what: str):
    """``predicate()``'s first true value, asked every 0.2 s; TimeoutError naming ``what``
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


def gateway_api(hub_url: str, token: str, method: str, path: str, **kwargs) -> requests.Response:
    """The dask-gateway REST API through the hub, authenticated with a hub ``token`` as
    dask-gateway expects."""
    return requests.request(
        method,
        f"{hub_url}/services/dask-gateway{path}",
        headers={"Authorization": f"jupyterhub {token}"},
        timeout=60,
        **kwargs,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_of_instance(instance: str) -> list[psutil.Process]:
    """Every live process started by the platform run whose DTE_INSTANCE is ``instance``."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("DTE_INSTANCE") == instance:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def panel_processes(instance: str) -> list[psutil.Process]:
    """The ``panel serve`` processes of the platform run ``instance``."""
    found = []
    for process in processes_of_instance(instance):
        with contextlib.suppress(psutil.Error):
            if "serve" in process.cmdline()[1:3]:
                found.append(process)
    return found


@dataclass
class Platform:
    url: str
    state: Path
    process: subprocess.Popen
    log_path: Path

    @property
    def admin_password(self) -> str:
        return (self.state / "secrets/admin_password").read_text().strip()

    @property
    def instance(self) -> str:
        return json.loads((self.state / "runtime.json").read_text())["instance"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_platform(state: Path, port: int, settings: dict | None = None) -> Platform:
    """``dte up`` with these settings; the shared catalog is not prebuilt unless asked (it
    would compete for the 2 cores with the test)."""
    state.mkdir(parents=True, exist_ok=True)
    settings = {"catalog": {"prebuild": False}, **(settings or {})}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DTE_", "JUPYTERHUB_"))}
    env.update(DTE_STATE=str(state), DTE_PORT=str(port))
    settings_file = state.parent / f"settings-{port}.toml"
    settings_file.write_text(_to_toml(settings))
    env["DTE_SETTINGS"] = str(settings_file)
    log_path = state.parent / f"platform-{port}.log"
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [str(DTE), "up"], cwd=state.parent, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    platform = Platform(f"http://127.0.0.1:{port}", state, process, log_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dte up exited with {process.returncode}:\n{platform.log()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{platform.url}/hub/api/", timeout=2).ok:
                # the gateway front door is started after the hub answers
                if _gateway_ready(platform.url):
                    return platform
        time.sleep(0.2)
    stop_platform(platform)
    raise RuntimeError(f"the platform did not come up in 90 s:\n{platform.log()}")


def _gateway_ready(url: str) -> bool:
    with contextlib.suppress(requests.RequestException):
        # The gateway's unauthenticated version call, through the proxy and the front door.
        return (
            requests.get(f"{url}/services/dask-gateway/api/version", timeout=2).status_code == 200
        )
    return False


def stop_platform(platform: Platform, timeout: float = 60) -> int:
    if platform.process.poll() is None:
        platform.process.send_signal(signal.SIGTERM)
    try:
        return platform.process.wait(timeout)
    except subprocess.TimeoutExpired:
        platform.process.kill()
        return platform.process.wait()


@contextlib.contextmanager
def running_platform(state: Path, settings: dict | None = None):
    platform = start_platform(state, free_port(), settings)
    instance = platform.instance
    try:
        yield platform
    finally:
        stop_platform(platform)
        for leftover in processes_of_instance(instance):
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()


def _to_toml(settings: dict) -> str:
    lines = []
    for section, values in settings.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, dict):  # an inline table; JSON strings are valid TOML keys and values
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    return json.dumps(value)


class HubUser:
    """One person at the hub: a browser-like session (cookies, xsrf) and an API token."""

    def __init__(self, platform: Platform, name: str, password: str):
        self.platform = platform
        self.name = name
        self.password = password
        self.session = requests.Session()
        self.token: str | None = None

    @property
    def url(self) -> str:
        return self.platform.url

    def _xsrf(self, path: str) -> str:
        page = self.session.get(f"{self.url}{path}")
        page.raise_for_status()
        match = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        # the hub's own: services set _xsrf cookies of their own, on their paths
        return match.group(1) if match else self.session.cookies.get("_xsrf", "", path="/hub/")

    def login(self) -> requests.Response:
        """Submit the real login form; return its answer (a redirect when it succeeded).

        The redirect is not followed: for a DT developer it would start their server.
        """
        xsrf = self._xsrf("/hub/login")
        return self.session.post(
            f"{self.url}/hub/login",
            data={"username": self.name, "password": self.password, "_xsrf": xsrf},
            allow_redirects=False,
        )

    def logged_in(self) -> bool:
        response = self.session.get(f"{self.url}/hub/api/user", headers=self._xsrf_header())
        return response.status_code == 200 and response.json()["name"] == self.name

    def logout(self) -> requests.Response:
        return self.session.get(f"{self.url}/hub/logout")

    def signup(self) -> requests.Response:
        xsrf = self._xsrf("/hub/signup")
        return self.session.post(
            f"{self.url}/hub/signup",
            data={
                "username": self.name,
                "signup_password": self.password,
                "signup_password_confirmation": self.password,
                "_xsrf": xsrf,
            },
        )

    def _xsrf_header(self) -> dict:
        return {"X-XSRFToken": self.session.cookies.get("_xsrf", path="/hub/") or ""}

    def create_token(self) -> str:
        """An API token, created through the hub's REST API with the login cookie."""
        response = self.session.post(
            f"{self.url}/hub/api/users/{self.name}/tokens",
            json={"note": "tests", "expires_in": 3600},
            headers=self._xsrf_header(),
        )
        response.raise_for_status()
        self.token = response.json()["token"]
        return self.token

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def gateway_api(self, method: str, path: str, **kwargs) -> requests.Response:
        """The dask-gateway REST API through the hub, as this user."""
        return gateway_api(self.url, self.token, method, path, **kwargs)

    # --- user servers -------------------------------------------------------------------------
    def start_server(self, timeout: float = 90) -> float:
        """Start this user's server; return seconds until JupyterLab answers through the proxy."""
        started = time.monotonic()
        response = self.api("POST", f"/hub/api/users/{self.name}/server")
        if response.status_code not in (201, 202):
            raise RuntimeError(f"spawn refused: {response.status_code} {response.text}")
        deadline = started + timeout
        while time.monotonic() < deadline:
            lab = self.api("GET", f"/user/{self.name}/lab", allow_redirects=False)
            if lab.status_code == 200:
                return time.monotonic() - started
            time.sleep(0.05)
        raise TimeoutError(f"server of {self.name} did not answer in {timeout} s")

    def stop_server(self) -> None:
        response = self.api("DELETE", f"/hub/api/users/{self.name}/server")
        assert response.status_code in (202, 204), response.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            model = self.api("GET", f"/hub/api/users/{self.name}").json()
            if not model.get("servers"):
                return
            time.sleep(0.2)
        raise TimeoutError(f"server of {self.name} did not stop")

    def run_code(self, code: str, timeout: float = 120, notebook: str | None = None) -> str:
        """Run code in a new DTE kernel of this user's server; return its stdout, raise on error.

        With ``notebook`` (a path in the user's home), the kernel is that notebook's, started
        as JupyterLab starts one (a session of the notebook, in its folder)."""
        base = f"/user/{self.name}/api"
        if notebook is None:
            kernel = self.api("POST", f"{base}/kernels", json={"name": "dte"})
        else:
            kernel = self.api(
                "POST",
                f"{base}/sessions",
                json={"path": notebook, "type": "notebook", "kernel": {"name": "dte"}},
            )
        kernel.raise_for_status()
        kernel_id = kernel.json()["id"] if notebook is None else kernel.json()["kernel"]["id"]
        ws_url = self.url.replace("http://", "ws://") + f"{base}/kernels/{kernel_id}/channels"
        connection = websocket.create_connection(
            ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout
        )
        try:
            return _execute(connection, code, timeout)
        finally:
            connection.close()
            if notebook is not None:
                self.api("DELETE", f"{base}/sessions/{kernel.json()['id']}")
            self.api("DELETE", f"{base}/kernels/{kernel_id}")


def _execute(connection, code: str, timeout: float) -> str:
    msg_id = uuid.uuid4().hex
    connection.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "tests",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    output = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(connection.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["msg_type"]
        if kind == "stream":
            output.append(message["content"]["text"])
        elif kind == "error":
            raise RuntimeError(
                f"{message['content']['ename']}: {message['content']['evalue']}\n"
                + "\n".join(message["content"]["traceback"])
            )
        elif kind == "status" and message["content"]["execution_state"] == "idle":
            return "".join(output)
    raise TimeoutError("kernel did not finish in time")
