"""Which viewer session a dashboard's ensembles belong to (``dte_twins.compute``), without a
gateway: the hub test ``test_each_panel_session_runs_its_ensembles_on_a_cluster_of_its_own``
runs the clusters themselves."""

import pytest

from dte_twins import compute


@pytest.fixture
def in_a_dashboard(monkeypatch):
    """The environment the dashboards service gives Voila's kernels and panel serve."""
    monkeypatch.setenv("DASK_GATEWAY__ADDRESS", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("DTE_CLUSTER_PER_SESSION", "1")


def test_outside_a_dashboard_there_is_no_session(monkeypatch):
    monkeypatch.delenv("DTE_CLUSTER_PER_SESSION", raising=False)
    assert compute.current_session() is None


def test_a_dashboard_kernel_is_one_session(in_a_dashboard):
    # no panel serve session here (this process has not made one): the process is the session
    assert compute.current_session() == ""


def test_a_session_that_has_ended_starts_no_cluster(in_a_dashboard):
    compute.close_session_cluster("closed-page")  # nothing started: nothing to shut down
    # a run that was still starting when its page closed gets a sentence, and no cluster
    with pytest.raises(RuntimeError, match="page was closed: open it again"):
        compute.find_client(session="closed-page")
    assert "closed-page" not in compute._session_clusters


def test_ended_sessions_are_remembered_only_so_far(in_a_dashboard, monkeypatch):
    monkeypatch.setattr(compute, "ENDED_SESSIONS_KEPT", 3)
    for n in range(5):
        compute.close_session_cluster(f"page-{n}")
    assert list(compute._ended_sessions)[-3:] == ["page-2", "page-3", "page-4"]
    assert "page-0" not in compute._ended_sessions
