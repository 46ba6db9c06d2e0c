"""Spawners of user servers on one machine, in the two isolation modes of DTE Hub.

``SingleUserSpawner``
    Every hub user's server runs as the OS account that started the hub, with its own home
    under the state folder. Users are separated by the hub (authentication, per-user tokens
    and routes), not by the operating system: code in one user's kernel could read another
    user's files. No root needed.

``SystemUserSpawner``
    Root only. Each hub user gets a Unix account of the same name whose home lives under the
    state folder (mode 0700), created on first spawn; servers run under that account, so the
    kernel enforces file isolation.

Both add what the stock ``LocalProcessSpawner`` lacks for a platform:

- readiness is awaited by the spawner with a short, fixed poll, so the hub's own exponential
  backoff (which dominates stock spawn time) finds the server already up;
- stopping a server also stops the user's Dask clusters on the platform's gateway, with the
  server's own API token (so no privileged token is needed), and then kills whatever is left
  in the server's process group (kernels, terminals), so nothing outlives the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import signal
import time
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Bool, Float, Unicode, default

from hub.accounts import ensure_unix_account, private_home

__all__ = ["PlatformSpawner", "SingleUserSpawner", "SystemUserSpawner", "stop_user_clusters"]


async def stop_user_clusters(gateway_api_url: str, token: str, log) -> int:
    """Stop every cluster the token's owner has on the gateway; return how many were stopped."""
    client = AsyncHTTPClient()
    headers = {"Authorization": f"jupyterhub {token}"}
    try:
        response = await client.fetch(
            f"{gateway_api_url}/clusters/?status=pending,running",
            headers=headers,
            request_timeout=5,
        )
    except (HTTPClientError, OSError) as e:
        log.info("Could not list clusters on the gateway (%s); none stopped", e)
        return 0
    names = list(json.loads(response.body))
    for name in names:
        try:
            await client.fetch(
                HTTPRequest(
                    f"{gateway_api_url}/clusters/{name}",
                    method="DELETE",
                    headers=headers,
                    request_timeout=10,
                )
            )
        except (HTTPClientError, OSError) as e:
            log.warning("Could not stop cluster %s: %s", name, e)
    return len(names)


class PlatformSpawner(LocalProcessSpawner):
    """What both modes add on top of LocalProcessSpawner."""

    homes_dir = Unicode(config=True, help="Folder holding one home per hub user.")

    gateway_api_url = Unicode(
        "",
        config=True,
        help="Internal URL of the gateway's REST API (…/api/v1); empty: no clusters to stop.",
    )
    stop_clusters_with_server = Bool(
        True, config=True, help="Stop the user's Dask clusters when the server stops."
    )
    readiness_poll_interval = Float(
        0.05, config=True, help="How often start() checks that the server answers (seconds)."
    )

    async def start(self):
        ip, port = await super().start()
        await self._wait_until_listening(ip, port)
        return ip, port

    async def _wait_until_listening(self, ip: str, port: int) -> None:
        """Return once the server's port accepts connections, or the process has died."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return  # died; the hub's own checks report it
            try:
                _, writer = await asyncio.open_connection(ip, port)
            except OSError:
                await asyncio.sleep(self.readiness_poll_interval)
                continue
            writer.close()
            return

    async def stop(self, now=False):
        if self.stop_clusters_with_server and self.gateway_api_url and self.api_token:
            stopped = await stop_user_clusters(self.gateway_api_url, self.api_token, self.log)
            if stopped:
                self.log.info("Stopped %d Dask cluster(s) of %s", stopped, self.user.name)
        pid = self.pid
        await super().stop(now=now)
        if pid:
            _kill_process_group(pid)

    @property
    def home_dir(self) -> str:
        return str(Path(self.homes_dir) / self.user.name)

    @default("notebook_dir")
    def _default_notebook_dir(self):
        return self.home_dir


def _kill_process_group(pgid: int) -> None:
    """Kill what remains of a server's session (it was started with start_new_session)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class SingleUserSpawner(PlatformSpawner):
    """User servers under one OS account, each with a home under the state folder.

    The account is the hub's own, except when the hub runs as root: then servers run as
    ``run_as``, an unprivileged account, so user code can neither read the hub's secrets nor
    act as root.
    """

    run_as = Unicode(
        "", config=True, help="Unix account running every server (empty: the hub's own)."
    )

    async def start(self):
        private_home(self.home_dir, pwd.getpwnam(self.run_as) if self.run_as else None)
        return await super().start()

    def make_preexec_fn(self, name):
        home = self.home_dir
        account = pwd.getpwnam(self.run_as) if self.run_as else None

        def drop_privileges_and_enter_home():
            if account is not None:
                os.setgroups([])
                os.setgid(account.pw_gid)
                os.setuid(account.pw_uid)
            os.chdir(home)

        return drop_privileges_and_enter_home

    def user_env(self, env):
        env["USER"] = self.user.name
        env["HOME"] = self.home_dir
        env["SHELL"] = "/bin/bash"
        return env

    def move_certs(self, paths):
        return paths


class SystemUserSpawner(PlatformSpawner):
    """One Unix account per hub user (root only); homes under the state folder, mode 0700."""

    create_system_users = Bool(
        True, config=True, help="Create the Unix account on first spawn if it does not exist."
    )

    async def start(self):
        await asyncio.to_thread(self._ensure_system_user)
        return await super().start()

    def _ensure_system_user(self) -> None:
        name = self.user.name
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            if not self.create_system_users:
                raise RuntimeError(
                    f"no Unix account {name!r}: create it, or set create_system_users"
                ) from None
            account = ensure_unix_account(name, home=self.home_dir)
        # The platform's home, whatever the account's own home is (it may predate this state).
        private_home(self.home_dir, account)

    def user_env(self, env):
        env = super().user_env(env)
        env["HOME"] = self.home_dir
        return env
