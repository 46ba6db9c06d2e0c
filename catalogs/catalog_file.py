"""The catalog as an Intake 2 catalog: written from the declarations, opened with one call.

``catalogs/catalog.yaml`` is generated (``python -m catalogs write``) and committed, so plain
``intake.from_yaml_file`` reads it anywhere this package is installed; a test keeps it equal to
the declarations. ``open_catalog()`` returns the same catalog at a chosen ``size``, with the
user's own entries added (see ``personal``).
"""

from __future__ import annotations

import os
from pathlib import Path

from intake.readers.entry import Catalog, ReaderDescription
from intake.readers.user_parameters import OptionsUserParameter

from catalogs.entries import ENTRIES
from catalogs.errors import CatalogError
from catalogs.sizes import SIZES

__all__ = [
    "CATALOG_FILE",
    "SIZE_ENV",
    "PlatformCatalog",
    "build_catalog",
    "default_size",
    "open_catalog",
    "write_catalog",
]

#: the environment variable naming the size ``open_catalog()`` opens by default
SIZE_ENV = "DTE_CATALOG_SIZE"

CATALOG_FILE = Path(__file__).with_name("catalog.yaml")


class PlatformCatalog(Catalog):
    """Intake's catalog, keeping the reader it made for each entry.

    Intake's ``Catalog.__getitem__`` copies the entry, walks it to fill in references and
    templates and instantiates a new reader at every access: about 0.2 ms, a fifth of reading a
    small table. Readers are descriptions (the entry's arguments), so the one made for an entry
    is kept and reused until the entry object or the parameter values change.
    """

    def __getitem__(self, item):
        name = self.aliases.get(item, item)
        entry = self.entries.get(name)
        if entry is None:
            return super().__getitem__(item)
        # parameter values are fixed per catalog (``__call__`` makes a new one): the name is key
        readers = self.__dict__.setdefault("_readers", {})
        kept = readers.get(name)
        # the entry object itself is kept and compared: an id could be reused after a change
        if kept is None or kept[0] is not entry:
            kept = readers[name] = (entry, super().__getitem__(item))
        return kept[1]

    def __call__(self, **parameters):
        """A catalog with these parameter values (``size=...``), keeping readers too."""
        return PlatformCatalog(
            entries=self.entries,
            aliases=self.aliases,
            data=self.data,
            user_parameters=self.user_parameters,
            parameter_overrides={**self._up_overrides, **parameters},
            metadata=self.metadata,
        )


def build_catalog(catalog_type: type[Catalog] = Catalog) -> Catalog:
    """The platform's catalog, from ``entries.ENTRIES``."""
    catalog = catalog_type(
        metadata={
            "title": "DTE Hub data catalog",
            "description": (
                "Historical data and live feeds of DTE Hub's digital twins. Synthetic entries "
                "scale with the size parameter; real observations have one size."
            ),
        },
        user_parameters={
            "size": OptionsUserParameter(
                options=list(SIZES),
                dtype=str,
                default="default",
                description="size of synthetic datasets: " + ", ".join(SIZES),
            )
        },
    )
    for name, spec in ENTRIES.items():
        if spec.live:
            catalog[name] = ReaderDescription(
                reader="catalogs.readers:LiveFeedReader",
                kwargs={"feed": spec.feed},
                metadata=spec.metadata(),
                output_instance="pandas:DataFrame",
            )
            continue
        # not "size": a reader argument named like a catalog parameter is taken as its value
        kwargs = {"entry": name, "entry_size": "{size}" if spec.sized else "default"}
        catalog[name] = ReaderDescription(
            reader="catalogs.readers:EntryReader",
            kwargs=kwargs,
            metadata=spec.metadata(),
            output_instance=(
                "xarray:Dataset" if spec.schema.kind == "grid" else "pandas:DataFrame"
            ),
        )
    return catalog


def write_catalog(path: Path = CATALOG_FILE) -> Path:
    build_catalog().to_yaml_file(str(path))
    return path


def open_catalog(size: str | None = None, personal: bool = True) -> Catalog:
    """The catalog, at ``size``, with the user's own entries.

    ``size`` defaults to ``DTE_CATALOG_SIZE`` if set (Binder sets ``small``: every twin
    notebook then runs within Binder's 2 GB), else ``"default"``.

    Built from the declarations, which a test keeps equal to ``catalog.yaml``: parsing the file
    costs about 17 ms at every call, building it 0.1 ms.
    """
    if size is None:
        size = default_size()
    catalog = build_catalog(PlatformCatalog)
    if personal:
        from catalogs.personal import add_personal_entries

        add_personal_entries(catalog)
    return catalog(size=size) if size != "default" else catalog


def default_size() -> str:
    """The size ``open_catalog()`` uses: ``DTE_CATALOG_SIZE`` or ``"default"``."""
    configured = os.environ.get(SIZE_ENV, "").strip()
    if not configured:
        return "default"
    if configured not in SIZES:
        raise CatalogError(
            f"{SIZE_ENV}={configured!r} is not a catalog size: set it to one of "
            f"{', '.join(SIZES)}, or unset it."
        )
    return configured
