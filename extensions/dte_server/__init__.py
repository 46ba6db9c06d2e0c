"""The DTE Hub Jupyter server extension: the data catalog, publishing and the launcher, as REST.

Enabled on install by ``jupyter_server_config.d/dte-hub.json`` (``jupyter server extension
list`` shows ``extensions.dte_server``). Routes, under the server's base URL:

- ``GET dte/api/catalog?q=words&kind=tables&size=small``: the entries (``catalog_api``);
- ``GET dte/api/catalog/<entry>``: one entry's metadata;
- ``GET dte/api/catalog/<entry>/preview?rows=10``: its first rows, or its grid's shape and
  variables, as JSON;
- ``GET dte/api/dashboards``, ``PUT`` and ``DELETE dte/api/dashboards/<name>``: publishing a
  notebook of this server as a dashboard, through the hub's dashboards service
  (``publish_api``);
- ``GET dte/api/launcher``, ``POST dte/api/launcher/catalog``: what JupyterLab's launcher
  offers, for the lab extension in ``extensions/labextension`` (``launcher_api``).

Every route needs the server's own login (a token or the hub's cookie) and the right to read
(or, to publish, write) the server's files: what the catalog reads and publishing sends are the
user's own data and notebooks.
"""

from __future__ import annotations

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points():
    return [{"module": "extensions.dte_server"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    from extensions.dte_server.catalog_api import catalog_routes
    from extensions.dte_server.launcher_api import launcher_routes
    from extensions.dte_server.publish_api import publish_routes

    base = url_path_join(serverapp.web_app.settings["base_url"], "dte", "api")
    serverapp.web_app.add_handlers(
        ".*$", catalog_routes(base) + publish_routes(base) + launcher_routes(base)
    )
    serverapp.log.info("DTE Hub: catalog and publishing APIs under %s", base)
