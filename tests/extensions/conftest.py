"""A real Jupyter server in a temporary home, with the twin notebooks under notebooks/ as in a
clone or on Binder; nothing of a platform in its environment."""

import shutil
from pathlib import Path

import pytest

from tests.jupyter_server import clean_environment, running_jupyter_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, session with the token, home, token) of the module's server."""
    home = tmp_path_factory.mktemp("home")
    (home / "notebooks").mkdir()
    for notebook in (REPO / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, home / "notebooks")
    with running_jupyter_server(home, clean_environment(home)) as (url, session, token):
        yield url, session, home, token
