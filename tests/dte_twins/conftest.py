"""Fixtures for twin tests: forcing, a run registry in a temporary folder, Dask clusters."""

import pytest

from dte_twins.provenance import RunRegistry
from tests.dte_twins.synthetic import synthetic_forcing


@pytest.fixture
def registry(tmp_path):
    return RunRegistry(tmp_path / "runs.sqlite")


@pytest.fixture(autouse=True)
def private_default_registry(tmp_path, monkeypatch):
    # Runs without an explicit registry go here, never into the tester's home.
    monkeypatch.setenv("DTE_RUN_REGISTRY", str(tmp_path / "default-runs.sqlite"))


@pytest.fixture
def forcing():
    return synthetic_forcing()


def _local_client(**cluster_options):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(threads_per_worker=1, dashboard_address=":0", **cluster_options)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def two_worker_client():
    yield from _local_client(n_workers=2, processes=True)


@pytest.fixture(scope="session")
def in_process_client():
    yield from _local_client(n_workers=1, processes=False)


@pytest.fixture(scope="session")
def one_worker_client():
    yield from _local_client(n_workers=1, processes=True)
