"""The error journal of a dashboard: newest first, bounded, readable after a damaged line."""

import sys

from hub.dashboards import error_journal


def record_error(folder, message, dashboard="river"):
    try:
        raise RuntimeError(message)
    except RuntimeError:
        error_journal.record(folder, dashboard, *sys.exc_info())


def test_errors_come_newest_first_with_their_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("HTTP_X_DTE_USER", "ada")
    for number in range(3):
        record_error(tmp_path, f"failure {number}")
    errors = error_journal.recent(tmp_path, "river", limit=2)
    assert [e["error"] for e in errors] == ["RuntimeError: failure 2", "RuntimeError: failure 1"]
    assert errors[0]["viewer"] == "ada" and "raise RuntimeError" in errors[0]["traceback"]
    assert error_journal.recent(tmp_path, "lake") == []
    assert (tmp_path / "river.jsonl").stat().st_mode & 0o077 == 0  # the owner's, via the service


def test_a_full_journal_keeps_its_newer_half(tmp_path, monkeypatch):
    monkeypatch.setattr(error_journal, "MAX_JOURNAL_BYTES", 20_000)
    for number in range(100):
        record_error(tmp_path, f"failure {number}")
    assert (tmp_path / "river.jsonl").stat().st_size <= 20_000
    errors = error_journal.recent(tmp_path, "river", limit=1000)
    assert errors[0]["error"] == "RuntimeError: failure 99"
    assert 10 < len(errors) < 100


def test_a_damaged_line_is_skipped_and_forget_deletes_the_journal(tmp_path):
    record_error(tmp_path, "first")
    with open(tmp_path / "river.jsonl", "a") as journal:
        journal.write('\n{"time": 1, "err')  # an entry cut short by a full disk
    record_error(tmp_path, "second")
    errors = error_journal.recent(tmp_path, "river")
    assert [e["error"] for e in errors] == ["RuntimeError: second", "RuntimeError: first"]
    error_journal.forget(tmp_path, "river")
    assert error_journal.recent(tmp_path, "river") == []
