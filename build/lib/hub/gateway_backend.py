"""dask-gateway backends of DTE Hub: the local backends, with clusters that start with workers.

Stock dask-gateway starts every cluster with no workers; a user then calls ``cluster.scale``.
These backends swap the scheduler's preload for ``hub.gateway_scheduler_preload``, which runs
dask-gateway's own preload and then asks for the ``workers`` the user chose in the cluster
options, so workers start while the client is still connecting.
"""

import os

from dask_gateway_server.backends.local import LocalBackend, UnsafeLocalBackend

__all__ = ["PlatformLocalBackend", "PlatformUnsafeLocalBackend"]

_STOCK_PRELOAD = "dask_gateway.scheduler_preload"
_PLATFORM_PRELOAD = "hub.gateway_scheduler_preload"


def _with_platform_preload(command: list[str]) -> list[str]:
    return [_PLATFORM_PRELOAD if part == _STOCK_PRELOAD else part for part in command]


class PlatformLocalBackend(LocalBackend):
    """LocalBackend (clusters run as the user's own Unix account; root only).

    It also replaces ``setup_working_directory``: dask-gateway 2026.3's version passes each
    certificate path to ``list.extend``, so the ownership change meant for the certificates is
    applied to single characters of the path, the first of which is ``/``: as root, it gives
    the machine's root folder to the cluster's user. This version changes the owner of exactly
    the folders and files it creates.
    """

    def get_scheduler_command(self, cluster):
        return _with_platform_preload(super().get_scheduler_command(cluster))

    def setup_working_directory(self, cluster):
        workdir = os.path.join(self.clusters_directory, cluster.name)
        certs = self.get_certs_directory(workdir)
        logs = self.get_logs_directory(workdir)
        created = []
        for folder in (workdir, certs, logs):
            os.makedirs(folder, 0o700, exist_ok=True)
            created.append(folder)
        cert_path, key_path = self._get_tls_paths(workdir)
        for path, content in ((cert_path, cluster.tls_cert), (key_path, cluster.tls_key)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as f:
                f.write(content)
            created.append(path)
        self.set_file_permissions(created, cluster.username)
        return workdir


class PlatformUnsafeLocalBackend(UnsafeLocalBackend):
    """UnsafeLocalBackend (clusters run as the gateway's account)."""

    def get_scheduler_command(self, cluster):
        return _with_platform_preload(super().get_scheduler_command(cluster))
