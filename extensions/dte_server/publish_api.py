"""Publishing a notebook of this server as a dashboard: the dashboards service's API, from here.

JupyterLab's publish action (and any script with the server's token) sends the notebook's path
and the publication's fields; this handler reads the notebook through the server's contents
manager (so only the server's own files can be published) and passes it on to the hub's
``dashboards`` service (``DTE_DASHBOARDS_URL``) with the server's hub token, which the hub lets
the service identify as the server's owner. The service decides: only DT developers publish,
only the owner or an admin replaces or unpublishes. Its answer (status and JSON) is passed back
unchanged, so this API and ``dte publish`` say the same things.

Outside DTE Hub (Binder, a laptop) there is no service to publish to: 503, saying so.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote, urlparse

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

__all__ = ["publish_routes", "service_url", "ask_service", "service_json", "dashboard_page"]

#: the fields of a publication besides the notebook (``hub/dashboards/service.py``)
FIELDS = ("title", "description", "groups", "domain")


def on_dte_hub() -> bool:
    """Whether this server is one of a DTE Hub's user servers (it knows the dashboards
    service and has a hub token)."""
    return bool(os.environ.get("DTE_DASHBOARDS_URL") and os.environ.get("JUPYTERHUB_API_TOKEN"))


def service_url(*parts: str) -> str:
    """The address of the dashboards service's API (``parts`` appended), or HTTP 503 when this
    server is not one of a DTE Hub's."""
    if not on_dte_hub():
        raise web.HTTPError(
            503,
            "publishing needs DTE Hub: this server is not one of a DTE Hub's user servers "
            "(DTE_DASHBOARDS_URL and JUPYTERHUB_API_TOKEN are not set)",
        )
    base = os.environ["DTE_DASHBOARDS_URL"].rstrip("/")
    return "/".join([base, "api", "dashboards", *(quote(p, safe="") for p in parts)])


async def ask_service(method: str, url: str, body: dict | None = None):
    """The dashboards service's answer (a tornado response, errors included), with the server's
    hub token; HTTP 502 if it did not answer at all."""
    headers = {"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        return await AsyncHTTPClient().fetch(
            url,
            method=method,
            headers=headers,
            body=None if body is None else json.dumps(body),
            request_timeout=60,
            follow_redirects=False,
        )
    except (HTTPClientError, OSError) as error:
        if getattr(error, "response", None) is not None:
            return error.response
        raise web.HTTPError(
            502, "the dashboards service did not answer; try again shortly"
        ) from None


def dashboard_page(slug: str) -> str:
    """Where a published dashboard opens, as a path on the hub (``/services/dashboards/d/x/``)."""
    return f"{urlparse(os.environ['DTE_DASHBOARDS_URL']).path.rstrip('/')}/d/{slug}/"


def service_json(response, key: str) -> dict:
    """The service's JSON answer, which when successful holds ``key``; HTTP 502 if it is none
    (an HTML error page of the proxy, a redirect to a login page)."""
    try:
        answer = json.loads(response.body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or (response.code in (200, 201) and key not in answer):
        raise web.HTTPError(
            502, f"the dashboards service gave an unexpected answer ({response.code}); try again"
        )
    return answer


class PublishHandler(APIHandler):
    auth_resource = "contents"

    async def relay(self, method: str, url: str, body: dict | None = None) -> None:
        """Ask the dashboards service; answer with its status and JSON (a published dashboard
        with its ``page``, where viewers open it)."""
        response = await ask_service(method, url, body)
        self.set_status(response.code)
        if response.code == 204 or not response.body:
            return self.finish()
        answer = service_json(response, "slug" if method == "PUT" else "dashboards")
        if method == "PUT" and response.code in (200, 201):
            answer["page"] = dashboard_page(answer["slug"])
        self.set_header("Content-Type", "application/json")
        self.finish(answer)


class DashboardListHandler(PublishHandler):
    @web.authenticated
    @authorized
    async def get(self):
        await self.relay("GET", service_url())


class DashboardHandler(PublishHandler):
    @web.authenticated
    @authorized
    async def put(self, name):
        body = self.get_json_body()
        if not isinstance(body, dict):
            raise web.HTTPError(
                400, 'send a JSON object: {"path": "my_twin.ipynb", "title": ..., "groups": [...]}'
            )
        path = body.get("path")
        if not isinstance(path, str) or not path.endswith(".ipynb"):
            raise web.HTTPError(400, "path must name a notebook (.ipynb) of this server")
        url = service_url(name)
        model = await ensure_async(self.contents_manager.get(path, content=True, type="notebook"))
        publication = {field: body[field] for field in FIELDS if field in body}
        await self.relay("PUT", url, {**publication, "notebook": model["content"]})

    @web.authenticated
    @authorized
    async def delete(self, name):
        await self.relay("DELETE", service_url(name))


def publish_routes(base: str) -> list:
    return [
        (f"{base}/dashboards/?", DashboardListHandler),
        (f"{base}/dashboards/([^/]+)/?", DashboardHandler),
    ]
