"""Live feeds without the hub: deterministic, resumable feeds; an archive that loses nothing it
acknowledged, even when its writer is killed; the client's stream parsing and tables."""

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from catalogs.entries import ENTRIES
from catalogs.live.archive import Archive, ArchiveError
from catalogs.live.client import _server_sent_events, as_frame
from catalogs.live.feeds import FEEDS, DetectorChannels, RiverGauge, play
from catalogs.live.service import FeedPlayer


def without_receipt(records):
    return [{k: v for k, v in r.items() if k != "recorded_at"} for r in records]


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_feeds_are_deterministic_from_their_seed(name):
    feed = FEEDS[name]
    first, _ = play(feed, 40)
    again, _ = play(feed, 40)
    assert first == again
    other, _ = play(type(feed)(seed=feed.seed + 1), 40)
    assert other != first
    assert [o["seq"] for o in first] == list(range(1, 41))
    json.dumps(first, allow_nan=False)  # JSON-able, as the archive and the wire need
    times = pd.to_datetime([o["time"] for o in first])
    assert times.is_monotonic_increasing and times.is_unique


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_a_feed_resumed_from_its_saved_state_continues_as_if_never_stopped(name):
    feed = FEEDS[name]
    whole, _ = play(feed, 60)
    head, state = play(feed, 25)
    saved = json.loads(json.dumps(state))  # what the archive keeps
    tail, _ = play(feed, 35, saved)
    assert head + tail == whole


def test_the_river_gauge_is_physically_plausible():
    observations, _ = play(RiverGauge(), 3 * 365)
    table = pd.DataFrame(observations)
    assert (table.precipitation >= 0).all() and 0.3 < (table.precipitation > 0).mean() < 0.6
    assert (table.discharge > 0).all() and (table.stage > 0).all()
    # wetter days raise the river: discharge follows rain with a lag
    assert table.discharge.max() > 3 * table.discharge.median()
    summer = table[pd.to_datetime(table.time).dt.month.isin([6, 7, 8])]
    winter = table[pd.to_datetime(table.time).dt.month.isin([12, 1, 2])]
    assert summer.temperature.mean() > winter.temperature.mean() + 8
    assert summer.pet.mean() > winter.pet.mean()


def test_detector_chunks_hold_a_second_of_samples_and_glitches_stand_out():
    feed = DetectorChannels()
    observations, _ = play(feed, 200)
    assert all(len(o["strain"]) == len(o["seismic"]) == feed.sample_rate for o in observations)
    glitches = [o for o in observations if o["glitch"]]
    assert 5 <= len(glitches) <= 40
    loudest = [np.abs(o["strain"]).max() for o in observations]
    quiet = np.median([x for x, o in zip(loudest, observations, strict=True) if not o["glitch"]])
    assert np.median([np.abs(o["strain"]).max() for o in glitches]) > 1.5 * quiet


def ticks_of(feed, count, state=None):
    """(feed, observation, state) triples as the player appends them, one tick at a time."""
    state = feed.initial_state() if state is None else state
    for _ in range(count):
        observation, state = feed.advance(state)
        yield [(feed.name, observation, state)]


def test_the_archive_keeps_observations_and_state_across_reopening(tmp_path):
    gauge = RiverGauge()
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        for tick in ticks_of(gauge, 30):
            archive.append(tick)
        written = archive.history("river_gauge")
    with Archive(path) as archive:
        assert archive.history("river_gauge") == written
        assert archive.last_seq("river_gauge") == 30 and archive.first_seq("river_gauge") == 1
        state = archive.saved_state("river_gauge")
        assert state == json.loads(json.dumps(play(gauge, 30)[1]))
        assert [r["seq"] for r in archive.history("river_gauge", since=10, until=14)] == [
            11,
            12,
            13,
            14,
        ]
        assert len(archive.history("river_gauge", since=5, limit=3)) == 3
    assert without_receipt(written) == play(gauge, 30)[0]
    assert all(isinstance(r["recorded_at"], float) for r in written)


def test_the_archive_refuses_gaps_and_duplicates_and_commits_a_tick_whole(tmp_path):
    gauge, detector = RiverGauge(), DetectorChannels()
    with Archive(tmp_path / "archive.sqlite") as archive:
        first = next(ticks_of(gauge, 1))
        archive.append(first)
        with pytest.raises(ArchiveError, match="does not follow"):
            archive.append(first)  # a duplicate
        observations, state3 = play(gauge, 3)
        with pytest.raises(ArchiveError, match="observation 3 does not follow 1"):
            archive.append([("river_gauge", observations[2], state3)])  # a gap
        # A tick whose second observation is refused leaves nothing of the first either.
        detector_first = next(ticks_of(detector, 1))[0]
        with pytest.raises(ArchiveError):
            archive.append([detector_first, ("river_gauge", observations[2], state3)])
        assert archive.last_seq("detector") == 0 and archive.history("detector") == []
        assert archive.last_seq("river_gauge") == 1


def test_only_one_process_writes_an_archive(tmp_path):
    path = tmp_path / "archive.sqlite"
    with Archive(path):
        with pytest.raises(ArchiveError, match="another process"):
            Archive(path)
        with Archive(path, readonly=True) as reader:  # readers are welcome
            assert reader.last_seq("river_gauge") == 0
    Archive(path).close()  # free again once the writer closed
    with pytest.raises(ArchiveError, match="no live archive"):
        Archive(tmp_path / "missing.sqlite", readonly=True)


def test_pruning_keeps_the_newest_observations(tmp_path):
    with Archive(tmp_path / "archive.sqlite") as archive:
        for tick in ticks_of(RiverGauge(), 20):
            archive.append(tick)
        assert archive.prune("river_gauge", keep=5) == 15
        assert [r["seq"] for r in archive.history("river_gauge")] == [16, 17, 18, 19, 20]
        assert archive.last_seq("river_gauge") == 20


def test_the_player_publishes_only_what_the_archive_committed(tmp_path):
    async def scenario():
        archive = Archive(tmp_path / "archive.sqlite")
        player = FeedPlayer(archive, {"river_gauge": RiverGauge()}, tick=0.01)
        following = player.subscribe("river_gauge")
        commit = archive.append
        calls = []

        def failing_once(ticks):
            calls.append(ticks)
            if len(calls) == 1:
                raise sqlite3.OperationalError("disk I/O error")
            return commit(ticks)

        archive.append = failing_once
        assert await player.step() is False
        assert following.queue.empty() and player.last_seq("river_gauge") == 0
        assert await player.step() is True
        seq, text = following.queue.get_nowait()
        player.close()
        return seq, json.loads(text)

    seq, published = asyncio.run(scenario())
    assert seq == 1 and without_receipt([published]) == play(RiverGauge(), 1)[0]
    with Archive(tmp_path / "archive.sqlite", readonly=True) as archive:
        assert archive.history("river_gauge") == [published]


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from catalogs.live.archive import Archive
    from catalogs.live.service import FeedPlayer

    async def main():
        player = FeedPlayer(Archive(sys.argv[1]), tick=0.005)
        following = {name: player.subscribe(name) for name in player.feeds}
        stop = asyncio.Event()
        asyncio.get_running_loop().create_task(player.run(stop))
        while True:
            for name, subscription in following.items():
                seq, text = await subscription.queue.get()
                print(name, seq, text, flush=True)  # acknowledged: published to a client

    asyncio.run(main())
    """
)


def run_writer_until_killed(path, observations: int) -> dict[str, dict[int, str]]:
    """Start a service-like writer, read what it publishes, SIGKILL it mid-flight."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    received: dict[str, dict[int, str]] = {name: {} for name in FEEDS}
    try:
        for line in process.stdout:
            name, seq, text = line.rstrip("\n").split(" ", 2)
            received[name][int(seq)] = text
            if len(received["river_gauge"]) >= observations:
                break
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
    return received


def test_a_killed_service_loses_no_acknowledged_observation_and_continues(tmp_path):
    path = tmp_path / "archive.sqlite"
    received = run_writer_until_killed(path, 40)
    with Archive(path) as archive:
        kept = {name: archive.history_text(name) for name in FEEDS}
    for name in FEEDS:
        seqs = [seq for seq, _ in kept[name]]
        assert seqs == list(range(1, len(seqs) + 1))  # contiguous, no duplicate
        assert dict(kept[name]).items() >= received[name].items()  # every one, unchanged

    # A second life resumes both feeds: sequence and simulation continue without a seam.
    received_again = run_writer_until_killed(path, 20)
    with Archive(path) as archive:
        for name, feed in FEEDS.items():
            history = archive.history(name)
            assert [r["seq"] for r in history] == list(range(1, len(history) + 1))
            assert without_receipt(history) == play(feed, len(history))[0]
            # what it publishes first is what follows the first life's last archived one
            assert min(received_again[name]) == len(kept[name]) + 1


def test_the_event_stream_parser_survives_any_chunking():
    stream = (
        b"retry: 2000\n: following river_gauge after 0\n\n"
        b'id: 1\ndata: {"seq":1}\n\n: keep-alive\n\nid: 2\r\ndata: {"seq":2}\r\n\r\n'
        b"data: first line\ndata: second line\nid: 3\n\n"
    )
    expected = [
        {"retry": 2000},
        {"id": "1", "data": '{"seq":1}'},
        {"id": "2", "data": '{"seq":2}'},
        {"id": "3", "data": "first line\nsecond line"},
    ]
    for size in (1, 2, 7, len(stream)):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert list(_server_sent_events(chunks)) == expected


def test_history_tables_follow_the_catalog_schemas():
    now = time.time()
    gauge = [{**o, "recorded_at": now} for o in play(RiverGauge(), 10)[0]]
    table = as_frame(gauge)
    assert isinstance(table.index, pd.DatetimeIndex) and len(table) == 10
    assert str(table["recorded_at"].dt.tz) == "UTC"
    ENTRIES["live_river_gauge"].schema.validate(table)

    detector = DetectorChannels()
    chunks = [{**o, "recorded_at": now} for o in play(detector, 3)[0]]
    samples = as_frame(chunks)
    assert len(samples) == 3 * detector.sample_rate
    assert samples.index.is_unique and samples.index.is_monotonic_increasing
    assert (samples.index[1] - samples.index[0]).total_seconds() == 1 / detector.sample_rate
    ENTRIES["live_detector"].schema.validate(samples)
    assert len(as_frame(chunks, expand=False)) == 3
    assert as_frame([]).empty


def test_chunked_observations_become_one_row_per_sample_at_its_own_time():
    chunks = [
        {"seq": 1, "time": "2026-01-01T00:00:00", "sample_rate": 4.0, "strain": [1, 2, 3, 4]},
        {"seq": 2, "time": "2026-01-01T00:00:01", "sample_rate": 2.0, "strain": [5, 6]},
    ]
    table = as_frame(chunks)
    assert table["strain"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table["seq"].tolist() == [1, 1, 1, 1, 2, 2]
    start = pd.Timestamp("2026-01-01T00:00:00")
    seconds = [0, 0.25, 0.5, 0.75, 1.0, 1.5]
    assert list(table.index) == [start + pd.Timedelta(seconds=s) for s in seconds]
    assert as_frame(chunks, expand=False).shape[0] == 2
