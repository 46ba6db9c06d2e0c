"""Registering one's own data from the catalog browser: which uploads, names and entries to be
"like" are accepted, and how an uploaded file is written for ``catalogs.register_dataset``."""

from __future__ import annotations

import os
from pathlib import Path

from catalogs.personal import NAME as ENTRY_NAME

__all__ = ["MAX_UPLOAD_BYTES", "UPLOAD_TYPES"]

#: largest upload registered from the browser; larger files go through a path on the server
MAX_UPLOAD_BYTES = 200 * 1024**2
UPLOAD_TYPES = (".csv", ".parquet", ".nc")


def _registrable(metadata: dict) -> bool:
    """Entries one's own data may be registered like: the platform's archived ones."""
    return not metadata.get("live") and not metadata.get("personal")


def _name_problem(name: str, existing: dict[str, dict]) -> str:
    if not name:
        return "Give the entry a name (lowercase letters, digits and underscores)."
    if not ENTRY_NAME.match(name):
        return (
            f"The name {name!r} is not allowed: use 1–63 lowercase letters, digits and "
            "underscores, starting with a letter."
        )
    if name in existing and not existing[name].get("personal"):
        return f"{name!r} is an entry of the platform: choose another name for your own data."
    return ""


def _safe_filename(name) -> str:
    """The uploaded file's own name, without folders; never hidden."""
    base = Path(str(name)).name.lstrip(".")
    return base or "upload" + Path(str(name)).suffix


def _write_private(path: Path, content: bytes) -> None:
    """Write a file only the user can read (register_dataset accepts only files one owns)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
