"""Fixtures for twin tests: forcing, a run registry in a temporary folder, Dask clusters."""

import numpy as np
import pandas as pd
import pytest

from dte_twins.provenance import RunRegistry


@pytest.fixture
def registry(tmp_path):
    return RunRegistry(tmp_path / "runs.sqlite")


@pytest.fixture(autouse=True)
def private_default_registry(tmp_path, monkeypatch):
    # Runs without an explicit registry go here, never into the tester's home.
    monkeypatch.setenv("DTE_RUN_REGISTRY", str(tmp_path / "default-runs.sqlite"))


def synthetic_forcing(days=400, seed=3) -> pd.DataFrame:
    """Markov-chain wet days with gamma amounts (Seattle-like, SCIENCE.md) and a seasonal PET."""
    rng = np.random.default_rng(seed)
    wet = np.zeros(days, bool)
    for day in range(1, days):
        wet[day] = rng.random() < (0.673 if wet[day - 1] else 0.244)
    rain = np.where(wet, rng.gamma(0.80, 8.9, days), 0.0)
    pet = 2.0 + 1.5 * np.sin(2 * np.pi * (np.arange(days) - 80) / 365)
    index = pd.date_range("2020-01-01", periods=days, freq="D")
    return pd.DataFrame({"precipitation": rain, "pet": pet}, index=index)


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
