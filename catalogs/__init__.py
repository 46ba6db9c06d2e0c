"""Core module of DTE Hub: the Intake catalog of the twins' data, its builders and live feeds.

from catalogs import open_catalog
catalog = open_catalog()                       # an Intake 2 catalog
list(catalog.entries)                          # entry names
catalog["fulda_forcing"].read()                # pandas, built into the cache on first use
open_catalog(size="large")["floodplain_terrain"].read()   # xarray, lazy with Dask
register_dataset("my_river", "gauge.csv", like="fulda_forcing")   # one's own twin's data
"""

from catalogs.catalog_file import open_catalog
from catalogs.errors import CatalogError, SchemaError
from catalogs.personal import register_dataset, remove_dataset
from catalogs.store import build_entry, read_entry

__all__ = [
    "open_catalog",
    "read_entry",
    "build_entry",
    "register_dataset",
    "remove_dataset",
    "CatalogError",
    "SchemaError",
]
