"""The live feeds end to end through the real hub: authentication, events, history, a kernel's
client, and a service killed mid-stream that the hub restarts without losing an observation."""

import itertools
import json
import threading
import time

import psutil
import pytest
import requests

from catalogs.entries import ENTRIES
from catalogs.live import LiveFeed, LiveFeedError
from catalogs.live.feeds import RiverGauge, play
from tests.hub.conftest import new_account
from tests.hub.platform import HubUser, processes_of_instance, running_platform, wait_until

pytestmark = pytest.mark.slow

TICK = 0.2  # seconds; the platform's default is 1


@pytest.fixture(scope="module")
def platform(platform_root):
    settings = {"live": {"tick": TICK}, "catalog": {"prebuild": True, "size": "small"}}
    with running_platform(platform_root / "state", settings=settings) as running:
        _wait_for_live(running.url)
        yield running


def _wait_for_live(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # anonymous: 403 once the service answers (the proxy says 503 until then)
            if requests.get(f"{url}/services/live/feeds", timeout=2).status_code == 403:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError("the live service did not answer")


@pytest.fixture(scope="module")
def dt_user(platform, admin):
    """A DT user: no server, no compute; may read the live feeds."""
    return new_account(platform, admin, developer=False, prefix="viewer")


def live_url(platform) -> str:
    return f"{platform.url}/services/live"


def without_receipt(records):
    return [{k: v for k, v in r.items() if k != "recorded_at"} for r in records]


def test_anonymous_visitors_are_refused(platform):
    base = live_url(platform)
    for path in ("/feeds", "/feeds/river_gauge/history", "/feeds/river_gauge/events"):
        response = requests.get(base + path, timeout=30, allow_redirects=False)
        assert response.status_code == 403, path
    wrong = requests.get(
        base + "/feeds", headers={"Authorization": "token not-a-token"}, timeout=30
    )
    assert wrong.status_code == 403
    browser = HubUser(platform, "anonymous", "").session.get(
        base + "/feeds", headers={"Accept": "text/html"}, timeout=30
    )
    assert "/hub/login" in browser.url


def test_a_token_without_access_to_the_service_is_refused(platform, dt_user):
    narrow = dt_user.session.post(
        f"{platform.url}/hub/api/users/{dt_user.name}/tokens",
        json={"note": "no live", "expires_in": 600, "scopes": ["read:users!user"]},
        headers=dt_user._xsrf_header(),
    )
    narrow.raise_for_status()
    response = requests.get(
        live_url(platform) + "/feeds",
        headers={"Authorization": f"token {narrow.json()['token']}"},
        timeout=30,
    )
    assert response.status_code == 403
    with pytest.raises(LiveFeedError, match="refused the token"):
        LiveFeed("river_gauge", url=live_url(platform), token=narrow.json()["token"]).info()


def test_a_dt_user_follows_a_feed_as_server_sent_events(platform, dt_user):
    listing = dt_user.api("GET", "/services/live/feeds")
    assert listing.status_code == 200
    feeds = {f["name"]: f for f in listing.json()["feeds"]}
    assert set(feeds) == {"river_gauge", "detector"}
    assert feeds["river_gauge"]["fields"]["discharge"] == "m³/s"
    assert feeds["river_gauge"]["tick_s"] == TICK

    with requests.get(
        live_url(platform) + "/feeds/river_gauge/events",
        headers={"Authorization": f"token {dt_user.token}", "Accept": "text/event-stream"},
        stream=True,
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")

    feed = LiveFeed("river_gauge", url=live_url(platform), token=dt_user.token)
    started = feed.info()["last_seq"]
    live = list(itertools.islice(feed.follow(), 5))  # from now on
    seqs = [o["seq"] for o in live]
    assert seqs == list(range(seqs[0], seqs[0] + 5)) and seqs[0] > started
    assert {"time", "discharge", "stage", "recorded_at"} <= set(live[0])

    replayed = list(itertools.islice(feed.follow(since=0), 3))  # from the archive's start
    assert [o["seq"] for o in replayed] == [1, 2, 3]


def test_a_browser_login_reaches_the_feeds(platform, dt_user):
    # The hub login cookie is enough: the service logs the browser in through OAuth.
    page = dt_user.session.get(
        live_url(platform) + "/feeds", headers={"Accept": "text/html"}, timeout=30
    )
    assert page.status_code == 200, page.text[:300]
    assert page.url.endswith("/services/live/feeds")
    assert {f["name"] for f in page.json()["feeds"]} == {"river_gauge", "detector"}


def test_history_pages_and_reads_through_the_catalog(platform, dt_user, monkeypatch):
    page = dt_user.api("GET", "/services/live/feeds/river_gauge/history?since=2&limit=4").json()
    assert [o["seq"] for o in page["observations"]] == [3, 4, 5, 6]
    assert page["more"] is True and page["last_seq"] >= 6
    until = dt_user.api("GET", "/services/live/feeds/river_gauge/history?until=2").json()
    assert [o["seq"] for o in until["observations"]] == [1, 2] and until["more"] is False
    assert dt_user.api("GET", "/services/live/feeds/river_gauge/history?since=x").status_code == 400
    missing = dt_user.api("GET", "/services/live/feeds/volcano/history")
    assert missing.status_code == 404 and "river_gauge" in missing.json()["message"]

    from catalogs import open_catalog

    monkeypatch.setenv("DTE_LIVE_URL", live_url(platform))
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", dt_user.token)
    catalog = open_catalog(personal=False)
    for name in ("live_river_gauge", "live_detector"):
        table = catalog[name].read()
        ENTRIES[name].schema.validate(table)
        assert table["seq"].iloc[0] == 1 and table["seq"].is_monotonic_increasing


def test_a_kernel_follows_a_feed_with_its_servers_token(platform, admin):
    developer = new_account(platform, admin, developer=True, prefix="livedev")
    developer.start_server()
    try:
        out = developer.run_code(
            "import itertools, json\n"
            "from catalogs.live import LiveFeed\n"
            "feed = LiveFeed('detector')\n"
            "chunks = list(itertools.islice(feed.follow(), 2))\n"
            "past = feed.history(limit=2)\n"
            "print(json.dumps({'seqs': [c['seq'] for c in chunks], 'rows': len(past),\n"
            "                  'samples': len(chunks[0]['strain'])}))\n"
        )
    finally:
        developer.stop_server()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["seqs"][1] == result["seqs"][0] + 1
    assert result["samples"] == 128 and result["rows"] == 2 * 128


def _live_service(platform) -> psutil.Process | None:
    for process in processes_of_instance(platform.instance):
        try:
            if "catalogs.live.service" in " ".join(process.cmdline()):
                return process
        except psutil.NoSuchProcess:
            continue
    return None


def test_a_killed_service_is_restarted_and_loses_no_acknowledged_observation(platform, dt_user):
    feed = LiveFeed(
        "river_gauge", url=live_url(platform), token=dt_user.token, reconnect_timeout=120
    )
    received: list[dict] = []
    enough = threading.Event()
    failure: list[BaseException] = []

    def follow():
        try:
            for observation in feed.follow(since=0):
                received.append(observation)
                if enough.is_set():
                    return
        except BaseException as error:  # reported by the test, not lost in the thread
            failure.append(error)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    wait_until(lambda: len(received) >= 20 and received[-1]["seq"] > 30, 60, "no observations")

    service = _live_service(platform)
    assert service is not None and service.username() != "root"  # runs unprivileged
    service.kill()  # SIGKILL: no chance to flush or say goodbye
    # dead, though a zombie until the hub reaps it (it polls a service every 30 s)
    wait_until(
        lambda: not service.is_running() or service.status() == psutil.STATUS_ZOMBIE,
        10,
        "the live service survived SIGKILL",
    )
    acknowledged = list(received)  # everything a client got before the service died

    # JupyterHub polls its managed services (every 30 s) and starts a dead one again.
    restarted = wait_until(
        lambda: (p := _live_service(platform)) is not None and p.pid != service.pid and p,
        75,
        "the hub did not restart the live service",
    )
    last_before = acknowledged[-1]["seq"]
    wait_until(
        lambda: failure or received[-1]["seq"] >= last_before + 10,
        60,
        "the client did not resume after the restart",
    )
    enough.set()
    follower.join(10)
    assert not failure, failure
    assert restarted.is_running()
    assert "Service live exited" in platform.log()

    # The client resumed by itself: one contiguous sequence across the restart.
    seqs = [o["seq"] for o in received]
    assert seqs == list(range(1, len(seqs) + 1))

    # The archive holds every observation received before the kill, unchanged, and nothing
    # else in between; the simulation went on as if never stopped.
    history = feed.observations(since=0)
    assert [o["seq"] for o in history] == list(range(1, len(history) + 1))
    assert history[: len(acknowledged)] == acknowledged
    assert history[: len(received)] == received
    assert without_receipt(history) == play(RiverGauge(), len(history))[0]


def test_user_servers_read_the_catalog_the_platform_prebuilt(platform, admin):
    shared = platform.state / "catalog"
    deadline = time.monotonic() + 120
    while not (shared / "calorimeter_showers" / "small" / "manifest.json").exists():
        assert time.monotonic() < deadline, (platform.state / "logs/catalog-build.log").read_text()
        time.sleep(0.5)
    developer = new_account(platform, admin, developer=True, prefix="catalog")
    developer.start_server()
    try:
        out = developer.run_code(
            "import json\n"
            "from catalogs.entries import ENTRIES\n"
            "from catalogs.store import cached, read_entry\n"
            "nile = read_entry('nile_flow')\n"
            "showers = read_entry('calorimeter_showers', size='small')\n"
            "own = read_entry('soil_properties', size=0.1)\n"
            "print(json.dumps({\n"
            "    'nile': [str(cached(ENTRIES['nile_flow']).root), len(nile)],\n"
            "    'showers': str(cached(ENTRIES['calorimeter_showers'], 'small').root),\n"
            "    'own': str(cached(ENTRIES['soil_properties'], 0.1).root),\n"
            "}))\n"
        )
    finally:
        developer.stop_server()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["nile"] == [str(shared), 100]
    assert result["showers"] == str(shared)
    # a size the platform did not prebuild is built into the user's own cache
    assert result["own"].startswith(str(platform.state / "home"))
    assert not (shared / "soil_properties" / "x0.1").exists()
