"""What JupyterLab's launcher offers (``GET dte/api/launcher``): the data catalog, and every
twin's dashboard, each with where it opens.

- On DTE Hub, the dashboards are those the dashboards service lets this server's owner open,
  at their pages on the hub (``/services/dashboards/d/<name>/``).
- Elsewhere (Binder, a laptop), the twin notebooks found under the server's root
  (``notebooks/flood.ipynb``, ...), opened as Voila dashboards by this server.

``POST dte/api/launcher/catalog`` gives the notebook the catalog card opens: ``DTE data
catalog.ipynb`` in the server's root, on the DTE kernel, written the first time (later the
user's own copy is opened as they left it, and run only if it is still as written).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async, url_path_join
from tornado import web

from extensions.dte_server.publish_api import (
    ask_service,
    dashboard_page,
    on_dte_hub,
    service_json,
    service_url,
)
from hub.dashboards.twin_notebooks import TWIN_NOTEBOOKS, title_and_description

__all__ = ["launcher_routes", "CATALOG_NOTEBOOK"]

CATALOG_NOTEBOOK = "DTE data catalog.ipynb"
_CATALOG_INTRO = """# DTE data catalog

The twins' historical data and live feeds. Type words to search, choose a kind, select an entry
to see its metadata, **Preview** its first rows or a map, **Use** it here (`browser.data`), or
register your own data under *Add your data*."""
_CATALOG_CODE = """from dte_widgets import CatalogBrowser

browser = CatalogBrowser()
browser"""


class LauncherHandler(APIHandler):
    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def get(self):
        if on_dte_hub():
            dashboards, problem = await self.hub_dashboards()
        else:
            dashboards, problem = self.twin_notebooks(), None
        self.finish(
            {
                "catalog": {
                    "title": "Data catalog",
                    "description": "Browse, search and preview the twins' data",
                },
                "dashboards": dashboards,
                "problem": problem,
            }
        )

    async def hub_dashboards(self) -> tuple[list, str | None]:
        """The dashboards the service lets this user open; none, and why, if it cannot say."""
        try:
            response = await ask_service("GET", service_url())
            if response.code != 200:
                return [], f"the dashboards service answered {response.code}; try again shortly"
            listed = service_json(response, "dashboards")["dashboards"]
        except web.HTTPError as error:
            return [], error.log_message
        return [
            {
                "name": d["slug"],
                "title": d["title"],
                "description": d["description"],
                "domain": d["domain"],
                "url": dashboard_page(d["slug"]),
            }
            for d in listed
        ], None

    def twin_notebooks(self) -> list:
        root = Path(self.settings["server_root_dir"]).expanduser()
        found = []
        for name, (filename, domain) in TWIN_NOTEBOOKS.items():
            path = root / "notebooks" / filename
            try:
                title, description = title_and_description(nbformat.read(path, as_version=4))
            except (OSError, ValueError):  # not there, or not a notebook: not offered
                continue
            found.append(
                {
                    "name": name,
                    "title": title,
                    "description": description,
                    "domain": domain,
                    "url": url_path_join(self.base_url, "voila", "render", "notebooks", filename),
                }
            )
        return found


class CatalogNotebookHandler(APIHandler):
    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self):
        contents = self.contents_manager
        if await ensure_async(contents.file_exists(CATALOG_NOTEBOOK)):
            model = await ensure_async(contents.get(CATALOG_NOTEBOOK, type="notebook"))
            sources = [cell.source for cell in model["content"].cells]
            # run on open only as written here: the user's own cells may be long or heavy
            return self.finish(
                {"path": CATALOG_NOTEBOOK, "as_written": sources == [_CATALOG_INTRO, _CATALOG_CODE]}
            )
        notebook = nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_markdown_cell(_CATALOG_INTRO),
                nbformat.v4.new_code_cell(_CATALOG_CODE),
            ],
            metadata={
                "kernelspec": {
                    "name": "dte",
                    "display_name": "DTE (Python 3)",
                    "language": "python",
                }
            },
        )
        await ensure_async(
            contents.save({"type": "notebook", "content": notebook}, CATALOG_NOTEBOOK)
        )
        self.finish({"path": CATALOG_NOTEBOOK, "as_written": True})


def launcher_routes(base: str) -> list:
    return [
        (f"{base}/launcher/?", LauncherHandler),
        (f"{base}/launcher/catalog/?", CatalogNotebookHandler),
    ]
