"""The Binder demo, built as repo2docker's pip path builds it, runs every notebook.

repo2docker copies the repository into the image's home, creates an environment with the
Python of ``binder/runtime.txt``, installs ``binder/requirements.txt``, runs ``binder/postBuild``
in the repository's folder, and runs every command through ``binder/start``. This test does the
same in a temporary home: a fresh virtual environment (uv installs the requirements file, with
pip's semantics, from the lock; pip is in the environment for ``postBuild``), then ``postBuild``,
then ``start python -m pytest notebooks`` with nbval. Kernels start from the kernel spec the
package installed, with nothing of this machine's platform in their environment, and the
notebooks read the catalog that ``postBuild`` built, as on mybinder.org (``--noconftest``: the
test setup of ``notebooks/conftest.py`` is not Binder's).

It also checks Binder's memory: the sum over the processes of the run (pytest, kernels, local
Dask workers) stays under 2 GiB at every sample.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from hub.dashboards.twin_notebooks import TWIN_NOTEBOOKS
from tests.jupyter_server import running_jupyter_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
BINDER_MEMORY = 2 * 1024**3


def repository_files() -> list[str]:
    """The files a clone has (tracked, and new ones not ignored), as repo2docker copies them."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    )
    return [name for name in listed.stdout.decode().split("\0") if name]


def binder_environment(home: Path, venv: Path) -> dict:
    """A Binder container's environment: the image's PATH, its own home, nothing of DTE Hub."""
    # how this machine reaches the package index (certificates, proxies, mirrors): a Binder
    # builder has its own
    reach = re.compile(
        r"(PIP|UV|NPM_CONFIG)_.*|.*_PROXY|.*(CA_BUNDLE|CERT_FILE|CERT_DIR|CA_CERTS)", re.I
    )
    keep = ("LANG", "LC_ALL", "TMPDIR")
    environment = {
        key: value for key, value in os.environ.items() if key in keep or reach.fullmatch(key)
    }
    environment.update(
        HOME=str(home),
        PATH=f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        VIRTUAL_ENV=str(venv),
        # the machine's uv cache, not the temporary home's (which would download everything)
        UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
        UV_PYTHON_DOWNLOADS="never",
        # and its npm cache (postBuild builds the lab extension)
        npm_config_cache=os.environ.get("npm_config_cache", str(Path.home() / ".npm")),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return environment


def run(command, cwd: Path, environment: dict, timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


class PeakMemory:
    """The largest sum of resident memory over a process and its descendants, sampled."""

    def __init__(self, process: subprocess.Popen, every: float = 0.2):
        self.root, self.every, self.peak = psutil.Process(process.pid), every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for process in tree:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@pytest.fixture(scope="module")
def binder_home(tmp_path_factory):
    """The image's home after repo2docker's build: the repository, its environment, postBuild."""
    root = tmp_path_factory.mktemp("binder")
    home, venv = root / "home", root / "env"
    for name in repository_files():
        source = REPO / name
        if source.is_file():
            (home / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, home / name)
    environment = binder_environment(home, venv)
    python = re.fullmatch(r"python-(\d+\.\d+)\s*", (home / "binder/runtime.txt").read_text())
    assert python, "binder/runtime.txt must read python-X.Y"
    run([UV, "venv", "--seed", "--python", python.group(1), venv], home, environment, 120)
    run(
        [UV, "pip", "install", "--python", venv / "bin/python", "-r", "binder/requirements.txt"],
        home,
        environment,
        900,
    )
    run(["bash", "binder/postBuild"], home, environment, 600)
    return home, environment


def test_postbuild_installs_the_kernel_extensions_and_templates(binder_home):
    home, environment = binder_home
    venv = Path(environment["VIRTUAL_ENV"])
    kernels = run(["jupyter", "kernelspec", "list"], home, environment, 60).stdout
    assert re.search(rf"dte\s+{re.escape(str(venv))}/share/jupyter/kernels/dte", kernels)
    extensions = run(["jupyter", "server", "extension", "list"], home, environment, 60)
    listing = extensions.stdout + extensions.stderr
    assert re.search(r"extensions\.dte_server\s+\S*enabled", listing), listing
    assert re.search(r"voila\.server_extension\s+\S*enabled", listing), listing
    assert (venv / "share/jupyter/voila/templates/dte/index.html.j2").is_file()
    labextensions = run(["jupyter", "labextension", "list"], home, environment, 60)
    assert re.search(
        r"@dte-hub/jupyterlab v\S+ \S*enabled\S* \S*OK",
        labextensions.stdout + labextensions.stderr,
    )
    # the catalog at Binder size is in the image (postBuild), not built when a user arrives
    assert (home / ".cache/dte-hub/catalog/gauge_network/small/manifest.json").is_file()


def test_start_runs_every_notebook_within_binders_memory(binder_home):
    home, environment = binder_home
    notebooks = sorted(str(p.relative_to(home)) for p in (home / "notebooks").rglob("*.ipynb"))
    assert len(notebooks) >= 16
    process = subprocess.Popen(
        [
            "binder/start",
            "python",
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--noconftest",
            "-q",
            *notebooks,
        ],
        cwd=home,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its kernels and Dask workers can be stopped as a group
    )
    memory = PeakMemory(process)
    try:
        output, _ = process.communicate(timeout=1200)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        peak = memory.stop()
    assert process.returncode == 0, output[-5000:]
    assert re.search(r"\d+ passed", output) and not re.search(r"\d+ (failed|error)", output)
    assert peak < BINDER_MEMORY, f"the notebooks' processes used {peak / 1024**3:.2f} GiB"


def test_jupyterlab_and_voila_open_the_twin_notebooks(binder_home):
    """What the README's two Binder links open: JupyterLab on a twin notebook, and the same
    notebook as a Voila dashboard (rendered with its widgets, from the platform's template)."""
    home, environment = binder_home
    lab_server = running_jupyter_server(home, environment, ["binder/start", "jupyter", "lab"])
    with lab_server as (url, session, _):
        lab = session.get(f"{url}/lab/tree/notebooks/flood.ipynb", timeout=30)
        assert lab.status_code == 200 and "JupyterLab" in lab.text
        dashboard = session.get(f"{url}/voila/render/notebooks/flood.ipynb", timeout=300)
        assert dashboard.status_code == 200
        assert "application/vnd.jupyter.widget-view+json" in dashboard.text  # the dashboard
        assert "Traceback" not in dashboard.text
        assert "cdn.jsdelivr.net" not in dashboard.text and "unpkg.com" not in dashboard.text
        # the launcher offers the four twins as Voila dashboards of this server
        offer = session.get(f"{url}/dte/api/launcher", timeout=30).json()
        assert {d["url"] for d in offer["dashboards"]} == {
            f"/voila/render/notebooks/{filename}" for filename, _ in TWIN_NOTEBOOKS.values()
        }
        # a notebook without a kernelspec starts the DTE kernel without asking
        assert session.get(f"{url}/api/kernelspecs", timeout=30).json()["default"] == "dte"
        tracker = "@jupyterlab/notebook-extension:tracker"
        schema = session.get(f"{url}/lab/api/settings/{tracker}", timeout=30).json()["schema"]
        assert schema["properties"]["autoStartDefaultKernel"]["default"] is True  # overrides
