"""The on-disk cache of built datasets: Parquet for tables, Zarr for grids, never half-written.

Layout under the cache root (``DTE_CATALOG_CACHE``; the platform points it into its state
folder, elsewhere ``~/.cache/dte-hub/catalog``)::

    <entry>/<size>/data.parquet | data.zarr
    <entry>/<size>/manifest.json      every file with its size, written last

A build writes into a hidden sibling folder and renames it into place in one step, so an
interrupted build leaves nothing a reader would take for data, and two processes building at once
both end with one complete copy. A read first compares the files with the manifest (a truncated
Parquet file or a missing Zarr chunk is found before any value is read), then opens the data:
lazily with Dask for Zarr and for tables of the large sizes.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import xarray as xr

from catalogs.errors import CatalogError

__all__ = ["cache_root", "shared_cache_root", "CachedData", "MANIFEST"]

MANIFEST = "manifest.json"
#: manifests verified in this process, by (path, mtime, inode)
_VERIFIED: dict[tuple, dict] = {}


def cache_root() -> Path:
    configured = os.environ.get("DTE_CATALOG_CACHE")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "dte-hub" / "catalog"


def shared_cache_root() -> Path | None:
    """The platform's shared, read-only cache (``DTE_CATALOG_SHARED``, set in user servers)."""
    configured = os.environ.get("DTE_CATALOG_SHARED")
    return Path(configured) if configured else None


def _file_sizes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


class CachedData:
    """One entry at one size in the cache."""

    def __init__(self, entry: str, size: str, storage: str, root: Path | None = None):
        if storage not in ("parquet", "zarr"):
            raise ValueError(f"storage must be 'parquet' or 'zarr', not {storage!r}")
        self.entry, self.size, self.storage = entry, size, storage
        self.root = root or cache_root()
        self.folder = self.root / entry / size
        self.data_path = self.folder / f"data.{storage}"

    @property
    def rebuild_hint(self) -> str:
        return (
            f"rebuild it with `python -m catalogs rebuild {self.entry} --size {self.size}` or "
            f"`catalogs.build_entry({self.entry!r}, size={self.size!r}, force=True)`"
        )

    def exists(self) -> bool:
        return (self.folder / MANIFEST).is_file()

    def check(self) -> dict:
        """The manifest, after checking every file against it; CatalogError if anything is off.

        A manifest verified once in this process is trusted until it changes (a rebuild writes
        a new one): listing every chunk of a large Zarr store at every read would cost more
        than the read. Damage done later still fails the read itself, with the rebuild hint.
        """
        manifest_path = self.folder / MANIFEST
        try:
            stat = manifest_path.stat()
        except OSError:
            stat = None
        key = (str(manifest_path), stat.st_mtime_ns, stat.st_ino) if stat else None
        if key in _VERIFIED:
            return _VERIFIED[key]
        manifest = self._verify(manifest_path)
        _VERIFIED[key] = manifest
        return manifest

    def _verify(self, manifest_path: Path) -> dict:
        if not manifest_path.is_file():
            state = "is incomplete (no manifest)" if self.folder.exists() else "is missing"
            raise CatalogError(
                f"the cache of {self.entry!r} ({self.folder}) {state}: {self.rebuild_hint}."
            )
        try:
            manifest = json.loads(manifest_path.read_text())
            expected = manifest["files"]
        except (ValueError, KeyError):
            raise CatalogError(
                f"the cache manifest of {self.entry!r} ({manifest_path}) is corrupt: "
                f"{self.rebuild_hint}."
            ) from None
        actual = _file_sizes(self.folder)
        for name, size in expected.items():
            if name not in actual:
                raise CatalogError(
                    f"the cache of {self.entry!r} is corrupt: {name} is missing from "
                    f"{self.folder}: {self.rebuild_hint}."
                )
            if actual[name] != size:
                raise CatalogError(
                    f"the cache of {self.entry!r} is corrupt: {name} has {actual[name]} bytes, "
                    f"{size} were written: {self.rebuild_hint}."
                )
        return manifest

    def write(self, produce: Callable[[], object], metadata: dict) -> None:
        """Build with ``produce`` into a hidden folder, then move it into place atomically.

        ``produce`` returns a DataFrame, an iterable of DataFrames (written as row groups, for
        tables too large for memory) or a Dataset (possibly Dask-backed, written chunk by chunk).
        """
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        # a copy there now is being replaced (damaged, or a forced rebuild); one that appears
        # while we build is another process's build of the same data
        replacing = self.folder.exists()
        staging = self.folder.parent / f".{self.size}.building-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            data = produce()
            target = staging / self.data_path.name
            if self.storage == "zarr":
                _write_zarr(data, target)
            else:
                _write_parquet(data, target)
            manifest = {"entry": self.entry, "size": self.size, **metadata}
            manifest["files"] = _file_sizes(staging)
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str))
            if self.folder.exists():
                if not replacing and self.exists():
                    # Another process finished first (two dashboards' kernels starting at once,
                    # measured): its copy is as good as ours and may be open already.
                    return
                self._move_aside()
            try:
                staging.rename(self.folder)
            except OSError:
                if not self.exists():  # not another process winning the race: a real error
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _move_aside(self) -> None:
        """Take the current copy out of place in one step, then delete it: two processes
        replacing it at once never delete the same files (one rename wins)."""
        aside = self.folder.parent / f".{self.size}.replaced-{uuid.uuid4().hex}"
        try:
            self.folder.rename(aside)
        except FileNotFoundError:  # another process moved it first
            return
        shutil.rmtree(aside, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def open(self, lazy: bool):
        """The data: an xarray Dataset (Dask-backed) or a pandas / Dask DataFrame."""
        self.check()
        try:
            if self.storage == "zarr":
                return xr.open_zarr(self.data_path, chunks={})
            if lazy:
                import dask.dataframe as dd

                return dd.read_parquet(self.data_path)
            return pd.read_parquet(self.data_path)
        except Exception as error:  # the manifest matched, but the bytes are damaged
            raise CatalogError(
                f"the cache of {self.entry!r} cannot be read ({type(error).__name__}: {error}): "
                f"{self.rebuild_hint}."
            ) from error


def _write_zarr(data, target: Path) -> None:
    if not isinstance(data, xr.Dataset):
        raise TypeError(f"a grid builder must return an xarray Dataset, not {type(data).__name__}")
    data.to_zarr(target, mode="w-", consolidated=True, zarr_format=2)


def _write_parquet(data, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunks: Iterable[pd.DataFrame] = [data] if isinstance(data, pd.DataFrame) else data
    writer = None
    try:
        for chunk in chunks:
            table = pa.Table.from_pandas(chunk, preserve_index=True)
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise ValueError("a table builder produced no rows")
