"""The durable archive of the live feeds: every observation, and each feed's state, in SQLite.

What "acknowledged" means here: ``Archive.append`` commits a tick's observations *and* the
state each feed reached with them in one transaction (WAL journal, ``synchronous=FULL``: the
commit is on disk when it returns), and the service publishes an observation to clients only
after that. So any observation a client has ever received is in the archive, and a service
killed at any instant restarts from the last committed state: the next observation gets the
next sequence number (no gap, no duplicate) and the simulation continues as if never stopped.
``append`` also refuses an observation whose ``seq`` does not follow the feed's last one.

One process writes (``Archive(path)`` takes an exclusive lock on ``<path>.lock`` for its
lifetime, so a second service on the same archive fails at start rather than interleaving);
any number read (``Archive(path, readonly=True)``), never blocked by the writer.

Tables::

    observations(feed, seq, time, recorded_at, data)   data: the record as JSON text
    feeds(feed, seq, state, updated_at)                 the state after observation ``seq``
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from pathlib import Path

__all__ = ["Archive", "ArchiveError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    feed TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (feed, seq)
);
CREATE TABLE IF NOT EXISTS feeds (
    feed TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class ArchiveError(RuntimeError):
    """The archive cannot take or give what was asked; the message says why."""


def _compact(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Archive:
    """The live feeds' archive at ``path`` (an SQLite file)."""

    def __init__(self, path: str | os.PathLike, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._lock = None
        if readonly:
            if not self.path.is_file():
                raise ArchiveError(f"no live archive at {self.path}: is the live service running?")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _exclusive_lock(self.path.with_name(self.path.name + ".lock"))
        # check_same_thread=False: the service hands the writer to one worker thread after
        # opening it; a connection is still only used by one thread at a time.
        self._db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA busy_timeout = 30000")
        if readonly:
            self._db.execute("PRAGMA query_only = ON")
        else:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)

    # --- writing ------------------------------------------------------------------------------
    def append(self, ticks: list[tuple[str, dict, dict]], recorded_at: float | None = None):
        """Commit ``(feed, observation, state_after)`` triples in one transaction.

        Returns the archived records ``(feed, seq, json_text)``: the observation with its
        ``recorded_at`` (seconds since 1970, UTC), exactly as history will return it. Once this
        returns, the observations survive any crash of this process.
        """
        if self.readonly:
            raise ArchiveError("this archive was opened read-only")
        recorded_at = time.time() if recorded_at is None else recorded_at
        records = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for feed, observation, state in ticks:
                seq = observation["seq"]
                last = self._saved_seq(feed)
                if seq != last + 1 or state.get("seq", seq) != seq:
                    raise ArchiveError(
                        f"feed {feed!r}: observation {seq} does not follow {last} (state at "
                        f"{state.get('seq')}); the archive keeps every feed contiguous"
                    )
                text = _compact({**observation, "recorded_at": round(recorded_at, 6)})
                self._db.execute(
                    "INSERT INTO observations (feed, seq, time, recorded_at, data) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (feed, seq, observation["time"], recorded_at, text),
                )
                self._db.execute(
                    "INSERT INTO feeds (feed, seq, state, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (feed) DO UPDATE SET seq = excluded.seq, "
                    "state = excluded.state, updated_at = excluded.updated_at",
                    (feed, seq, _compact(state), recorded_at),
                )
                records.append((feed, seq, text))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return records

    def prune(self, feed: str, keep: int) -> int:
        """Delete all but the newest ``keep`` observations of ``feed``; how many went."""
        if keep <= 0:
            return 0
        cursor = self._db.execute(
            "DELETE FROM observations WHERE feed = ? AND seq <= ?",
            (feed, self._saved_seq(feed) - keep),
        )
        return cursor.rowcount

    # --- reading ------------------------------------------------------------------------------
    def _saved_seq(self, feed: str) -> int:
        row = self._db.execute("SELECT seq FROM feeds WHERE feed = ?", (feed,)).fetchone()
        return row[0] if row else 0

    def saved_state(self, feed: str) -> dict | None:
        """The state of ``feed`` after its last archived observation, or None if it never ran."""
        row = self._db.execute("SELECT state FROM feeds WHERE feed = ?", (feed,)).fetchone()
        return json.loads(row[0]) if row else None

    def last_seq(self, feed: str) -> int:
        """The sequence number of the newest archived observation of ``feed`` (0: none)."""
        return self._saved_seq(feed)

    def first_seq(self, feed: str) -> int:
        """The oldest archived sequence number still kept (0: none)."""
        row = self._db.execute(
            "SELECT MIN(seq) FROM observations WHERE feed = ?", (feed,)
        ).fetchone()
        return row[0] or 0

    def history_text(
        self, feed: str, since: int = 0, until: int | None = None, limit: int | None = None
    ) -> list[tuple[int, str]]:
        """``(seq, json_text)`` of the observations after ``since``, up to ``until`` included,
        oldest first, at most ``limit``."""
        query = "SELECT seq, data FROM observations WHERE feed = ? AND seq > ?"
        arguments: list = [feed, int(since)]
        if until is not None:
            query += " AND seq <= ?"
            arguments.append(int(until))
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT ?"
            arguments.append(int(limit))
        return self._db.execute(query, arguments).fetchall()

    def history(
        self, feed: str, since: int = 0, until: int | None = None, limit: int | None = None
    ) -> list[dict]:
        """The archived records (observation plus ``recorded_at``), as ``history_text``."""
        return [json.loads(text) for _, text in self.history_text(feed, since, until, limit)]

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _exclusive_lock(path: Path):
    handle = open(path, "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ArchiveError(
            f"another process is writing to the live archive ({path} is locked): stop it first"
        ) from None
    return handle
