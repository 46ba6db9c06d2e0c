"""Reading an entry: build it into the cache on first use, check it, open it.

This is what the Intake reader calls; it works the same without Intake (``read_entry``).
"""

from __future__ import annotations

import time
import warnings

from catalogs.cache import CachedData, shared_cache_root
from catalogs.entries import EntrySpec, entry_spec
from catalogs.errors import CatalogError
from catalogs.sizes import SIZES, scale_of, size_name

__all__ = ["read_entry", "build_entry", "cached", "LAZY_FROM_SCALE"]

#: tables of at least this scale open as Dask DataFrames (grids always open lazily from Zarr)
LAZY_FROM_SCALE = SIZES["large"]
#: grids of more cells than this are checked for names, dims and types only, not every value
VALUE_CHECK_LIMIT = 20_000_000


def cached(spec: EntrySpec, size="default", shared: bool = True) -> CachedData:
    """Where an entry is cached: the platform's shared cache if it holds the entry (built by
    the platform at start), else the user's own cache (``DTE_CATALOG_CACHE``)."""
    size = size_name(size) if spec.sized else "default"
    root = shared_cache_root() if shared else None
    if root is not None:
        in_shared = CachedData(spec.name, size, spec.storage, root=root)
        if in_shared.exists():
            return in_shared
    return CachedData(spec.name, size, spec.storage)


def _produce(spec: EntrySpec, size):
    from importlib import import_module

    module, function = spec.builder.split(":")
    builder = getattr(import_module(module), function)
    data = builder(scale_of(size)) if spec.sized else builder()
    if spec.schema.kind == "grid":
        check_values = data.sizes.get("x", 1) * data.sizes.get("y", 1) <= VALUE_CHECK_LIMIT
        if check_values:  # small enough to hold: compute once for the check and the write
            data = data.persist()
        return spec.schema.validate(data, check_values=check_values)
    if hasattr(data, "columns"):
        return spec.schema.validate(data)
    return (spec.schema.validate(chunk) for chunk in data)


def build_entry(name: str, size="default", force: bool = False) -> float:
    """Build an entry into the cache (again, with ``force``); the seconds it took."""
    spec = entry_spec(name)
    if spec.live:
        raise CatalogError(
            f"{name!r} is a live feed: the live service archives it as it comes, there is "
            "nothing to build; read it with read_entry or the catalog"
        )
    # a forced rebuild goes to the user's own cache: the shared one is the platform's
    target = cached(spec, size, shared=not force)
    started = time.perf_counter()
    if force or not target.exists():
        metadata = {"synthetic": spec.synthetic, "scale": scale_of(size) if spec.sized else 1}
        target.write(lambda: _produce(spec, size), metadata)
    return time.perf_counter() - started


def read_entry(name: str, size="default", lazy: bool | None = None):
    """The data of an entry: pandas (or Dask) DataFrame for tables, xarray Dataset for grids.

    A live entry gives the feed's archived history, from the platform's live service."""
    spec = entry_spec(name)
    if spec.live:
        from catalogs.live.client import LiveFeed

        return LiveFeed(spec.feed).history()
    if lazy is None:
        lazy = spec.sized and scale_of(size) >= LAZY_FROM_SCALE
    target = cached(spec, size)
    if target.root == shared_cache_root():
        try:
            return target.open(lazy=lazy)
        except CatalogError as error:  # damaged by someone else: the user's own copy serves
            warnings.warn(f"{error} Reading from your own cache instead.", stacklevel=2)
            target = cached(spec, size, shared=False)
    if not target.exists():
        build_entry(name, size, force=True)
    return target.open(lazy=lazy)
