"""Connecting one's own physical twin: personal catalog entries checked against a twin's schema.

A user registers a file (CSV, Parquet or NetCDF; uploaded or any path they own) or a table or
dataset in memory, under a name, *like* one of the platform's entries: the data must follow that
entry's schema (same columns or variables, units, ranges), so any twin reading that entry reads
the user's data too. The data are copied into the user's private catalog folder (``~/.dte/catalog``
or ``DTE_PERSONAL_CATALOG``) in the cache format, and listed in ``personal.yaml`` there, an Intake
catalog that ``open_catalog()`` merges with the platform's.

A malformed file is refused with a SchemaError naming the row, column or variable at fault, and
nothing is registered.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pandas as pd
import xarray as xr
from intake.readers.entry import Catalog, ReaderDescription

from catalogs.cache import CachedData
from catalogs.entries import entry_spec
from catalogs.errors import CatalogError, SchemaError

__all__ = [
    "personal_folder",
    "register_dataset",
    "remove_dataset",
    "read_personal",
    "add_personal_entries",
]

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PERSONAL_CATALOG = "personal.yaml"


def personal_folder() -> Path:
    configured = os.environ.get("DTE_PERSONAL_CATALOG")
    return Path(configured) if configured else Path.home() / ".dte" / "catalog"


def _read_file(path: Path, kind: str):
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            table = pd.read_csv(path)
            if "time" in table:
                try:
                    table["time"] = pd.to_datetime(table["time"], format="ISO8601")
                except (ValueError, TypeError) as error:
                    raise SchemaError(f"column 'time' of {path.name}: {error}") from None
            return table
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".nc", ".nc4", ".netcdf"):
            if kind == "table":
                return xr.open_dataset(path).to_dataframe()
            return xr.open_dataset(path).load()
    except SchemaError:
        raise
    except pd.errors.ParserError as error:
        raise SchemaError(f"{path.name} is not a well-formed CSV file: {error}") from None
    except Exception as error:  # pyarrow, h5py and netCDF errors name the damage themselves
        raise SchemaError(
            f"{path.name} cannot be read as {suffix[1:]}: {type(error).__name__}: {error}"
        ) from None
    raise SchemaError(
        f"{path.name}: use a .csv, .parquet or .nc file (NetCDF); {suffix or 'no suffix'} is "
        "not a format the catalog reads."
    )


def _check_owner(path: Path) -> None:
    if not path.is_file():
        raise CatalogError(f"{path} is not a file.")
    if path.stat().st_uid != os.geteuid():
        raise CatalogError(f"{path} belongs to another account: register only files you own.")


def register_dataset(name: str, data, like: str, description: str = "") -> dict:
    """Check ``data`` (a path, DataFrame or Dataset) against entry ``like`` and register it.

    Returns the new entry's metadata. Registering a name again replaces that entry.
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise CatalogError(
            f"name {name!r} is not allowed: use 1–63 lowercase letters, digits and underscores, "
            "starting with a letter."
        )
    spec = entry_spec(like)
    if spec.live:
        raise CatalogError(
            f"{like!r} is a live feed: register data like one of the archived entries "
            "(a table or a grid), not like a feed."
        )
    source = "in-memory data"
    if isinstance(data, str | os.PathLike):
        path = Path(data).expanduser().resolve()
        _check_owner(path)
        source = str(path)
        data = _read_file(path, spec.schema.kind)
    checked = spec.schema.validate(data)
    metadata = {
        **spec.metadata(),
        "description": description or f"{name}: own data shaped like {like}",
        "provenance": f"registered by {os.environ.get('JUPYTERHUB_USER') or 'the user'} from "
        f"{source}",
        "synthetic": False,
        "sized": False,
        "like": like,
        "personal": True,
    }
    target = CachedData(name, "default", spec.storage, root=personal_folder())
    target.write(lambda: checked, {"like": like})
    catalog = _personal_catalog()
    catalog[name] = ReaderDescription(
        reader="catalogs.readers:PersonalEntryReader",
        kwargs={"entry": name, "storage": spec.storage},
        metadata=metadata,
        output_instance=("xarray:Dataset" if spec.storage == "zarr" else "pandas:DataFrame"),
    )
    _save(catalog)
    return metadata


def remove_dataset(name: str) -> None:
    catalog = _personal_catalog()
    if name not in catalog.entries:
        raise CatalogError(f"you have no dataset {name!r}.")
    del catalog.entries[name]
    _save(catalog)
    CachedData(name, "default", "parquet", root=personal_folder()).remove()


def read_personal(entry: str, storage: str):
    return CachedData(entry, "default", storage, root=personal_folder()).open(lazy=False)


def _personal_catalog() -> Catalog:
    path = personal_folder() / PERSONAL_CATALOG
    if path.is_file():
        return Catalog.from_yaml_file(str(path))
    return Catalog(metadata={"title": "my datasets"})


def _save(catalog: Catalog) -> None:
    folder = personal_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # a name of its own, so two kernels registering at once never write the same staging file
    staging = folder / f".{PERSONAL_CATALOG}.{uuid.uuid4().hex}"
    try:
        catalog.to_yaml_file(str(staging))
        staging.replace(folder / PERSONAL_CATALOG)
    finally:
        staging.unlink(missing_ok=True)


def add_personal_entries(catalog: Catalog) -> None:
    """Add the user's own entries to ``catalog`` (a platform entry's name is never shadowed)."""
    if not (personal_folder() / PERSONAL_CATALOG).is_file():
        return
    for name, entry in _personal_catalog().entries.items():
        if name not in catalog.entries:
            catalog.entries[name] = entry
