"""Python client of the live feeds: follow the observations as they come, read the past.

In a notebook on the platform nothing needs configuring (the hub gives user servers
``DTE_LIVE_URL`` and ``JUPYTERHUB_API_TOKEN``)::

    from catalogs.live import LiveFeed

    gauge = LiveFeed("river_gauge")
    past = gauge.history()                     # pandas DataFrame indexed by model time
    for observation in gauge.follow(since=gauge.last_seq):   # replay nothing, then live
        print(observation["seq"], observation["discharge"])

``follow`` survives a dropped connection and a restart of the service: it reconnects with
``Last-Event-ID`` and the service replays what was missed from its archive, so the sequence
numbers a loop sees are contiguous and never repeat. Elsewhere, pass ``url`` (for example
``https://hub.example.org/services/live``) and ``token`` (a hub API token).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import requests

__all__ = ["LiveFeed", "LiveFeedError", "samples", "as_frame"]

HISTORY_PAGE = 5000


class LiveFeedError(RuntimeError):
    """The live service refused the request or stayed unreachable; the message says why."""


class _Retry(Exception):
    """The service answered, but not yet usefully (restarting): try again."""


class LiveFeed:
    """One feed of the platform's ``live`` service."""

    def __init__(
        self,
        feed: str,
        url: str | None = None,
        token: str | None = None,
        *,
        reconnect_timeout: float = 120.0,
        read_timeout: float = 45.0,
    ):
        self.feed = feed
        url = url or os.environ.get("DTE_LIVE_URL", "")
        if not url:
            raise LiveFeedError(
                "no address for the live service: pass url= (…/services/live) or set "
                "DTE_LIVE_URL (the hub sets it in user servers)"
            )
        self.url = url.rstrip("/")
        self.token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
        if not self.token:
            raise LiveFeedError(
                "no hub token: pass token= (a hub API token) or set JUPYTERHUB_API_TOKEN "
                "(the hub sets it in user servers)"
            )
        #: seconds ``follow`` keeps trying to reconnect before it gives up
        self.reconnect_timeout = reconnect_timeout
        #: a silent connection (the service sends a comment every 15 s) is dropped after this
        self.read_timeout = read_timeout
        #: sequence number of the last observation ``follow`` yielded (None before the first)
        self.last_seq: int | None = None
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"token {self.token}"

    def __repr__(self) -> str:
        return f"LiveFeed({self.feed!r}, url={self.url!r})"

    # --- requests ------------------------------------------------------------------------------
    def _get(self, path: str, **params) -> dict:
        response = self._session.get(
            f"{self.url}/feeds/{self.feed}{path}",
            params={k: v for k, v in params.items() if v is not None},
            headers={"Accept": "application/json"},
            timeout=60,
            allow_redirects=False,
        )
        _raise_for_refusal(response, self)
        response.raise_for_status()
        return response.json()

    def info(self) -> dict:
        """The feed's description: fields and units, kind, tick, ``last_seq``."""
        return self._get("")

    def observations(
        self, since: int = 0, until: int | None = None, limit: int | None = None
    ) -> list[dict]:
        """Archived observations with ``since < seq <= until`` (all by default), oldest first."""
        collected: list[dict] = []
        while limit is None or len(collected) < limit:
            page = HISTORY_PAGE if limit is None else min(HISTORY_PAGE, limit - len(collected))
            answer = self._get("/history", since=since, until=until, limit=page)
            collected.extend(answer["observations"])
            if not answer["more"] or not answer["observations"]:
                break
            since = answer["observations"][-1]["seq"]
        return collected

    def history(
        self,
        since: int = 0,
        until: int | None = None,
        limit: int | None = None,
        expand: bool = True,
    ) -> pd.DataFrame:
        """The archived observations as a DataFrame indexed by model time (see ``as_frame``)."""
        return as_frame(self.observations(since, until, limit), expand=expand)

    # --- following -----------------------------------------------------------------------------
    def follow(self, since: int | None = None) -> Iterator[dict]:
        """Observations after ``since`` (default: from now on), then live, without end.

        Reconnects after a dropped connection or a restart of the service, resuming after the
        last observation yielded; gives up with LiveFeedError after ``reconnect_timeout``
        seconds without an answer.
        """
        last = self.info()["last_seq"] if since is None else int(since)
        retry = 2.0
        down_since = None
        while True:
            try:
                with self._session.get(
                    f"{self.url}/feeds/{self.feed}/events",
                    headers={"Accept": "text/event-stream", "Last-Event-ID": str(last)},
                    stream=True,
                    timeout=(10, self.read_timeout),
                    allow_redirects=False,
                ) as response:
                    _raise_for_refusal(response, self)
                    if response.status_code != 200:
                        raise _Retry(f"{response.status_code} {response.reason}")
                    for event in _server_sent_events(response.iter_content(chunk_size=None)):
                        if "retry" in event:
                            retry = event["retry"] / 1000
                        if "data" not in event:
                            continue
                        seq = int(event["id"])
                        if seq <= last:
                            continue  # already yielded before a reconnection
                        down_since = None
                        last = self.last_seq = seq
                        yield json.loads(event["data"])
            except (requests.ConnectionError, requests.Timeout, _Retry):
                pass  # ChunkedEncodingError (the service died mid-stream) is a ConnectionError
            now = time.monotonic()
            down_since = now if down_since is None else down_since
            if now - down_since > self.reconnect_timeout:
                raise LiveFeedError(
                    f"the live service at {self.url} has not answered for "
                    f"{self.reconnect_timeout:g} s; the last observation of {self.feed} was "
                    f"{last}: follow(since={last}) resumes from there"
                )
            time.sleep(retry)

    def __iter__(self) -> Iterator[dict]:
        return self.follow()


def _raise_for_refusal(response: requests.Response, feed: LiveFeed) -> None:
    if response.status_code in (401, 403) or response.is_redirect:
        raise LiveFeedError(
            f"the live service refused the token ({response.status_code}): it needs a hub "
            "token of a user with access to the service `live`"
        )
    if response.status_code in (400, 404):
        try:
            message = response.json()["message"]
        except (ValueError, KeyError):
            message = response.reason
        raise LiveFeedError(f"{feed!r}: {message}")


def _server_sent_events(chunks: Iterable[bytes]) -> Iterator[dict]:
    """Events of a text/event-stream: dicts with ``id``, ``data``, ``retry`` as present."""
    buffer = b""
    event: dict = {}
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8")
            if not line:
                if event:
                    yield event
                event = {}
                continue
            if line.startswith(":"):
                continue  # a comment (keep-alive)
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                event["data"] = event["data"] + "\n" + value if "data" in event else value
            elif name == "id":
                event["id"] = value
            elif name == "retry" and value.isdigit():
                event["retry"] = int(value)


def samples(observations: Iterable[dict]) -> pd.DataFrame:
    """Chunked observations (``sample_rate`` and arrays of samples) as one row per sample.

    Built column by column over all chunks at once: a DataFrame per chunk made a day of detector
    history (86 400 chunks) take about 35 s."""
    observations = list(observations)
    if not observations:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="time"))
    first = observations[0]
    arrays = [k for k, v in first.items() if isinstance(v, list)]
    scalars = [k for k in first if k not in arrays and k not in ("time", "sample_rate")]
    counts = np.array([len(o[arrays[0]]) if arrays else 0 for o in observations])
    columns = {k: np.concatenate([np.asarray(o[k]) for o in observations]) for k in arrays}
    for key in scalars:
        columns[key] = np.repeat(np.array([o.get(key) for o in observations]), counts)
    # sample i of a chunk lies i / sample_rate seconds after the chunk's time
    starts = np.repeat(pd.to_datetime([o["time"] for o in observations]).to_numpy(), counts)
    first_row = np.repeat(np.cumsum(counts) - counts, counts)
    rates = np.repeat(np.array([o["sample_rate"] for o in observations], dtype=float), counts)
    offsets = pd.to_timedelta((np.arange(counts.sum()) - first_row) / rates, unit="s")
    return pd.DataFrame(columns, index=pd.DatetimeIndex(starts + offsets, name="time"))


def as_frame(observations: list[dict], expand: bool = True) -> pd.DataFrame:
    """Observations as a DataFrame indexed by model time; ``recorded_at`` as UTC timestamps.

    Chunked observations become one row per sample when ``expand`` (the default)."""
    if expand and any("sample_rate" in o for o in observations):
        table = samples(observations)
    elif observations:
        table = pd.DataFrame(observations)
        table = table.set_index(pd.DatetimeIndex(pd.to_datetime(table.pop("time")), name="time"))
    else:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="time"))
    if "recorded_at" in table:
        table["recorded_at"] = pd.to_datetime(table["recorded_at"], unit="s", utc=True)
    return table
