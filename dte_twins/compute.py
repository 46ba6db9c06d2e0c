"""Where ensemble members run: the Dask client in use, the platform's gateway, or a local cluster.

Imported lazily by ``Twin.ensemble``: a twin that never runs an ensemble needs no scheduler.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["find_client", "close_session_cluster"]

log = logging.getLogger(__name__)

_local_cluster = None
#: the gateway clusters of dashboard viewer sessions, (cluster, client) by session ("" for a
#: dashboard kernel, whose process has one viewer)
_session_clusters: dict[str, tuple] = {}
#: one lock per session: sessions start their clusters side by side, each only once
_session_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def find_client(session: str | None = None):
    """The Dask client to use, in this order:

    1. the client already in use in this process (``distributed.get_client``), except for a
       ``session`` of a dashboard process that serves many (below);
    2. on DTE Hub (``DASK_GATEWAY__ADDRESS`` is set): the user's first running gateway cluster,
       else a new one scaled adaptively within the platform's limits. In a dashboard
       (``DTE_CLUSTER_PER_SESSION`` is set) always a cluster of the viewer session's own: the
       clusters of all dashboard sessions share one gateway identity, and one viewer's work
       must not queue behind another's. A Voila kernel has one viewer, so its cluster is the
       process's, shut down with the kernel. ``panel serve`` runs many sessions in one
       process: ``session`` (the session's id) picks its cluster, and
       ``close_session_cluster(session)`` shuts it down when the session ends;
    3. a local cluster on this machine, started once and reused (Binder, tests, laptops).
    """
    from distributed import Client, LocalCluster, get_client

    per_session = os.environ.get("DASK_GATEWAY__ADDRESS") and os.environ.get(
        "DTE_CLUSTER_PER_SESSION"
    )
    # in a process of many sessions (panel serve) the default client is another session's
    if not (per_session and session):
        try:
            return get_client()
        except ValueError:
            pass
    if per_session:
        return _session_client(session or "")
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


def _session_client(session: str):
    """The client of ``session``'s gateway cluster, started at its first ensemble."""
    with _registry_lock:
        lock = _session_locks.setdefault(session, threading.Lock())
    with lock:  # other sessions need not wait while this one's cluster starts
        if session not in _session_clusters:
            from dask_gateway import Gateway

            # shut down with the process too (GatewayCluster's shutdown_on_close)
            cluster = Gateway().new_cluster(workers=1)
            cluster.adapt(minimum=1, maximum=4)  # the gateway caps it per viewer
            # the process's default client only where the process is the session (a kernel)
            _session_clusters[session] = (cluster, cluster.get_client(set_as_default=not session))
        return _session_clusters[session][1]


def close_session_cluster(session: str) -> None:
    """Shut down the gateway cluster of a dashboard session that has ended, if it made one."""
    with _registry_lock:
        lock = _session_locks.setdefault(session, threading.Lock())
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
