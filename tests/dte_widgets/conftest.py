"""Widgets without a browser: every comm is a recording dummy, so a test asserts on widget
state and on the messages a front end would receive."""

from __future__ import annotations

import comm
import ipywidgets as widgets
import pytest


class RecordingComm:
    """Stands in for the kernel's comm: keeps every message a widget sends."""

    kernel = "test"

    def __init__(self, *args, **kwargs):
        self.comm_id = kwargs.get("comm_id") or f"comm-{id(self)}"
        self.messages: list[dict] = []

    def open(self, *args, **kwargs):
        pass

    def on_msg(self, callback):
        self.callback = callback

    def send(self, data=None, metadata=None, buffers=None):
        self.messages.append({"data": data, "buffers": buffers})

    def close(self, *args, **kwargs):
        pass


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch):
    """Every widget created in a test gets a RecordingComm (``widget.comm.messages``)."""
    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(**kwargs))
    monkeypatch.setattr(comm, "get_comm_manager", lambda: None)


@pytest.fixture(autouse=True)
def private_registry(tmp_path, monkeypatch):
    """Runs go to a registry of the test's own, the catalog to a cache of its own."""
    monkeypatch.setenv("DTE_RUN_REGISTRY", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("DTE_CATALOG_CACHE", str(tmp_path / "catalog"))
    monkeypatch.setenv("DTE_PERSONAL_CATALOG", str(tmp_path / "mine"))
    monkeypatch.delenv("DTE_CATALOG_SHARED", raising=False)
    return tmp_path / "runs.sqlite"


def sent_states(widget) -> list[dict]:
    """The state updates a widget sent to the front end, oldest first."""
    return [
        message["data"]["state"]
        for message in widget.comm.messages
        if message["data"] and message["data"].get("method") == "update"
    ]


def upload(form, parameter: str, filename: str, content: bytes) -> str:
    """Upload ``content`` as ``filename`` into a path parameter's file picker, as a browser
    does; the path the form saved it to."""
    [picker] = [
        part
        for part in form._fields[parameter].row.children[0].children
        if isinstance(part, widgets.FileUpload)
    ]
    file = {
        "name": filename,
        "type": "application/octet-stream",
        "size": len(content),
        "content": memoryview(content),
        "last_modified": 0,
    }
    picker.set_state({"value": [file]})
    return form.values[parameter]
