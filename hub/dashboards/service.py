"""The hub-managed ``dashboards`` service: the gallery and the publishing API.

Routes, under ``/services/dashboards/``:

- ``GET /``: the gallery of the dashboards the viewer may open (hub login required);
- ``GET /d/<name>/``: a dashboard (a redirect to its current version in Voila); 403 for a viewer
  outside its groups, 404 if unknown;
- ``/voila/...``: Voila (``voila_server``), relayed for logged-in viewers: the pages of the
  dashboards they may open, Voila's static files, and the websockets of their kernels (the
  kernel a page was handed to is that viewer's alone); nothing else of Voila is reachable;
- ``GET /p/<name>/``: the same dashboard as a Panel app (a redirect to
  ``/panel/dashboard?name=``);
- ``/panel/...``: ``panel serve`` (``panel_server``), relayed the same way: the app's page for
  a dashboard the viewer may open, its static files and the websocket of a session made for
  the viewer's page, each to the Panel process of that viewer;
- ``GET /api/dashboards``: the dashboards the caller may open, as JSON;
- ``PUT /api/dashboards/<name>``: publish or republish (JSON: ``title``, ``description``,
  ``groups``, ``domain``, ``notebook``); DT developers and admins only, and only the owner or an
  admin may republish;
- ``DELETE /api/dashboards/<name>``: unpublish (the owner or an admin);
- ``GET /api/dashboards/<name>/errors``: the tracebacks viewers were spared, newest first (the
  owner or an admin).

Who the caller is and which groups they are in comes from the hub: browsers log in through hub
OAuth, scripts send a hub token (``dte publish``). The OAuth client may only read the viewer's
own groups (``read:users:groups!user``); the service's own role may read group names, to refuse
publishing for a group that does not exist.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from pathlib import Path

from jupyterhub.services.auth import HubOAuthenticated
from tornado import web, websocket
from tornado.httpclient import AsyncHTTPClient
from tornado.ioloop import PeriodicCallback

from hub.dashboards import error_journal
from hub.dashboards.compute import compute_environment
from hub.dashboards.gallery import gallery_page
from hub.dashboards.panel_server import PanelServer, process_of
from hub.dashboards.registry import DashboardRegistry, PublishError
from hub.dashboards.twin_notebooks import TWIN_NOTEBOOKS, title_and_description
from hub.dashboards.voila_server import VIEWER_HEADER, VoilaServer
from hub.landing import DEVELOPERS_GROUP, USERS_GROUP
from hub.proxying import ProxyMixin, forwardable
from hub.service_app import oauth_application_settings, oauth_route, service_address, stop_event
from hub.state import StateFolder, free_ports

__all__ = ["make_app", "publish_platform_dashboards", "main"]

log = logging.getLogger("dte.dashboards")

REPO = Path(__file__).resolve().parents[2]
#: how long Voila and the Panel processes together get to end with the service
STOP_TIMEOUT_S = 10.0


class DashboardsHandler(HubOAuthenticated, web.RequestHandler):
    """Common ground: the registry, the caller as the hub knows them, JSON errors for the API."""

    api = False

    def initialize(self, registry: DashboardRegistry, known_groups):
        self.registry = registry
        self.known_groups = known_groups

    def get_login_url(self):
        if self.api or "Authorization" in self.request.headers:
            raise web.HTTPError(403, "a hub login or a token with access to the dashboards")
        return super().get_login_url()

    def check_xsrf_cookie(self):
        # Changes come only through the API with a token in the Authorization header, which a
        # browser cannot be tricked into sending; cookie-authenticated requests only read.
        if self.request.method not in ("GET", "HEAD") and not self.request.headers.get(
            "Authorization"
        ):
            raise web.HTTPError(403, "changes need a hub token in the Authorization header")

    def write_error(self, status_code, **kwargs):
        exception = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exception, "log_message", None) or self._reason
        if self.api:
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"status": status_code, "message": message}))
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(
                f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{status_code}</title></head><body><h1>{status_code}</h1>"
                f"<p>{web.escape.xhtml_escape(message)}</p></body></html>"
            )

    def viewer(self) -> dict:
        user = self.current_user
        if user is None:
            raise web.HTTPError(403)
        return user

    def visible_dashboards(self) -> list:
        viewer = self.viewer()
        return [d for d in self.registry.all() if d.visible_to(viewer)]

    def dashboard_for_viewer(self, slug: str):
        dashboard = self.registry.get(slug)
        if dashboard is None:
            raise web.HTTPError(404, f"no dashboard {slug!r} is published")
        if not dashboard.visible_to(self.viewer()):
            # neither its title nor its owner: only that it is not for this viewer
            raise web.HTTPError(
                403,
                f"{self.viewer()['name']} is not in a group that may open this dashboard: ask "
                "its owner to publish it for your group.",
            )
        return dashboard

    def dashboard_of_owner(self, slug: str, action: str):
        """The published dashboard, if the caller owns it or is an admin; 404 or 403 if not."""
        dashboard = self.registry.get(slug)
        if dashboard is None:
            raise web.HTTPError(404, f"no dashboard {slug!r} is published")
        if not dashboard.changeable_by(self.viewer()):
            raise web.HTTPError(403, f"only {dashboard.owner} or an admin {action}")
        return dashboard


class GalleryHandler(DashboardsHandler):
    @web.authenticated
    def get(self):
        prefix = self.settings["service_prefix"]
        self.finish(
            gallery_page(
                self.visible_dashboards(), self.viewer()["name"], prefix, self.hub_auth.hub_prefix
            )
        )


class DashboardPageHandler(DashboardsHandler):
    @web.authenticated
    def get(self, slug):
        dashboard = self.dashboard_for_viewer(slug)
        self.redirect(render_path(self.settings["voila"].base_url, dashboard))


def render_path(voila_base_url: str, dashboard) -> str:
    return f"{voila_base_url}voila/render/{dashboard.slug}/v{dashboard.version}.ipynb"


class PanelPageHandler(DashboardsHandler):
    @web.authenticated
    def get(self, slug):
        dashboard = self.dashboard_for_viewer(slug)
        base_url = self.settings["panels"][0].base_url  # the same for every process
        self.redirect(f"{base_url}dashboard?name={dashboard.slug}")


#: what of Voila a viewer's browser may reach (paths after Voila's base URL)
_RENDER = re.compile(r"voila/render/([a-z][a-z0-9-]*)/v(\d+)\.ipynb")
#: files that are the same for every page until an upgrade, which changes Voila's base URL
_PACKAGE_ASSETS = re.compile(r"voila/(static|templates/[^/]+/static|labextensions|api/themes)/.*")
#: files next to a published notebook (they change with it)
_NOTEBOOK_FILES = re.compile(r"voila/files/.*")
_KERNEL = re.compile(r"api/kernels/([0-9a-f-]{36})(/channels)?")
_SHUTDOWN = re.compile(r"voila/api/shutdown/([0-9a-f-]{36})")
#: the kernel a rendered Voila page is connected to (its page config)
_PAGE_KERNEL = re.compile(rb'"kernelId":\s*"([0-9a-f-]{36})"')


class UpstreamHandler(DashboardsHandler, ProxyMixin, websocket.WebSocketHandler):
    """Relays a logged-in viewer's requests to a server behind the service (Voila, Panel), for
    the paths ``allowed`` lets through; adds the server's credentials and who the viewer is."""

    def initialize(self, registry, known_groups, server):
        super().initialize(registry, known_groups)
        self.server = server
        self.upstream = server.url if server is not None else None
        self.upstream_ws = None

    #: a viewer arriving while the server starts (the service's start, a restart after a
    #: crash, one this request found dead) waits for it rather than reading a 503
    upstream_start_wait_s = 60.0

    def upstream_starting(self) -> bool:
        # a server found dead is started again now, not at the next watch
        self.server.restart_if_dead()
        process = self.server.process
        return process is not None and process.poll() is None

    def upstream_headers(self):
        headers = forwardable(
            self.request.headers, drop_cookie=True, drop=(VIEWER_HEADER, "Authorization", "Origin")
        )
        headers[VIEWER_HEADER] = self.viewer()["name"]
        return headers

    def allowed(self, path: str, method: str) -> None:
        """Return if the viewer may make this request; raise 403, 404 or ``_Redirect``."""
        raise web.HTTPError(404)

    def prepare(self):
        # jupyter_server prefers a ?token= to the Authorization header the service adds
        if "token" in self.request.query_arguments:
            raise web.HTTPError(400, "token is not a parameter of a dashboard page")
        return super().prepare()

    @web.authenticated
    async def get(self, path):
        try:
            self.allowed(path, "GET")
        except _Redirect as moved:
            return self.redirect(moved.location)
        if self.request.headers.get("Upgrade", "").lower() == "websocket":
            await websocket.WebSocketHandler.get(self, path)
        else:
            await self.forward_http()

    @web.authenticated
    async def post(self, path):
        self.allowed(path, "POST")
        await self.forward_http()


class VoilaHandler(UpstreamHandler):
    """Voila's pages, assets and kernel websockets, for logged-in viewers who may see them.

    Paths start with Voila's base URL, which carries its ``assets_key``."""

    upstream_name = "the dashboard server"

    def check_xsrf_cookie(self):
        # Reads need no token (a page's fonts and fetches carry none). Voila's page makes one
        # change, shutting down its own kernel when it closes; it sends the value of the hub's
        # _xsrf cookie with it, checked as JupyterHub checks it, which another site cannot.
        if self.request.method not in ("GET", "HEAD"):
            HubOAuthenticated.check_xsrf_cookie(self)

    #: set by ``allowed``: whether the request is for a package file or for a dashboard page
    package_file = rendering = False

    def cache_policy(self):
        return _IMMUTABLE if self.package_file else None

    def upstream_headers(self):
        headers = super().upstream_headers()
        headers["Authorization"] = f"token {self.server.token}"
        return headers

    def allowed(self, path: str, method: str) -> None:
        key, _, path = path.partition("/")
        render = _RENDER.fullmatch(path)
        if render and method == "GET":
            dashboard = self.dashboard_for_viewer(render.group(1))
            if key != self.server.assets_key or int(render.group(2)) != dashboard.version:
                # an address from before an upgrade, or replaced: open the current one
                raise _Redirect(render_path(self.server.base_url, dashboard))
            self.rendering = True
            return
        if key != self.server.assets_key:
            raise web.HTTPError(404)
        if method == "GET" and _PACKAGE_ASSETS.fullmatch(path):
            self.package_file = True
            return
        if method == "GET" and _NOTEBOOK_FILES.fullmatch(path):
            return
        kernel = (method == "GET" and _KERNEL.fullmatch(path)) or (
            method == "POST" and _SHUTDOWN.fullmatch(path)
        )
        if kernel:
            # only the viewer whose page the kernel was handed to reaches it
            if self.settings["kernel_viewers"].get(kernel.group(1)) != self.viewer()["name"]:
                raise web.HTTPError(403, "this dashboard session is someone else's")
            return
        raise web.HTTPError(404)

    def upstream_answered(self, response) -> None:
        if response.code == 200 and self.rendering:
            page_kernel = _PAGE_KERNEL.search(response.body or b"")
            if page_kernel:
                self.settings["kernel_viewers"].hand_over(
                    page_kernel.group(1).decode(), self.viewer()["name"]
                )


#: what of ``panel serve`` a viewer's browser may reach (paths after its prefix)
_PANEL_STATIC = re.compile(r"static/[^?#]*")
#: the session token in a Panel page (its JSON, unescaped)
_PAGE_TOKEN = re.compile(rb'"token":\s*"([A-Za-z0-9_.-]+)"')
#: longer websocket subprotocols are no token of a page (Bokeh's are a few hundred bytes)
_TOKEN_MAX = 16_384


def _session_of(token: str) -> str | None:
    """The session id a Bokeh session token names (None if it is none). Its signature is panel
    serve's to check; this reads the id only (not the compressed rest)."""
    from bokeh.util.token import get_session_id

    if len(token) > _TOKEN_MAX:
        return None
    try:
        session = get_session_id(token)
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return session if isinstance(session, str) else None


class PanelHandler(UpstreamHandler):
    """The Panel app's page for a dashboard the viewer may open, its static files and its
    websocket (whose session token only ``panel serve`` can sign, for a page let through),
    relayed to the viewer's Panel process."""

    upstream_name = "the Panel server"

    def initialize(self, registry, known_groups, servers):
        super().initialize(registry, known_groups, None)  # routed in allowed(), once the
        self.servers = servers  # viewer is known

    def upstream_headers(self):
        headers = super().upstream_headers()
        # Bokeh would make the page a new token for the session this header names (another
        # viewer's): a page always starts a session of its own
        headers.pop("Bokeh-Session-Id", None)
        return headers

    def websocket_session(self) -> str | None:
        """The session id of the websocket's token (None if there is none)."""
        offered = self.request.headers.get("Sec-WebSocket-Protocol", "")
        protocols = [p.strip() for p in offered.split(",")]
        if len(protocols) != 2 or protocols[0] != "bokeh":
            return None
        return _session_of(protocols[1])

    def upstream_answered(self, response) -> None:
        if response.code == 200 and self.page_of_dashboard:
            token = _PAGE_TOKEN.search((response.body or b"").replace(b'\\"', b'"'))
            session = _session_of(token.group(1).decode()) if token else None
            if session is not None:
                viewer = self.viewer()["name"]
                owner = self.settings["session_viewers"].claim(session, viewer)
                if owner != viewer:  # a page never joins a session: a session is its page's
                    log.warning("%s was given the Panel session of %s", viewer, owner)

    #: set by ``allowed``: whether the request is for a dashboard's page (it makes a session)
    page_of_dashboard = False

    def allowed(self, path: str, method: str) -> None:
        if method != "GET":
            raise web.HTTPError(404)
        # the viewer's page and its websocket reach the same process (the session is there)
        self.server = process_of(self.viewer()["name"], self.servers)
        self.upstream = self.server.url
        if path == "dashboard":
            # exactly one name: the app runs the one checked here, not another one also given;
            # and nothing else (Bokeh would join a session named by ``bokeh-session-id``)
            names = self.get_query_arguments("name")
            if len(names) != 1 or set(self.request.query_arguments) != {"name"}:
                raise web.HTTPError(400, "name the one dashboard to open: ?name=<dashboard>")
            self.dashboard_for_viewer(names[0])
            self.page_of_dashboard = True
            return
        if path == "dashboard/ws":
            # the session of a page made for this viewer, and no one else's (a token passed on)
            session = self.websocket_session()
            if (
                session is None
                or self.settings["session_viewers"].get(session) != self.viewer()["name"]
            ):
                raise web.HTTPError(403, "this dashboard session is someone else's")
            return
        if path == "favicon.ico" or _PANEL_STATIC.fullmatch(path):
            return
        raise web.HTTPError(404)


#: for files whose address changes whenever their content does
_IMMUTABLE = "private, max-age=31536000, immutable"


class _Redirect(Exception):
    def __init__(self, location: str):
        self.location = location


class ErrorsHandler(DashboardsHandler):
    """The errors a dashboard's viewers ran into, with tracebacks: for its owner and admins."""

    api = True

    def get(self, slug):
        self.dashboard_of_owner(slug, "reads its errors")
        self.finish(
            {
                "errors": error_journal.recent(
                    error_journal.journal_folder(self.registry.folder), slug
                )
            }
        )


class ListHandler(DashboardsHandler):
    api = True

    def get(self):
        self.finish({"dashboards": [d.as_json() for d in self.visible_dashboards()]})


class DashboardAPIHandler(DashboardsHandler):
    api = True

    def get(self, slug):
        self.finish(self.dashboard_for_viewer(slug).as_json())

    async def put(self, slug):
        viewer = self.viewer()
        if not (viewer.get("admin") or DEVELOPERS_GROUP in (viewer.get("groups") or ())):
            raise web.HTTPError(403, f"only {DEVELOPERS_GROUP} and admins publish dashboards")
        body = _publication(self.request.body)
        groups = body["groups"]
        if self.known_groups is not None:
            try:
                unknown = sorted(set(groups) - await self.known_groups())
            except OSError:
                raise web.HTTPError(503, "the hub did not answer; try again shortly") from None
            if unknown:
                raise web.HTTPError(400, f"no such group: {', '.join(unknown)}; create it first")
        # From here to the write nothing awaits: no other publication of this slug can come
        # between the owner check and the new version (one event loop, one process).
        existing = self.registry.get(slug)
        if existing is not None and not existing.changeable_by(viewer):
            raise web.HTTPError(
                403, f"{slug!r} belongs to {existing.owner}: only they or an admin may change it"
            )
        try:
            dashboard = self.registry.publish(slug, owner=viewer["name"], **body)
        except PublishError as error:
            raise web.HTTPError(400, str(error)) from None
        log.info("%s published %s version %d", viewer["name"], slug, dashboard.version)
        self.set_status(200 if existing else 201)
        self.finish(dashboard.as_json())

    def delete(self, slug):
        viewer = self.viewer()
        self.dashboard_of_owner(slug, f"may unpublish {slug!r}")
        self.registry.unpublish(slug)
        error_journal.forget(error_journal.journal_folder(self.registry.folder), slug)
        log.info("%s unpublished %s", viewer["name"], slug)
        self.set_status(204)
        self.finish()


def _publication(raw: bytes) -> dict:
    """The fields of a publication, checked for type; HTTP 400 with the reason otherwise."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise web.HTTPError(400, "the request body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPError(400, "the request body must be a JSON object")
    fields = {
        "title": body.get("title", ""),
        "description": body.get("description", ""),
        "domain": body.get("domain", "other"),
        "groups": body.get("groups", [USERS_GROUP]),
        "notebook": body.get("notebook", ""),
    }
    for name in ("title", "description", "domain"):
        if not isinstance(fields[name], str):
            raise web.HTTPError(400, f"{name} must be a string")
    groups = fields["groups"]
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise web.HTTPError(400, 'groups must be a list of group names, e.g. ["dt-users"]')
    if not isinstance(fields["notebook"], dict | str):
        raise web.HTTPError(400, "notebook must be a Jupyter notebook (JSON)")
    return fields


def hub_groups(api_url: str, token: str):
    """A function giving the hub's group names (asked at each publication, so a group made a
    minute ago counts), with the service's own token."""
    from tornado.httpclient import AsyncHTTPClient

    async def known_groups() -> set[str]:
        response = await AsyncHTTPClient().fetch(
            f"{api_url.rstrip('/')}/groups", headers={"Authorization": f"token {token}"}
        )
        return {group["name"] for group in json.loads(response.body)}

    return known_groups


def make_app(
    registry: DashboardRegistry,
    prefix: str,
    known_groups,
    voila: VoilaServer,
    panels: list[PanelServer],
) -> web.Application:
    prefix = prefix.rstrip("/") + "/"
    arguments = {"registry": registry, "known_groups": known_groups}
    routes = [
        oauth_route(prefix),
        (prefix, GalleryHandler, arguments),
        (prefix + r"d/([a-z][a-z0-9-]*)/?", DashboardPageHandler, arguments),
        (prefix + r"api/dashboards/?", ListHandler, arguments),
        (prefix + r"api/dashboards/([^/]+)/errors/?", ErrorsHandler, arguments),
        (prefix + r"api/dashboards/([^/]+)/?", DashboardAPIHandler, arguments),
        (prefix + r"voila/(.*)", VoilaHandler, {**arguments, "server": voila}),
        (prefix + r"p/([a-z][a-z0-9-]*)/?", PanelPageHandler, arguments),
        (prefix + r"panel/(.*)", PanelHandler, {**arguments, "servers": panels}),
    ]
    return web.Application(
        routes,
        service_prefix=prefix,
        voila=voila,
        panels=panels,
        kernel_viewers=PageViewers(),
        session_viewers=PageViewers(),
        **oauth_application_settings(prefix, "dashboards"),
    )


class PageViewers(dict):
    """What a page was made with (a Voila kernel id, a Panel session id) -> the viewer whose
    page it was (the newest ``LIMIT``)."""

    LIMIT = 10_000

    def hand_over(self, page_id: str, viewer: str) -> None:
        self.pop(page_id, None)
        self[page_id] = viewer
        while len(self) > self.LIMIT:  # dicts keep insertion order: the oldest goes first
            del self[next(iter(self))]

    def claim(self, page_id: str, viewer: str) -> str:
        """The viewer of ``page_id``: ``viewer`` if it had none (the first one keeps it)."""
        owner = self.get(page_id)
        if owner is None:
            self.hand_over(page_id, viewer)
            return viewer
        return owner


def publish_platform_dashboards(registry: DashboardRegistry, owner: str) -> None:
    """Publish the twin notebooks that are not published yet (a restart changes nothing)."""
    import nbformat

    for slug, (filename, domain) in TWIN_NOTEBOOKS.items():
        if registry.get(slug) is not None:
            continue
        notebook = nbformat.read(REPO / "notebooks" / filename, as_version=4)
        title, description = title_and_description(notebook)
        registry.publish(
            slug,
            nbformat.writes(notebook),
            title=title,
            description=description,
            domain=domain,
            owner=owner,
            groups=[USERS_GROUP, DEVELOPERS_GROUP],
        )


async def serve() -> None:
    from hub.settings import load_settings

    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    settings = load_settings()
    state = StateFolder(settings.state_dir)
    registry = DashboardRegistry(state.dashboards_dir)
    publish_platform_dashboards(registry, settings.hub.admin)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/dashboards/")
    known_groups = hub_groups(os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])
    # the platform's catalog, a cache and run registry of the service's own
    environment = {
        "DTE_CATALOG_SHARED": str(state.catalog_dir),
        "DTE_CATALOG_CACHE": str(registry.folder / "catalog-cache"),
        "DTE_RUN_REGISTRY": str(registry.folder / "runs.sqlite"),
        "MPLBACKEND": "agg",
        # ensembles run on a gateway cluster per viewer session (hub/dashboards/compute.py)
        **compute_environment(),
        # the service account may have no home of its own
        "HOME": str(registry.folder),
        "JUPYTER_RUNTIME_DIR": str(registry.folder / "runtime"),
    }
    voila_port, *panel_ports = free_ports(1 + settings.dashboards.panel_processes)
    voila = VoilaServer(
        registry,
        voila_port,
        prefix,
        environment=environment,
        pool_size=settings.dashboards.pool_size,
        pools=settings.dashboards.pools,
    )
    panels = [
        PanelServer(registry, port, prefix, environment=environment, number=number)
        for number, port in enumerate(panel_ports, start=1)
    ]
    # every open dashboard page is a request to Voila: tornado's default of 10 at once would
    # queue the eleventh viewer behind the first ten
    AsyncHTTPClient.configure(None, max_clients=200)
    try:
        for server in (voila, *panels):
            server.start()
        app = make_app(registry, prefix, known_groups, voila, panels)
        host, port = service_address()
        app.listen(port, host)
        log.info("Dashboards on %s: %s", prefix, ", ".join(d.slug for d in registry.all()))
        # a dead Voila or Panel is started again within seconds, not at the next hub restart
        watch = PeriodicCallback(lambda: [s.restart_if_dead() for s in (voila, *panels)], 5000)
        watch.start()
        await stop_event().wait()
        watch.stop()
    finally:  # Voila and its kernels, and Panel, end with the service, side by side
        servers = (voila, *panels)
        for server in servers:
            server.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S  # one wait for all, then the rest killed
        for server in servers:
            try:
                server.stop(max(0.1, deadline - time.monotonic()))
            except OSError:
                log.exception("could not stop %s (%s)", type(server).__name__, server.log_name)


def main() -> None:
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
