"""Fixtures for catalog tests: a private cache and a private personal catalog per test."""

import pytest


@pytest.fixture(autouse=True)
def private_catalog_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("DTE_CATALOG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DTE_PERSONAL_CATALOG", str(tmp_path / "mine"))
    monkeypatch.delenv("DTE_CATALOG_SHARED", raising=False)  # set inside user servers
    return tmp_path


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory):
    """One cache for tests that only read (entries are built once per session)."""
    return tmp_path_factory.mktemp("shared-cache")
