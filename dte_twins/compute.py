"""Where ensemble members run: the Dask client in use, the platform's gateway, or a local cluster.

Imported lazily by ``Twin.ensemble``: a twin that never runs an ensemble needs no scheduler.

In DTE Hub's dashboards (``DTE_CLUSTER_PER_SESSION`` is set) each viewer session has a gateway
cluster of its own (``hub/dashboards/compute.py`` says whose and why). A Voila kernel serves one
viewer, so its session is the process. ``panel serve`` runs many sessions in one process: a
session is named by its Bokeh session id (``current_session()``, found where the session's
code runs; a widget that works in a thread of its own takes it when it is made), and its
cluster is shut down when the session ends.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading

__all__ = ["find_client", "current_session", "close_session_cluster"]

log = logging.getLogger(__name__)

_local_cluster = None
#: the gateway clusters of viewer sessions, (cluster, client) by session ("" for a kernel)
_session_clusters: dict[str, tuple] = {}
#: one lock per session: sessions start their clusters side by side, each only once
_session_locks: dict[str, threading.Lock] = {}
#: sessions that have ended, most recent last: a run still starting in one makes no cluster
_ended_sessions: collections.OrderedDict[str, None] = collections.OrderedDict()
#: how many ended sessions are remembered (a late start comes within seconds of the end)
ENDED_SESSIONS_KEPT = 10_000
_registry_lock = threading.Lock()


def find_client(session: str | None = None):
    """The Dask client to use, in this order:

    1. the client already in use in this process (``distributed.get_client``), except in a
       ``panel serve`` session of DTE Hub's dashboards (there it is another session's);
    2. on DTE Hub (``DASK_GATEWAY__ADDRESS`` is set): the user's first running gateway cluster,
       else a new one scaled adaptively within the platform's limits. In a dashboard always the
       cluster of the viewer's session (``session``, else ``current_session()``): the clusters
       of all dashboard sessions share one gateway identity, and one viewer's work must not
       queue behind another's;
    3. a local cluster on this machine, started once and reused (Binder, tests, laptops).
    """
    from distributed import Client, LocalCluster, get_client

    if not _per_session():
        session = None
    elif session is None:
        session = current_session()
    if not session:
        try:
            return get_client()
        except ValueError:
            pass
    if session is not None:
        return _session_client(session)
    if os.environ.get("DASK_GATEWAY__ADDRESS"):
        from dask_gateway import Gateway

        gateway = Gateway()
        running = gateway.list_clusters()
        cluster = gateway.connect(running[0].name) if running else gateway.new_cluster(workers=2)
        if not running:
            cluster.adapt(minimum=1, maximum=4)
        return cluster.get_client()
    global _local_cluster
    if _local_cluster is None:
        _local_cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
    return Client(_local_cluster)


def current_session() -> str | None:
    """The viewer session this code runs in, in DTE Hub's dashboards: the ``panel serve``
    session's id (its cluster is shut down when the session ends), or "" in a dashboard kernel
    (one viewer per process); None elsewhere."""
    if not _per_session():
        return None
    if "panel" not in sys.modules:  # panel serve imports it before running an app
        return ""
    from panel.io.state import state

    document = state.curdoc
    context = document.session_context if document is not None else None
    if context is None:
        return ""
    # a set of callbacks: adding it again, for each widget of the session, changes nothing
    document.on_session_destroyed(_session_ended)
    return context.id


def close_session_cluster(session: str) -> None:
    """Shut down the gateway cluster of a viewer session that has ended, if it made one; the
    session makes no other."""
    with _registry_lock:
        lock = _session_locks.setdefault(session, threading.Lock())
        _ended_sessions[session] = None
        while len(_ended_sessions) > ENDED_SESSIONS_KEPT:
            _ended_sessions.popitem(last=False)
    with lock:  # a start under way ends first
        cluster, client = _session_clusters.pop(session, (None, None))
    with _registry_lock:
        _session_locks.pop(session, None)
    if cluster is None:
        return
    try:
        client.close()
        cluster.shutdown()
    except Exception:  # the gateway stops idle clusters anyway ([compute] idle_timeout)
        log.exception("shutting down the gateway cluster of session %s failed", session)


def _per_session() -> bool:
    return bool(
        os.environ.get("DASK_GATEWAY__ADDRESS") and os.environ.get("DTE_CLUSTER_PER_SESSION")
    )


def _session_client(session: str):
    """The client of ``session``'s gateway cluster, started at its first ensemble."""
    with _registry_lock:
        lock = _session_locks.setdefault(session, threading.Lock())
    with lock:  # other sessions need not wait while this one's cluster starts
        if session not in _session_clusters:
            with _registry_lock:
                ended = session in _ended_sessions
            if ended:
                raise RuntimeError("this dashboard page was closed: open it again to run")
            from dask_gateway import Gateway

            # shut down with the process too (GatewayCluster's shutdown_on_close)
            cluster = Gateway().new_cluster(workers=1)
            cluster.adapt(minimum=1, maximum=4)  # the gateway caps it per viewer
            # the process's default client only where the process is the session (a kernel)
            _session_clusters[session] = (cluster, cluster.get_client(set_as_default=not session))
        return _session_clusters[session][1]


def _session_ended(session_context) -> None:
    if session_context is None:  # Panel's warm-up document: no session
        return
    # called on the server's event loop: the gateway's answer must not hold up other sessions
    threading.Thread(target=close_session_cluster, args=(session_context.id,), daemon=True).start()
