"""The Intake reader of DTE Hub's catalog entries (Intake 2, ``intake.readers``).

A catalog entry names this reader with the entry and the size; reading builds the data into the
cache on first use and opens it (see ``store``). Plain ``intake`` reads the catalog with this
package installed: ``intake.from_yaml_file(path)["nile_flow"].read()``.
"""

from __future__ import annotations

from intake.readers import BaseReader

__all__ = ["EntryReader", "LiveFeedReader", "PersonalEntryReader"]


class EntryReader(BaseReader):
    """Reads one DTE Hub catalog entry from the cache, building it first when needed."""

    imports = {"catalogs"}
    output_instance = "xarray:Dataset | pandas:DataFrame"

    def _read(self, entry: str, entry_size: str = "default", lazy: bool | None = None, **_):
        from catalogs.store import read_entry

        return read_entry(entry, size=entry_size, lazy=lazy)


class LiveFeedReader(BaseReader):
    """The archived history of a live feed, from the platform's ``live`` service.

    ``read()`` gives a DataFrame indexed by model time; ``since``/``until`` (sequence numbers,
    ``since < seq <= until``) and ``limit`` narrow it. To follow the feed as it comes, use the
    client: ``for observation in catalogs.live.LiveFeed(feed): ...``. The service address and
    token come from ``DTE_LIVE_URL`` and ``JUPYTERHUB_API_TOKEN`` (set in user servers), or
    ``url=`` and ``token=``.
    """

    imports = {"catalogs", "requests"}
    output_instance = "pandas:DataFrame"

    def _read(self, feed: str, since=0, until=None, limit=None, url=None, token=None, **_):
        from catalogs.live.client import LiveFeed

        return LiveFeed(feed, url=url, token=token).history(since=since, until=until, limit=limit)


class PersonalEntryReader(BaseReader):
    """Reads one of the user's own entries (registered with ``catalogs.register_dataset``)."""

    imports = {"catalogs"}
    output_instance = "xarray:Dataset | pandas:DataFrame"

    def _read(self, entry: str, storage: str = "parquet", **_):
        from catalogs.personal import read_personal

        return read_personal(entry, storage)
