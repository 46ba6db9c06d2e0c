"""The data catalog over REST: list and search entries, read one's metadata, preview its data.

The catalog is the one a notebook of this server gets from ``open_catalog()``: the platform's
entries and the user's own, at the size asked for (``?size=``, else ``DTE_CATALOG_SIZE``, else
``default``). Reading an entry the first time builds it into the cache, which can take seconds:
previews run in a thread, so the server answers other requests meanwhile.
"""

from __future__ import annotations

import asyncio

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from catalogs.catalog_file import default_size, open_catalog
from catalogs.errors import CatalogError
from catalogs.search import KINDS, matching
from catalogs.sizes import SIZES
from extensions.dte_server.preview import MAX_ROWS, preview

__all__ = ["catalog_routes"]

#: rows of a table preview unless ``?rows=`` says otherwise
DEFAULT_ROWS = 10


class CatalogHandler(APIHandler):
    # the catalog reads the user's files (their own entries, their cache): as the contents API
    auth_resource = "contents"

    def catalog(self):
        size = self.get_query_argument("size", "") or None
        if size is not None and size not in SIZES:
            raise web.HTTPError(400, f"size {size!r} is not one of {', '.join(SIZES)}")
        try:
            return open_catalog(size=size), size or default_size()
        except CatalogError as error:
            raise web.HTTPError(500, str(error)) from None

    def entry_metadata(self, catalog, name: str) -> dict:
        entry = catalog.entries.get(name)
        if entry is None:
            raise web.HTTPError(
                404, f"no entry {name!r} in the catalog: GET dte/api/catalog lists them"
            )
        return dict(entry.metadata or {})


class EntriesHandler(CatalogHandler):
    @web.authenticated
    @authorized
    def get(self):
        query = self.get_query_argument("q", "")
        kind = self.get_query_argument("kind", "all")
        if kind not in KINDS:
            raise web.HTTPError(400, f"kind {kind!r} is not one of {', '.join(KINDS)}")
        catalog, size = self.catalog()
        everything = {name: dict(entry.metadata or {}) for name, entry in catalog.entries.items()}
        names = matching(everything, query, kind)
        self.finish(
            {
                "size": size,
                "query": query,
                "kind": kind,
                "total": len(everything),
                "entries": [{"name": name, **everything[name]} for name in names],
            }
        )


class EntryHandler(CatalogHandler):
    @web.authenticated
    @authorized
    def get(self, name):
        catalog, size = self.catalog()
        self.finish({"name": name, "size": size, **self.entry_metadata(catalog, name)})


class PreviewHandler(CatalogHandler):
    @web.authenticated
    @authorized
    async def get(self, name):
        rows = self.get_query_argument("rows", str(DEFAULT_ROWS))
        if not rows.isdigit() or not 0 < int(rows) <= MAX_ROWS:
            raise web.HTTPError(400, f"rows must be a whole number from 1 to {MAX_ROWS}")
        catalog, size = self.catalog()
        metadata = self.entry_metadata(catalog, name)
        loop = asyncio.get_running_loop()
        try:
            shown = await loop.run_in_executor(
                None,
                lambda: preview(name, catalog[name].read(), int(rows), metadata.get("units")),
            )
        except Exception as error:  # whatever a reader raised, said as a sentence
            # missing or damaged data, a live feed out of reach: the reader's own sentence
            self.log.warning("DTE catalog: preview of %s failed", name, exc_info=True)
            raise web.HTTPError(500, f"could not read {name}: {error}") from None
        self.finish({"size": size, **shown})


def catalog_routes(base: str) -> list:
    return [
        (f"{base}/catalog/?", EntriesHandler),
        (f"{base}/catalog/([A-Za-z0-9_.-]+)/preview/?", PreviewHandler),
        (f"{base}/catalog/([A-Za-z0-9_.-]+)/?", EntryHandler),
    ]
