"""Core module of DTE Hub: the Intake catalog of the twins' data, its builders and live feeds.

from catalogs import open_catalog
catalog = open_catalog()                       # an Intake 2 catalog
list(catalog.entries)                          # entry names
catalog["fulda_forcing"].read()                # pandas, built into the cache on first use
open_catalog(size="large")["floodplain_terrain"].read()   # xarray, lazy with Dask
register_dataset("my_river", "gauge.csv", like="fulda_forcing")   # one's own twin's data
"""

from importlib import import_module

# Imported on first use (PEP 562): the live service imports ``catalogs.live`` and needs none of
# the catalog's stack (intake, pandas, xarray).
_PUBLIC = {
    "open_catalog": "catalogs.catalog_file",
    "read_entry": "catalogs.store",
    "build_entry": "catalogs.store",
    "register_dataset": "catalogs.personal",
    "remove_dataset": "catalogs.personal",
    "CatalogError": "catalogs.errors",
    "SchemaError": "catalogs.errors",
}
__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'catalogs' has no attribute {name!r}")
