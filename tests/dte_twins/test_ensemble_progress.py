"""Ensembles report progress while members run, and stop when the user cancels."""

import time

import pytest

from dte_twins.errors import RunCancelled
from dte_twins.physics.calorimeter import CalorimeterTwin
from dte_twins.provenance import RunRegistry


def small_twin(registry=False):
    return CalorimeterTwin(registry=registry, seed=4, n_events=40, energy_points=2)


def test_progress_counts_members_done_up_to_the_total(in_process_client):
    reports = []
    ensemble = small_twin().ensemble(
        3, client=in_process_client, progress=lambda done, total: reports.append((done, total))
    )
    assert ensemble.sizes["member"] == 3
    assert reports[-1] == (3, 3)
    assert all(total == 3 for _, total in reports)
    done = [d for d, _ in reports]
    assert done == sorted(done)  # never goes back


def test_cancelling_stops_the_members_and_records_a_failed_run(in_process_client, tmp_path):
    registry = RunRegistry(tmp_path / "runs.sqlite")

    def cancel(done, total):
        raise RunCancelled("cancelled by the user")

    with pytest.raises(RunCancelled):
        small_twin(registry).ensemble(8, client=in_process_client, progress=cancel)
    [run] = registry.runs()
    assert run.status == "failed" and "cancelled" in run.error
    # nothing of the cancelled ensemble stays on the scheduler (released asynchronously, as are
    # the members of other tests on this shared client: wait for it, within a bound)
    deadline = time.monotonic() + 30
    while [key for key in in_process_client.who_has() if "_member" in str(key)]:
        assert time.monotonic() < deadline, "members of a cancelled ensemble stayed"
        time.sleep(0.1)
