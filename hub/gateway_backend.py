"""dask-gateway backends of DTE Hub: the local backends, with clusters that start with workers.

Stock dask-gateway starts every cluster with no workers; a user then calls ``cluster.scale``.
These backends swap the scheduler's preload for ``hub.gateway_scheduler_preload``, which runs
dask-gateway's own preload and then asks for the ``workers`` the user chose in the cluster
options, so workers start while the client is still connecting.
"""

from dask_gateway_server.backends.local import LocalBackend, UnsafeLocalBackend

__all__ = ["PlatformLocalBackend", "PlatformUnsafeLocalBackend"]

_STOCK_PRELOAD = "dask_gateway.scheduler_preload"
_PLATFORM_PRELOAD = "hub.gateway_scheduler_preload"


def _with_platform_preload(command: list[str]) -> list[str]:
    return [_PLATFORM_PRELOAD if part == _STOCK_PRELOAD else part for part in command]


class PlatformLocalBackend(LocalBackend):
    """LocalBackend (clusters run as the user's own Unix account; root only)."""

    def get_scheduler_command(self, cluster):
        return _with_platform_preload(super().get_scheduler_command(cluster))


class PlatformUnsafeLocalBackend(UnsafeLocalBackend):
    """UnsafeLocalBackend (clusters run as the gateway's account)."""

    def get_scheduler_command(self, cluster):
        return _with_platform_preload(super().get_scheduler_command(cluster))
