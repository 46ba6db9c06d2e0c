"""The dashboards service through the real hub: the gallery after login, publishing for groups
through the REST API, and who may open, change or unpublish a dashboard."""

import nbformat
import pytest
import requests

from dte_twins.provenance import RunRegistry
from hub.state import StateFolder
from tests.hub.conftest import FAST_LOCKOUT, new_account
from tests.hub.platform import gateway_api, running_platform, wait_until

pytestmark = pytest.mark.slow

#: Panel processes of this module's platform (one per two cores would be one here)
PANEL_PROCESSES = 2


@pytest.fixture(scope="module")
def platform(platform_root):
    settings = {**FAST_LOCKOUT, "dashboards": {"panel_processes": PANEL_PROCESSES}}
    with running_platform(platform_root / "state", settings=settings) as running:
        yield running


def notebook() -> dict:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("print('a dashboard')")]
    return nbformat.from_dict(book)


@pytest.fixture(scope="module")
def dt_user(platform, admin):
    person = new_account(platform, admin, developer=False, prefix="viewer")
    response = admin.api("POST", "/hub/api/groups/dt-users/users", json={"users": [person.name]})
    assert response.status_code == 200
    person.logout()
    person.login()
    return person


@pytest.fixture(scope="module")
def author(platform, admin):
    return new_account(platform, admin, developer=True, prefix="author")


#: the platform's twin dashboards and the twin each runs
TWIN_DASHBOARDS = [
    ("flood", "FloodTwin"),
    ("drought", "DroughtTwin"),
    ("detector-noise", "DetectorNoiseTwin"),
    ("calorimeter", "CalorimeterTwin"),
]


def publish(person, slug, **fields):
    body = {"title": "River", "notebook": notebook(), "groups": ["dt-developers"], **fields}
    return person.api("PUT", f"/services/dashboards/api/dashboards/{slug}", json=body)


def test_anonymous_visitors_are_sent_to_login(platform):
    for path in ("/services/dashboards/", "/services/dashboards/d/flood/"):
        response = requests.get(platform.url + path, allow_redirects=True, timeout=30)
        assert response.url.startswith(platform.url + "/hub/login"), path
    api = requests.get(platform.url + "/services/dashboards/api/dashboards", timeout=30)
    assert api.status_code == 403


def test_a_dt_user_lands_on_the_gallery_of_twin_applications(platform, dt_user):
    assert dt_user.login().headers["Location"].endswith("/services/dashboards/")
    gallery = dt_user.session.get(platform.url + "/services/dashboards/", timeout=30)
    assert gallery.status_code == 200
    for slug in ("flood", "drought", "detector-noise", "calorimeter"):
        assert f"data-dashboard='{slug}'" in gallery.text
    assert "Flood early warning" in gallery.text
    assert "http://" not in gallery.text.replace(platform.url, "")  # nothing from elsewhere


def test_publishing_for_a_group_and_who_may_open_it(platform, author, dt_user):
    created = publish(author, "river-dev", description="For developers only")
    assert created.status_code == 201, created.text
    assert created.json()["owner"] == author.name and created.json()["version"] == 1
    page = "/services/dashboards/d/river-dev/"
    assert author.session.get(platform.url + page, timeout=30).status_code == 200
    refused = dt_user.session.get(platform.url + page, timeout=30)
    assert refused.status_code == 403 and "not in a group" in refused.text
    listed = dt_user.api("GET", "/services/dashboards/api/dashboards").json()["dashboards"]
    assert "river-dev" not in {d["slug"] for d in listed} and len(listed) >= 4


def test_only_the_owner_or_an_admin_changes_a_dashboard(platform, admin, author):
    other = new_account(platform, admin, developer=True, prefix="rival")
    assert publish(author, "river-owned").status_code == 201
    taken = publish(other, "river-owned", title="Mine now")
    assert taken.status_code == 403 and author.name in taken.json()["message"]
    assert other.api("DELETE", "/services/dashboards/api/dashboards/river-owned").status_code == 403
    by_admin = publish(admin, "river-owned", title="Renamed by the admin")
    assert by_admin.status_code == 200 and by_admin.json()["version"] == 2
    assert by_admin.json()["owner"] == author.name
    gone = author.api("DELETE", "/services/dashboards/api/dashboards/river-owned")
    assert gone.status_code == 204
    page = author.session.get(platform.url + "/services/dashboards/d/river-owned/", timeout=30)
    assert page.status_code == 404


def test_bad_publications_are_refused_with_the_reason(author, dt_user):
    unknown = publish(author, "river-x", groups=["no-such-group"])
    assert (
        unknown.status_code == 400 and "no such group: no-such-group" in unknown.json()["message"]
    )
    broken = publish(author, "river-x", notebook={"cells": "x"})
    assert broken.status_code == 400 and "not a valid Jupyter notebook" in broken.json()["message"]
    not_a_developer = publish(dt_user, "river-x", groups=["dt-users"])
    assert not_a_developer.status_code == 403


def test_malformed_publications_are_400_with_a_sentence(author):
    url = "/services/dashboards/api/dashboards/river-bad"
    for body, reason in (
        ([1, 2], "JSON object"),
        ({"title": 5, "notebook": notebook()}, "title must be a string"),
        ({"title": "x", "notebook": notebook(), "groups": [["a"]]}, "groups must be a list"),
    ):
        answer = author.api("PUT", url, json=body)
        assert answer.status_code == 400 and reason in answer.json()["message"]


def test_the_service_and_the_dashboard_kernels_run_as_their_own_account(platform, dt_user):
    from tests.hub.platform import processes_of_instance

    dt_user.session.get(platform.url + "/services/dashboards/d/flood/", timeout=60)
    processes = {
        process: " ".join(process.cmdline()) for process in processes_of_instance(platform.instance)
    }
    home = str(platform.state / "dashboards")
    service = [p for p, line in processes.items() if "hub.dashboards.service" in line]
    voila = [p for p, line in processes.items() if "bin/voila" in line]
    kernels = [
        p
        for p, line in processes.items()
        if "ipykernel" in line and p.environ().get("HOME") == home
    ]
    assert service and voila and kernels
    # published code runs neither as root (the hub) nor as the account of user servers
    assert {p.username() for p in service + voila + kernels} == {"dte-dashboards"}


def test_changes_need_a_token_not_just_a_cookie(platform, author):
    # a page elsewhere could make a browser send the cookie; it cannot add the header
    forged = author.session.put(
        platform.url + "/services/dashboards/api/dashboards/river-forged",
        json={"title": "x", "notebook": notebook()},
        timeout=30,
    )
    assert forged.status_code == 403


def test_dte_publish_and_unpublish_from_a_terminal(platform, author, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    book = tmp_path / "my_river.ipynb"
    nbformat.write(notebook(), book)
    dte = Path(sys.executable).parent / "dte"
    address = ["--url", f"{platform.url}/services/dashboards/", "--token", author.token]
    published = subprocess.run(
        [dte, "publish", book, "--title", "My river", "--groups", "dt-users", *address],
        capture_output=True,
        text=True,
    )
    assert published.returncode == 0, published.stderr
    assert "Published my-river version 1 for dt-users" in published.stdout
    refused = subprocess.run(
        [dte, "publish", book, "--title", "x", "--groups", "nobody", *address],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "no such group: nobody" in refused.stderr
    removed = subprocess.run([dte, "unpublish", "my-river", *address], capture_output=True)
    assert removed.returncode == 0


def test_publishing_and_the_launcher_through_the_server_extension(platform, author, dt_user):
    """JupyterLab's publish action: the notebook's path in the author's server, the same
    service API and rules behind it."""
    author.start_server()
    try:
        check_publishing_and_the_launcher(author, dt_user)
    finally:
        author.stop_server()


def check_publishing_and_the_launcher(author, dt_user):
    server = f"/user/{author.name}"
    saved = author.api(
        "PUT",
        f"{server}/api/contents/lab_river.ipynb",
        json={"type": "notebook", "content": notebook()},
    )
    assert saved.status_code in (200, 201), saved.text
    fields = {"path": "lab_river.ipynb", "title": "From the lab", "groups": ["dt-users"]}
    published = author.api("PUT", f"{server}/dte/api/dashboards/lab-river", json=fields)
    assert published.status_code == 201, published.text
    assert published.json()["owner"] == author.name and published.json()["version"] == 1
    seen = dt_user.api("GET", "/services/dashboards/api/dashboards").json()["dashboards"]
    assert "From the lab" in {d["title"] for d in seen}
    # the service's refusals come back unchanged
    unknown = author.api(
        "PUT", f"{server}/dte/api/dashboards/lab-river", json={**fields, "groups": ["nobody"]}
    )
    assert unknown.status_code == 400 and "no such group: nobody" in unknown.json()["message"]
    # only the server's own files: nothing outside its root
    outside = author.api(
        "PUT", f"{server}/dte/api/dashboards/lab-river", json={**fields, "path": "../x.ipynb"}
    )
    assert outside.status_code in (403, 404)
    listed = author.api("GET", f"{server}/dte/api/dashboards").json()["dashboards"]
    assert "lab-river" in {d["slug"] for d in listed}
    # JupyterLab's launcher offers what the author may open, at its page on the hub
    offer = author.api("GET", f"{server}/dte/api/launcher").json()
    pages = {d["name"]: d["url"] for d in offer["dashboards"]}
    assert pages["flood"] == "/services/dashboards/d/flood/"
    assert pages["lab-river"] == "/services/dashboards/d/lab-river/"
    assert author.api("DELETE", f"{server}/dte/api/dashboards/lab-river").status_code == 204
    after = dt_user.api("GET", "/services/dashboards/api/dashboards").json()["dashboards"]
    assert "lab-river" not in {d["slug"] for d in after}


@pytest.mark.browser
def test_a_developer_publishes_from_jupyterlab_with_the_publish_action(platform, admin):
    """File > Publish as Dashboard… in JupyterLab, through the browser: the form starts from
    the notebook's name and heading, and the published dashboard is the author's."""
    import re

    from playwright.sync_api import expect

    from tests.browser import browser_page, log_in

    writer = new_account(platform, admin, developer=True, prefix="labauthor")
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_markdown_cell("# Storm surge\n\nSurge heights along the coast."),
        nbformat.v4.new_code_cell("print('surge')"),
    ]
    book.metadata["kernelspec"] = {"name": "dte", "display_name": "DTE (Python 3)"}
    with browser_page() as (page, requests_made, _):
        log_in(page, platform.url, writer)
        page.wait_for_url(f"**/user/{writer.name}/lab**", timeout=90_000)
        saved = writer.api(
            "PUT",
            f"/user/{writer.name}/api/contents/Storm_Surge.ipynb",
            json={"type": "notebook", "content": book},
        )
        assert saved.status_code == 201, saved.text
        page.goto(f"{platform.url}/user/{writer.name}/lab/tree/Storm_Surge.ipynb")
        expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=90_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Publish as Dashboard…", exact=True).click()
        expect(page.locator("#dte-publish-title")).to_have_value("Storm surge")
        expect(page.locator("#dte-publish-name")).to_have_value("storm-surge")
        page.fill("#dte-publish-description", "Surge heights along the coast.")
        page.locator(".jp-Dialog").get_by_role("button", name="Publish", exact=True).click()
        expect(
            page.get_by_text(re.compile(r"Published “Storm surge” \(version 1\) for dt-users"))
        ).to_be_visible(timeout=60_000)
        assert requests_made.offsite == []
    published = writer.api("GET", "/services/dashboards/api/dashboards/storm-surge").json()
    assert published["owner"] == writer.name and published["groups"] == ["dt-users"]
    assert published["description"] == "Surge heights along the coast."
    removed = writer.api("DELETE", "/services/dashboards/api/dashboards/storm-surge")
    assert removed.status_code == 204
    writer.stop_server()


@pytest.mark.browser
@pytest.mark.parametrize(("slug", "twin"), TWIN_DASHBOARDS)
def test_a_dt_user_opens_each_twin_dashboard_from_the_gallery_and_runs_it(
    platform, dt_user, slug, twin
):
    from playwright.sync_api import expect

    from tests.browser import browser_page, log_in
    from tests.dte_widgets.test_dashboard_browser import drive_the_dashboard

    with browser_page() as (page, requests_made, console_errors):
        log_in(page, platform.url, dt_user)
        page.wait_for_url("**/services/dashboards/", timeout=60_000)
        page.click(f"[data-dashboard='{slug}'] a")
        page.wait_for_url(f"**/voila/render/{slug}/v1.ipynb", timeout=60_000)
        drive_the_dashboard(page)
        # the notebook's equations are typeset by the MathJax Voila bundles, not a CDN's
        expect(page.locator("mjx-container").first).to_be_attached(timeout=30_000)
    assert requests_made.offsite == []
    assert console_errors == []
    # the run is the viewer's, in the dashboards' registry (the kernel is the service's)
    runs = RunRegistry(platform.state / "dashboards" / "runs.sqlite").runs(twin)
    assert [run.user for run in runs] == [dt_user.name]


@pytest.mark.browser
@pytest.mark.parametrize(("slug", "twin"), TWIN_DASHBOARDS)
def test_each_twin_dashboard_runs_as_a_panel_app_through_the_hub(platform, dt_user, slug, twin):
    """The gallery's "Open as a Panel app": the same notebook in ``panel serve``, behind the
    hub's login, the run recorded as the viewer's."""
    from playwright.sync_api import expect

    from tests.browser import browser_page, log_in
    from tests.dte_widgets.test_dashboard_browser import KNOWN_PANEL_NOISE, drive_the_dashboard

    path = platform.state / "dashboards" / "runs.sqlite"
    # opened only if it exists: made here, it would be root's and the service could not write
    before = {run.run_id for run in RunRegistry(path).runs(twin)} if path.exists() else set()
    with browser_page() as (page, requests_made, console_errors):
        log_in(page, platform.url, dt_user)
        page.wait_for_url("**/services/dashboards/", timeout=60_000)
        page.click(f"[data-dashboard='{slug}'] p.also a")
        page.wait_for_url(f"**/services/dashboards/panel/dashboard?name={slug}", timeout=60_000)
        drive_the_dashboard(page)
        # the gateway's cluster options, answered after the page was made, reached it too
        options = page.locator(".dte-compute-options").get_by_text("Cores per worker")
        expect(options).to_be_attached(timeout=30_000)
    assert requests_made.offsite == []
    assert [e for e in console_errors if not e.startswith(KNOWN_PANEL_NOISE)] == []
    new = [run for run in RunRegistry(path).runs(twin) if run.run_id not in before]
    assert [run.user for run in new] == [dt_user.name]


def test_panel_apps_open_only_for_the_dashboards_groups(platform, author, dt_user):
    panel = platform.url + "/services/dashboards/panel/"
    assert publish(author, "river-panel").status_code == 201  # for dt-developers only
    refused = dt_user.session.get(panel + "dashboard?name=river-panel", timeout=30)
    assert refused.status_code == 403 and "not in a group" in refused.text
    opened = author.session.get(platform.url + "/services/dashboards/p/river-panel/", timeout=120)
    assert opened.status_code == 200 and opened.url.endswith("panel/dashboard?name=river-panel")
    for path in ("", "dashboard?name=nothing-here", "admin", "dashboard/metadata"):
        answer = dt_user.session.get(panel + path, timeout=30, allow_redirects=False)
        assert answer.status_code in (403, 404), path
    # one name, the one checked: a second name cannot smuggle in a dashboard of another group
    for query in ("", "?name=river-panel&name=flood", "?name=flood&name=river-panel"):
        answer = dt_user.session.get(panel + "dashboard" + query, timeout=30)
        assert answer.status_code == 400 and "name the one dashboard" in answer.text, query
    anonymous = requests.get(panel + "dashboard?name=flood", timeout=30)
    assert anonymous.url.startswith(platform.url + "/hub/login")


def panel_session_token(platform, person, slug: str) -> str:
    """The session token of the Panel page ``person`` opens for dashboard ``slug``."""

    page = person.session.get(
        platform.url + f"/services/dashboards/panel/dashboard?name={slug}", timeout=120
    )
    assert page.status_code == 200, page.text
    return token_in(page.text)


def token_in(page: str) -> str:
    """The session token a Panel page carries."""
    import re

    return re.search(r'"token":\s*"([^"]+)"', page.replace('\\"', '"')).group(1)


def open_panel_websocket(platform, person, session_token: str):
    """The Panel websocket ``person`` opens with ``session_token`` (websocket-client's
    exceptions if it is refused)."""
    import websocket

    address = platform.url.replace("http://", "ws://") + "/services/dashboards/panel/dashboard/ws"
    return websocket.create_connection(
        address,
        subprotocols=["bokeh", session_token],
        header=[f"Cookie: {cookie_header(person)}"],
        timeout=60,
    )


def first_panel_message(platform, person, session_token: str) -> str:
    """The first message of the Panel websocket ``person`` opens with ``session_token`` ("" if
    it is refused)."""
    import websocket

    try:
        connection = open_panel_websocket(platform, person, session_token)
    except websocket.WebSocketException:
        return ""
    try:
        return connection.recv() or ""
    except (websocket.WebSocketException, OSError):
        return ""
    finally:
        connection.close()


def acknowledged(message: str) -> bool:
    """Whether Bokeh's first message accepted the session."""
    return '"msgtype":"ACK"' in message.replace(" ", "")


def test_a_panel_session_for_another_dashboard_or_viewer_cannot_be_forged(platform, author):
    """The session token carries the request (dashboard, viewer): only panel serve signs one,
    for a page the service let through; an unsigned token is refused."""
    from bokeh.util.token import generate_jwt_token, generate_session_id

    token = panel_session_token(platform, author, "flood")
    assert acknowledged(first_panel_message(platform, author, token))
    forged = generate_jwt_token(
        generate_session_id(),
        extra_payload={"headers": {"X-DTE-User": "admin"}, "arguments": {"name": [b"x"]}},
    )
    assert "ACK" not in first_panel_message(platform, author, forged)


def test_a_viewer_cannot_join_another_viewers_panel_session(platform, admin, author):
    """Another viewer in the same Panel process (where a token's signature holds) cannot join
    a viewer's session: not with the token passed on (403 at the handshake), nor by naming its
    session id to get a new token for it (the page refuses the argument and starts a session
    of its own for the header). The session's own viewer still gets it."""
    import websocket
    from bokeh.util.token import get_session_id

    from hub.dashboards.panel_server import process_of

    numbers = list(range(PANEL_PROCESSES))
    other = new_account(platform, admin, developer=True, prefix="other")
    while process_of(other.name, numbers) != process_of(author.name, numbers):
        other = new_account(platform, admin, developer=True, prefix="other")
    own = panel_session_token(platform, other, "flood")  # logged in to the service, too
    token = panel_session_token(platform, author, "flood")
    session = get_session_id(token)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_panel_websocket(platform, other, token)
    assert refused.value.status_code == 403
    page = platform.url + "/services/dashboards/panel/dashboard?name=flood"
    named = other.session.get(page + f"&bokeh-session-id={session}", timeout=60)
    assert named.status_code == 400
    mine = other.session.get(page, headers={"Bokeh-Session-Id": session}, timeout=120)
    assert mine.status_code == 200 and get_session_id(token_in(mine.text)) != session
    assert acknowledged(first_panel_message(platform, author, token))
    assert acknowledged(first_panel_message(platform, other, own))


def test_viewers_sessions_spread_over_the_panel_processes(platform, admin):
    """Each viewer's page and its websocket reach the same Panel process (the session lives
    where the page made it: another process would refuse its token), and viewers land in
    different processes: each session opens in its viewer's process only."""
    from hub.dashboards.panel_server import process_of

    numbers = list(range(PANEL_PROCESSES))
    viewers = {}  # the process number -> a viewer whose sessions run there
    while len(viewers) < PANEL_PROCESSES:
        person = new_account(platform, admin, developer=True, prefix="spread")
        viewers.setdefault(process_of(person.name, numbers), person)
    logs = platform.state / "dashboards"

    def sessions_opened() -> list[int]:
        return [
            (logs / f"panel-{n + 1}.log").read_text().count("WebSocket connection opened")
            for n in numbers
        ]

    def processes_opening_a_session(person) -> list[int]:
        before = sessions_opened()
        token = panel_session_token(platform, person, "flood")
        assert acknowledged(first_panel_message(platform, person, token))
        wait_until(lambda: sessions_opened() != before, 30, "a session opened")
        after = sessions_opened()
        return [n for n in numbers if after[n] > before[n]]

    for number, person in viewers.items():
        assert processes_opening_a_session(person) == [number]


def test_a_dead_panel_server_is_started_again(platform, dt_user):
    """The Panel processes killed (a crash, the OOM killer): the service starts each again and
    the next viewer gets the app, without a hub restart."""

    import psutil

    from tests.hub.platform import panel_processes

    page = platform.url + "/services/dashboards/p/flood/"
    assert dt_user.session.get(page, timeout=120).status_code == 200
    dead = panel_processes(platform.instance)
    assert len(dead) == PANEL_PROCESSES
    for process in dead:
        process.kill()

    def ended(process) -> bool:  # not yet reaped by the service, which looks every 5 s
        try:
            return process.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_until(lambda: all(ended(p) for p in dead), 10, "the processes killed")

    # the next viewer finds theirs dead (or dying: a listening socket outlives the process's
    # first thread, and resets the connection): it is started again at once and the page waits
    answer = dt_user.session.get(page, timeout=120)
    assert answer.status_code == 200 and "bokeh" in answer.text.lower()

    def all_back():
        processes = panel_processes(platform.instance)
        return processes if len(processes) == PANEL_PROCESSES else None

    restarted = wait_until(all_back, 30, "every panel serve started again")
    assert {p.pid for p in restarted}.isdisjoint(p.pid for p in dead)


def cookie_header(person) -> str:
    """The person's cookies as one Cookie header (for a websocket client)."""
    return "; ".join(f"{c.name}={c.value}" for c in person.session.cookies)


def voila_url(platform, person) -> str:
    """Voila's base address behind the service (it carries the key of its files), as the
    gallery's link to the flood dashboard leads to it."""
    moved = person.session.get(
        platform.url + "/services/dashboards/d/flood/", timeout=30, allow_redirects=False
    )
    assert moved.status_code == 302, moved.text
    return platform.url + moved.headers["Location"].partition("voila/render/")[0]


def xsrf_of_the_service(person) -> str:
    """The _xsrf cookie the hub's OAuth gave this person's browser for the service's pages."""
    (value,) = (
        c.value
        for c in person.session.cookies
        if c.name == "_xsrf" and c.path.startswith("/services/dashboards")
    )
    return value


def test_a_viewers_dashboard_kernel_is_theirs_alone(platform, author, dt_user):
    """Another viewer of the same dashboard who learns a kernel's id can neither attach to it
    nor shut it down; its own viewer can, but only from a page of the service (a request from
    another site lacks the _xsrf value)."""
    import re

    import websocket

    author.session.get(platform.url + "/services/dashboards/", timeout=30)  # hub OAuth
    page = dt_user.session.get(platform.url + "/services/dashboards/d/flood/", timeout=120)
    assert page.status_code == 200
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.text).group(1)
    voila = voila_url(platform, dt_user)
    address = voila.replace("http://", "ws://") + f"api/kernels/{kernel}/channels"

    def attach(person) -> int:
        cookies = cookie_header(person)
        try:
            connection = websocket.create_connection(
                address, header=[f"Cookie: {cookies}"], timeout=60
            )
        except websocket.WebSocketBadStatusException as refused:
            return refused.status_code
        connection.close()
        return 101

    assert attach(author) == 403
    assert attach(dt_user) == 101
    shutdown = voila + f"voila/api/shutdown/{kernel}"
    stolen = author.session.post(
        shutdown, files={"_xsrf": (None, xsrf_of_the_service(author))}, timeout=30
    )
    assert stolen.status_code == 403
    # what another site could make the viewer's browser send: their cookies, no _xsrf value
    forged = dt_user.session.post(shutdown, timeout=30)
    assert forged.status_code == 403 and attach(dt_user) == 101
    # what Voila's page sends when it closes (navigator.sendBeacon with the _xsrf form field)
    closing = dt_user.session.post(
        shutdown, files={"_xsrf": (None, xsrf_of_the_service(dt_user))}, timeout=30
    )
    assert closing.status_code == 204
    voila_log = platform.state / "dashboards" / "voila.log"
    wait_until(
        lambda: f"Kernel shutdown: {kernel}" in voila_log.read_text(),
        30,
        "Voila did not shut the kernel down",
    )


def test_only_dashboard_pages_assets_and_kernels_of_voila_are_reachable(platform, author, dt_user):
    author.session.get(platform.url + "/services/dashboards/", timeout=30)  # hub OAuth
    voila = voila_url(platform, dt_user)
    for path in (
        "",
        "voila/tree",
        "api/kernels",
        "voila/api/contents",
        "voila/files/flood/v1.ipynb",
    ):
        answer = dt_user.session.get(voila + path, timeout=30, allow_redirects=False)
        assert answer.status_code in (403, 404), path
    assert publish(author, "river-private").status_code == 201
    hidden = dt_user.session.get(voila + "voila/render/river-private/v1.ipynb", timeout=30)
    assert hidden.status_code == 403
    assert publish(author, "river-private", title="Version 2").json()["version"] == 2
    old = author.session.get(
        voila + "voila/render/river-private/v1.ipynb", timeout=30, allow_redirects=False
    )
    assert old.status_code == 302 and old.headers["Location"].endswith("/river-private/v2.ipynb")
    anonymous = requests.get(voila + "voila/render/flood/v1.ipynb", timeout=30)
    assert anonymous.url.startswith(platform.url + "/hub/login")
    # jupyter_server would take a ?token= over the service's own credentials
    tokened = dt_user.session.get(voila + "voila/render/flood/v1.ipynb?token=x", timeout=30)
    assert tokened.status_code == 400


def test_voilas_files_are_cached_by_browsers_until_an_upgrade(platform, dt_user):
    """Voila's bundles are kept by the browser (no request at the next view); the dashboard
    page is not; an address from before an upgrade (another key) leads to the current page."""
    voila = voila_url(platform, dt_user)
    bundle = dt_user.session.get(voila + "voila/static/voila.js", timeout=30)
    assert bundle.status_code == 200
    assert "immutable" in bundle.headers["Cache-Control"]
    page = dt_user.session.get(voila + "voila/render/flood/v1.ipynb", timeout=120)
    assert page.status_code == 200 and "immutable" not in page.headers.get("Cache-Control", "")
    before_upgrade = platform.url + "/services/dashboards/voila/0123456789ab/"
    moved = dt_user.session.get(
        before_upgrade + "voila/render/flood/v1.ipynb", timeout=30, allow_redirects=False
    )
    assert moved.status_code == 302 and moved.headers["Location"].startswith(
        voila.replace(platform.url, "")
    )
    stale = dt_user.session.get(before_upgrade + "voila/static/voila.js", timeout=30)
    assert stale.status_code == 404


def test_viewers_never_see_a_traceback_and_the_owner_reads_it(platform, author, dt_user, admin):
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell("print('before the failure')"),
        nbformat.v4.new_code_cell("raise ValueError('gauge 7 sent no data')"),
    ]
    body = {"title": "Broken", "notebook": book, "groups": ["dt-users"]}
    assert author.api("PUT", "/services/dashboards/api/dashboards/broken", json=body).ok
    page = dt_user.session.get(platform.url + "/services/dashboards/d/broken/", timeout=120)
    assert page.status_code == 200 and "before the failure" in page.text
    assert "gauge 7" not in page.text and "ValueError" not in page.text

    errors = "/services/dashboards/api/dashboards/broken/errors"
    journal = author.api("GET", errors).json()["errors"]
    assert journal[0]["error"] == "ValueError: gauge 7 sent no data"
    assert journal[0]["viewer"] == dt_user.name
    assert "raise ValueError" in journal[0]["traceback"]
    assert dt_user.session.get(platform.url + errors, timeout=30).status_code == 403
    assert admin.api("GET", errors).status_code == 200

    # unpublished, the journal goes with it: whoever publishes the name next starts clean
    assert author.api("DELETE", "/services/dashboards/api/dashboards/broken").status_code == 204
    assert author.api("PUT", "/services/dashboards/api/dashboards/broken", json=body).ok
    assert author.api("GET", errors).json()["errors"] == []


def test_a_dashboards_ensembles_run_on_a_gateway_cluster_held_to_viewer_limits(
    platform, author, dt_user
):
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell(
            "import warnings\n"
            "from dte_twins.compute import find_client\n"
            "client = find_client()\n"
            "print('cluster:', type(client.cluster).__name__)\n"
            "print('answer:', client.submit(lambda: 6 * 7).result())\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    client.cluster.scale(50)\n"
            "print('scaled:', [str(w.message) for w in caught])\n"
            "print('same cluster again:', find_client().cluster is client.cluster)\n"
        )
    ]
    body = {"title": "Compute", "notebook": book, "groups": ["dt-users"]}
    assert author.api("PUT", "/services/dashboards/api/dashboards/compute", json=body).ok
    page = dt_user.session.get(platform.url + "/services/dashboards/d/compute/", timeout=180)
    assert page.status_code == 200
    assert "cluster: GatewayCluster" in page.text  # not a local cluster in the kernel
    assert "answer: 42" in page.text
    scaled = page.text[page.text.index("scaled:") :][:400]
    assert "limit of 2 workers" in scaled, scaled  # [dashboards] viewer_max_workers
    assert "same cluster again: True" in page.text
    # its pool's kernels (and their clusters) end with it
    assert author.api("DELETE", "/services/dashboards/api/dashboards/compute").status_code == 204


def dashboard_clusters(platform) -> set[str]:
    """The gateway clusters the dashboards' sessions hold (as ``service:dashboards-compute``)."""
    token = StateFolder(platform.state).secret("dashboards_compute_token")
    answer = gateway_api(platform.url, token, "GET", "/api/v1/clusters/?status=pending,running")
    assert answer.status_code == 200, answer.text
    return set(answer.json())


def test_each_panel_session_runs_its_ensembles_on_a_cluster_of_its_own(platform, author):
    """A ``panel serve`` process holds many sessions; each session's ensembles still go to
    a gateway cluster of its own, shut down when the session ends (no viewer's work queues
    behind another's)."""
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell(
            "from catalogs import open_catalog\n"
            "from dte_twins.physics.detector_noise import DetectorNoiseTwin\n"
            "from dte_widgets import TwinDashboard\n"
            "from dte_widgets.panel_app import servable\n"
            "dashboard = TwinDashboard(DetectorNoiseTwin(catalog=open_catalog()))\n"
            "from dte_widgets.panel_app import served_by_panel\n"
            "if served_by_panel():  # not in the kernel Voila preheats for it\n"
            "    # what a viewer does with the runner's controls, as the page is made\n"
            "    dashboard.runner.mode.value = 'ensemble'\n"
            "    dashboard.runner.members.value = 2\n"
            "    dashboard.runner.start()\n"
            "servable(dashboard, title='Compute')\n"
        )
    ]
    body = {"title": "Compute", "notebook": book, "groups": ["dt-developers"]}
    assert author.api("PUT", "/services/dashboards/api/dashboards/compute-panel", json=body).ok
    before = dashboard_clusters(platform)
    # two pages: two sessions in the author's panel serve process (no websocket opens)
    for _ in range(2):
        page = author.session.get(
            platform.url + "/services/dashboards/p/compute-panel/", timeout=120
        )
        assert page.status_code == 200

    # (a Voila kernel refilling a pool may add one of its own meanwhile, which does not stop)
    def two_new_clusters():
        new = dashboard_clusters(platform) - before
        return new if len(new) >= 2 else None

    new = wait_until(two_new_clusters, 120, "a cluster for each session")
    # a session nobody connects to ends after Bokeh's unused-session lifetime (15 s, checked
    # every 17 s), and its cluster with it
    wait_until(
        lambda: len(new - dashboard_clusters(platform)) >= 2, 120, "the sessions' clusters to stop"
    )
