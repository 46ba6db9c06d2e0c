"""Runs from a dashboard are recorded under the viewer's name, even on a busy machine."""

import os

import voila.utils

from dte_widgets.voila_viewer import attribute_runs_to_viewer


def test_a_preheated_kernel_asks_again_when_voila_was_too_busy_to_answer(monkeypatch):
    monkeypatch.setenv("VOILA_KERNEL_ID", "kernel-1")
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    monkeypatch.delenv("HTTP_X_DTE_USER", raising=False)
    monkeypatch.delenv("DTE_RUN_USER", raising=False)
    answers = iter([None, None, "ada"])  # two connections timed out, then the request came

    def wait_for_request():
        viewer = next(answers)
        if viewer:
            monkeypatch.setenv("HTTP_X_DTE_USER", viewer)

    monkeypatch.setattr(voila.utils, "wait_for_request", wait_for_request)
    assert attribute_runs_to_viewer() == "ada"
    assert os.environ["DTE_RUN_USER"] == "ada"


def test_outside_voila_the_runs_stay_the_notebook_owners(monkeypatch):
    monkeypatch.delenv("VOILA_KERNEL_ID", raising=False)
    monkeypatch.setenv("DTE_RUN_USER", "owner")
    assert attribute_runs_to_viewer() == ""
    assert os.environ["DTE_RUN_USER"] == "owner"
