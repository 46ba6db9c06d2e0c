"""Where ensemble members run: the Dask client in use, the platform's gateway, or a local cluster.

Imported lazily by ``Twin.ensemble``: a twin that never runs an ensemble needs no scheduler.
"""

from __future__ import annotations

import os

__all__ = ["find_client"]

_local_cluster = None
#: a dashboard kernel's own gateway cluster
_session_cluster = None


def find_client():
    """The Dask client to use, in this order:

    1. the client already in use in this session (``distributed.get_client``);
    2. on DTE Hub (``DASK_GATEWAY__ADDRESS`` is set): the user's first running gateway cluster,
       else a new one scaled adaptively within the platform's limits. In a dashboard's kernel
       (``DTE_CLUSTER_PER_SESSION`` is set) always a cluster of its own, for this viewer only,
       shut down with the kernel: the clusters of all dashboard sessions share one gateway
       identity, and one viewer's work must not queue behind another's. (The Panel apps'
       sessions all run in one process, so they share that process's cluster, held to the same
       limits and shut down with the process);
    3. a local cluster on this machine, started once and reused (Binder, tests, laptops).
    """
    from distributed import Client, LocalCluster, get_client

    try:
        return get_client()
    except ValueError:
        pass
    if os.environ.get("DASK_GATEWAY__ADDRESS"):
        from dask_gateway import Gateway

        global _session_cluster
        gateway = Gateway()
        if os.environ.get("DTE_CLUSTER_PER_SESSION"):
            if _session_cluster is None:
                # shut down when this kernel ends (GatewayCluster's shutdown_on_close)
                _session_cluster = gateway.new_cluster(workers=1)
                _session_cluster.adapt(minimum=1, maximum=4)  # the gateway caps it per viewer
            return _session_cluster.get_client()
        running = gateway.list_clusters()
        cluster = gateway.connect(running[0].name) if running else gateway.new_cluster(workers=2)
        if not running:
            cluster.adapt(minimum=1, maximum=4)
        return cluster.get_client()
    global _local_cluster
    if _local_cluster is None:
        _local_cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
    return Client(_local_cluster)
