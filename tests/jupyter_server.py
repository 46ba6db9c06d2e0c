"""A real Jupyter server for tests: started as a user would, on a free port, with a token, in a
folder of the test's; stopped (with its kernels) when the test is done."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.hub.platform import free_port

__all__ = ["running_jupyter_server", "serving", "clean_environment"]


def clean_environment(home: Path) -> dict:
    """This process's environment without any platform (no hub, gateway or DTE settings)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DTE_", "JUPYTERHUB_", "DASK_GATEWAY", "JUPYTER_"))
    }
    environment.update(HOME=str(home), JUPYTER_RUNTIME_DIR=str(home / ".jupyter-runtime"))
    return environment


@contextlib.contextmanager
def serving(command: list[str], url: str, folder: Path, env: dict, timeout: float = 60):
    """Run ``command`` in ``folder`` (its output in a log there) until ``url`` answers 200;
    yield ``url``; stop the server (and so its kernels) when the test is done."""
    log = open(folder / f"server-{Path(command[0]).name}-{free_port()}.log", "ab")
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert server.poll() is None, Path(log.name).read_text()[-3000:]
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=5).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the server did not answer in {timeout} s"
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


@contextlib.contextmanager
def running_jupyter_server(root: Path, environment: dict, command=None, timeout: float = 60):
    """Yield (url, session with the token, token) of a Jupyter server serving ``root``.

    ``command`` starts it (default: ``python -m jupyter_server``; JupyterLab, Voila and the
    DTE server extension are enabled by their config files, as for a user)."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        *(command or [sys.executable, "-m", "jupyter_server"]),
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        *(["--allow-root"] if os.getuid() == 0 else []),
    ]
    url = f"http://127.0.0.1:{port}"
    environment = {**environment, "JUPYTER_TOKEN": token}
    with serving(command, f"{url}/api/status?token={token}", root, environment, timeout):
        session = requests.Session()
        session.headers["Authorization"] = f"token {token}"
        yield url, session, token
