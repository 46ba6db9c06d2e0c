"""Provenance of twin runs: content hashes of inputs, the code version, the run registry
(SQLite in the user's home) and export as W3C PROV-JSON."""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import sqlite3
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["content_hash", "code_version", "RunRecord", "RunRegistry", "to_prov_json"]


def _array_bytes(values) -> bytes:
    array = np.ascontiguousarray(np.asarray(values))
    if array.dtype == object:
        array = array.astype(str)
    return f"{array.dtype.str}{array.shape}".encode() + array.tobytes()


def content_hash(data) -> str:
    """sha256 of the values and labels of an array, Series, DataFrame, DataArray or Dataset."""
    digest = hashlib.sha256()
    if isinstance(data, xr.DataArray):
        data = data.to_dataset(name=str(data.name))
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, xr.Dataset):
        for name in sorted(map(str, data.variables)):
            variable = data.variables[name]
            digest.update(json.dumps([name, list(map(str, variable.dims))]).encode())
            digest.update(_array_bytes(variable.values))
    elif isinstance(data, pd.DataFrame):
        digest.update(json.dumps([str(c) for c in data.columns]).encode())
        digest.update(_array_bytes(data.index.to_numpy()))
        for column in data.columns:
            digest.update(_array_bytes(data[column].to_numpy()))
    else:
        digest.update(_array_bytes(np.asarray(data, dtype=float)))
    return "sha256:" + digest.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    try:
        version = metadata.version("dte-hub")
    except metadata.PackageNotFoundError:
        version = "unknown"
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"dte-hub {version}" + (f" ({commit})" if commit else "")


@dataclass
class RunRecord:
    """One run (or ensemble) of a twin, as the registry keeps it."""

    twin: str
    twin_version: str
    kind: str  # "run" or "ensemble"
    parameters: dict
    seed: int
    inputs: dict  # input name -> content hash
    code_version: str
    started: str
    duration_s: float
    status: str = "ok"  # or "failed"
    error: str = ""
    members: int = 1
    # DTE_RUN_USER: who is looking at a shared dashboard (set per viewer by the dashboards
    # service); JUPYTERHUB_USER: the owner of a user server
    user: str = field(
        default_factory=lambda: (
            os.environ.get("DTE_RUN_USER") or os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
        )
    )
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    twin TEXT NOT NULL,
    twin_version TEXT NOT NULL,
    kind TEXT NOT NULL,
    parameters TEXT NOT NULL,
    seed INTEGER NOT NULL,
    inputs TEXT NOT NULL,
    code_version TEXT NOT NULL,
    started TEXT NOT NULL,
    duration_s REAL NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL,
    members INTEGER NOT NULL,
    user TEXT NOT NULL
)
"""


class RunRegistry:
    """The runs of one person, in a SQLite file (default ``~/.dte/runs.sqlite``)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @staticmethod
    def default_path() -> Path:
        """``$DTE_RUN_REGISTRY`` if set, else ``~/.dte/runs.sqlite``."""
        return Path(os.environ.get("DTE_RUN_REGISTRY") or Path.home() / ".dte" / "runs.sqlite")

    @classmethod
    def default(cls) -> RunRegistry:
        return cls(cls.default_path())

    @contextlib.contextmanager
    def _connect(self):
        """A connection that commits on success and is always closed."""
        connection = sqlite3.connect(self.path, timeout=30)
        connection.row_factory = sqlite3.Row
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def record(self, run: RunRecord) -> str:
        row = asdict(run)
        row["parameters"] = json.dumps(run.parameters, sort_keys=True)
        row["inputs"] = json.dumps(run.inputs, sort_keys=True)
        columns = ", ".join(row)
        with self._connect() as db:
            db.execute(
                f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )
        return run.run_id

    def runs(self, twin: str | None = None) -> list[RunRecord]:
        query, args = "SELECT * FROM runs", []
        if twin:
            query, args = query + " WHERE twin = ?", [twin]
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY started", args).fetchall()
        return [self._to_record(row) for row in rows]

    def get(self, run_id: str) -> RunRecord:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id} in {self.path}")
        return self._to_record(row)

    @staticmethod
    def _to_record(row: sqlite3.Row) -> RunRecord:
        values = dict(row)
        values["parameters"] = json.loads(values["parameters"])
        values["inputs"] = json.loads(values["inputs"])
        return RunRecord(**values)


def to_prov_json(run: RunRecord) -> dict:
    """The run as a W3C PROV-JSON document: the result entity, generated by the run activity,
    which used the input entities and was associated with the user and the twin's code."""
    ns = "dte"
    activity = f"{ns}:run-{run.run_id}"
    result = f"{ns}:result-{run.run_id}"
    person = f"{ns}:user-{run.user}"
    software = f"{ns}:twin-{run.twin}-{run.twin_version}"
    ended = datetime.fromisoformat(run.started) + timedelta(seconds=run.duration_s)
    document = {
        "prefix": {ns: "urn:dte-hub:"},
        "entity": {
            result: {"prov:type": f"{ns}:{run.kind}-result", f"{ns}:status": run.status},
        },
        "activity": {
            activity: {
                "prov:startTime": run.started,
                "prov:endTime": ended.isoformat(timespec="milliseconds"),
                f"{ns}:parameters": json.dumps(run.parameters, sort_keys=True),
                f"{ns}:seed": run.seed,
                f"{ns}:members": run.members,
            }
        },
        "agent": {
            person: {"prov:type": "prov:Person"},
            software: {"prov:type": "prov:SoftwareAgent", f"{ns}:code_version": run.code_version},
        },
        "wasGeneratedBy": {
            f"_:gen-{run.run_id}": {"prov:entity": result, "prov:activity": activity}
        },
        "wasAssociatedWith": {
            f"_:assoc-user-{run.run_id}": {"prov:activity": activity, "prov:agent": person},
            f"_:assoc-code-{run.run_id}": {"prov:activity": activity, "prov:agent": software},
        },
        "used": {},
    }
    for name, digest in run.inputs.items():
        entity = f"{ns}:input-{name}-{digest.split(':')[-1][:16]}"
        document["entity"][entity] = {"prov:label": name, f"{ns}:content_hash": digest}
        document["used"][f"_:used-{name}-{run.run_id}"] = {
            "prov:activity": activity,
            "prov:entity": entity,
        }
    return document
