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

__all__ = ["running_jupyter_server", "clean_environment"]


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
def running_jupyter_server(root: Path, environment: dict, command=None, timeout: float = 60):
    """Yield (url, session with the token, token) of a Jupyter server serving ``root``.

    ``command`` starts it (default: ``python -m jupyter_server``; JupyterLab, Voila and the
    DTE server extension are enabled by their config files, as for a user)."""
    port, token = free_port(), secrets.token_hex(16)
    command = list(command or [sys.executable, "-m", "jupyter_server"])
    log = root / f"jupyter-{port}.log"
    log_file = open(log, "wb")  # closed with the server
    process = subprocess.Popen(
        [
            *command,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            *(["--allow-root"] if os.getuid() == 0 else []),
        ],
        cwd=root,
        env={**environment, "JUPYTER_TOKEN": token},
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    url = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if session.get(f"{url}/api/status", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Jupyter server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, session, token
    finally:
        process.terminate()  # the server shuts its kernels down
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log_file.close()
