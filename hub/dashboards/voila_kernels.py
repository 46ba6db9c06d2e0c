"""The kernel manager of the dashboards' Voila: its pools of preheated kernels follow the
registry, and preheating never crowds out the viewers.

Voila preheats the notebooks it finds at start and refills a pool after each viewer. A
dashboards service needs two things more, both here:

- **Pools follow the registry.** Every ``WATCH_SECONDS`` the registry is read: a dashboard
  published since is preheated at once, and the pool of a version that is no longer current
  (republished, unpublished) is emptied, its idle kernels shut down. Sessions already open on
  an old version keep their kernel.
- **Preheating takes turns.** A preheat is a kernel start plus a run of the notebook up to
  where it waits for a viewer: seconds of CPU. When 20 viewers arrive together, Voila would
  refill 20 kernels at once, and the viewers' own pages then wait for the CPU (measured: 8
  viewers at once took 36 s with all refills together, 18 s with none). Here at most
  ``preheating_at_once`` notebooks preheat at a time; the others wait their turn, first come
  first served.
- **Refills wait for a quiet machine.** A refill (Voila starts one for each kernel a viewer
  took) first waits until the cores are less than ``refill_busy_below`` percent busy, at most
  ``refill_wait_limit_s``: the viewers who just took the pool's kernels are loading their pages.
  A refill still waiting is not counted as a pool kernel, and a viewer is handed the pool's
  ready kernels first, so a viewer arriving meanwhile gets a ready kernel, one being
  preheated, or one started at once, never one still waiting.

Voila builds its pooling kernel manager as a subclass of the class configured as
``VoilaConfiguration.multi_kernel_manager_class``: this one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.ioloop import PeriodicCallback
from traitlets import Dict, Float, Integer, Unicode, default

from hub.dashboards.quiet_machine import busy_percent, wait_for_quiet_machine
from hub.dashboards.registry import DashboardRegistry
from hub.state import one_per_two_cores

__all__ = ["DashboardKernelManager", "WATCH_SECONDS", "ready_first"]

#: how often the registry is looked at for new and replaced dashboards
WATCH_SECONDS = 2.0
#: a preheat holds its turn at most this long (a notebook that never ends must not stop all
#: the others)
PREHEAT_TURN_LIMIT_S = 180.0
#: seconds before a failed preheat is tried again
RETRY_AFTER_FAILURE_S = 30.0
#: a refill waits for a quiet machine at most this long (under a lasting load the pool is
#: refilled anyway, rather than every later viewer waiting for a kernel started on demand)
REFILL_WAIT_LIMIT_S = 60.0
#: the cores are quiet enough for a refill below this percentage busy (on 2 cores: one core's
#: worth of work or less)
REFILL_BUSY_BELOW = 50.0


def ready_first(pool: list[asyncio.Task], in_turn: set[asyncio.Task]) -> None:
    """Order a pool's tasks in place: kernels ready first, then those being preheated, then
    those waiting (for a turn, the refill delay or a quiet machine); each group in its order."""

    def readiness(task: asyncio.Task) -> int:
        if task.done():
            return 0 if not task.cancelled() and task.exception() is None else 2
        return 1 if task in in_turn else 2

    pool.sort(key=readiness)


class DashboardKernelManager(AsyncMappingKernelManager):
    """Kernels of the dashboards' Voila, with pools kept for the current dashboard versions."""

    registry_folder = Unicode(help="The dashboards registry folder (hub.dashboards.registry).").tag(
        config=True
    )
    pool_size = Integer(1, help="Preheated kernels per dashboard.").tag(config=True)
    pools = Dict(
        value_trait=Integer(), help="Preheated kernels of particular dashboards, by name."
    ).tag(config=True)
    preheating_at_once = Integer(help="Notebooks preheating at the same time.").tag(config=True)
    watch_seconds = Float(WATCH_SECONDS).tag(config=True)
    refill_wait_limit_s = Float(
        REFILL_WAIT_LIMIT_S, help="Longest wait of a refill for a quiet machine (0: none)."
    ).tag(config=True)
    refill_busy_below = Float(
        REFILL_BUSY_BELOW, help="Percentage of busy cores below which the machine is quiet."
    ).tag(config=True)

    @default("preheating_at_once")
    def _one_per_two_cores(self):
        return one_per_two_cores()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        #: notebook paths (relative to Voila's root) of the pools kept
        self.followed: set[str] = set()
        self._turns = asyncio.Semaphore(self.preheating_at_once)
        #: preheats that have their turn (a pool task is Voila's, running our _initialize)
        self._in_turn: set[asyncio.Task] = set()
        #: pool tasks that refill a pool a viewer took a kernel from
        self._refills: set[asyncio.Task] = set()
        #: our own background tasks (the loop keeps only weak references to tasks)
        self._background: set[asyncio.Task] = set()
        self._closing = False
        self._watch = None
        if self.preheating:
            self._registry = DashboardRegistry(Path(self.registry_folder))
            # Voila's subclass defines _initialize (start a kernel, run the notebook in it);
            # every preheat, first fill and refill alike, goes through it
            self._initialize = self._taking_turns(self._initialize)
            # Voila refills a pool through fill_if_needed with the default delay
            self.fill_if_needed = self._marking_refills(self.fill_if_needed)
            # Voila's page handler takes a pool kernel when get_pool_size is not 0, and then
            # waits for it: a kernel still waiting for its turn must not count, or a viewer
            # would wait for other dashboards' preheats instead of a kernel of their own
            self.get_pool_size = self.kernels_ready_or_preheating
            # ... and then it takes the pool's first kernel: the ready ones must come first
            self.get_rendered_notebook = self._ready_first(self.get_rendered_notebook)
            self._watch = PeriodicCallback(self.follow_registry, self.watch_seconds * 1000)
            self._watch.start()
            asyncio.get_event_loop().call_soon(self.follow_registry)

    @property
    def preheating(self) -> bool:
        """Whether Voila made this a pooling kernel manager (``--preheat_kernel=True``)."""
        return hasattr(self, "fill_if_needed") and bool(self.registry_folder)

    def _in_background(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- pools follow the registry -------------------------------------------------------------
    def follow_registry(self) -> None:
        if self._closing:
            return
        registry = self._registry
        root = registry.folder / "notebooks"
        try:
            current = {
                str(registry.notebook_path(d).relative_to(root)): d.slug for d in registry.all()
            }
        except (sqlite3.Error, OSError) as error:  # busy or being replaced: the next tick
            self.log.warning("Could not read the dashboards registry: %s", error)
            return
        for path, slug in current.items():
            if path not in self.followed:
                self.followed.add(path)
                size = self.pools.get(slug, self.pool_size)
                self.kernel_pools_config[path] = {"pool_size": size}
                self.log.info("Preheating %d kernel(s) for %s", size, path)
                self.fill_if_needed(delay=0, notebook_name=path)
        for path in self.followed - current.keys():
            self.followed.discard(path)
            self.kernel_pools_config[path] = {"pool_size": 0}
            waiting = self._pools.pop(path, [])
            if waiting:
                self.log.info("Emptying the pool of %s (%d kernel(s))", path, len(waiting))
                self._in_background(self._shut_down_waiting(waiting))

    async def _shut_down_waiting(self, waiting: list) -> None:
        for task in waiting:
            if not task.done() and task not in self._in_turn:
                task.cancel()  # still waiting for its turn: no kernel to start, then stop
                continue
            try:
                kernel_id = (await task)["kernel_id"]
            except Exception:  # it failed to start: nothing to stop (logged when it failed)
                continue
            try:
                await self.shutdown_kernel(kernel_id)
            except Exception:
                self.log.warning("Could not shut down kernel %s", kernel_id, exc_info=True)

    # --- preheating takes turns ----------------------------------------------------------------
    def kernels_ready_or_preheating(self, notebook_name: str) -> int:
        """The pool kernels of ``notebook_name`` that are ready or being started and run (not
        those waiting for their turn, for Voila's refill delay or for a quiet machine)."""
        return sum(
            1
            for task in self._pools.get(notebook_name, ())
            if task in self._in_turn
            or (task.done() and not task.cancelled() and task.exception() is None)
        )

    def _ready_first(self, get_rendered_notebook):
        async def get_rendered_notebook_ready_first(notebook_name, *args, **kwargs):
            # Voila takes the pool's first task before it awaits anything: sorted here, a
            # viewer gets a ready kernel, else one being preheated, never one still waiting
            # (refills wait for a quiet machine each on its own clock, so an older one may
            # still wait while a newer one preheats)
            ready_first(self._pools.get(notebook_name, []), self._in_turn)
            return await get_rendered_notebook(notebook_name, *args, **kwargs)

        return get_rendered_notebook_ready_first

    # --- refills wait for a quiet machine -------------------------------------------------------
    def _marking_refills(self, fill_if_needed):
        def fill_marking_refills(delay=None, notebook_name=None, **kwargs):
            before = set(self._pools.get(notebook_name, ()))
            fill_if_needed(delay=delay, notebook_name=notebook_name, **kwargs)
            if delay is None:  # Voila's refill (the registry's fills and retries give a delay)
                for task in set(self._pools.get(notebook_name, ())) - before:
                    self._refills.add(task)
                    task.add_done_callback(self._refills.discard)

        return fill_marking_refills

    async def _until_quiet(self, notebook_path: str) -> None:
        """Hold a refill back while the machine is busy (at most ``refill_wait_limit_s``)."""
        loop = asyncio.get_running_loop()
        started, told = loop.time(), False

        async def measure() -> float:
            nonlocal told
            busy = await busy_percent()
            if busy >= self.refill_busy_below and not told:
                told = True
                self.log.info(
                    "The refill of %s waits for a quiet machine (cores %.0f%% busy)",
                    notebook_path,
                    busy,
                )
            return busy

        quiet = await wait_for_quiet_machine(
            self.refill_wait_limit_s, self.refill_busy_below, lambda: self._closing, measure
        )
        if told and not self._closing:
            self.log.info(
                "Refilling %s after %.0f s%s",
                notebook_path,
                loop.time() - started,
                "" if quiet else ", the machine still busy",
            )

    def _taking_turns(self, initialize):
        async def initialize_in_turn(notebook_path, kernel_id=None, **kwargs):
            this_task = asyncio.current_task()
            if this_task in self._refills:
                await self._until_quiet(notebook_path)
                if self._closing:
                    raise RuntimeError("Voila is stopping: no more preheating")
            await self._turns.acquire()
            if self._closing:  # Voila's shutdown_all awaits this task and ignores an Exception
                self._turns.release()
                raise RuntimeError("Voila is stopping: no more preheating")
            self._in_turn.add(this_task)
            this_task.add_done_callback(self._in_turn.discard)
            try:
                content = await initialize(notebook_path, kernel_id, **kwargs)
            except BaseException as error:
                self._turns.release()
                if isinstance(error, Exception):  # not a cancellation
                    self._preheat_failed(notebook_path, this_task)
                raise
            self._in_background(self._end_of_turn(content["task"], content["kernel_id"]))
            return content

        return initialize_in_turn

    def _preheat_failed(self, notebook_path: str, task: asyncio.Task) -> None:
        """Log a failed preheat, take it out of the pool (Voila would hand it to a viewer, and
        count it as a kernel) and try again later."""
        self.log.warning("Preheating a kernel for %s failed", notebook_path, exc_info=True)
        task.add_done_callback(lambda done: done.cancelled() or done.exception())  # logged
        pool = self._pools.get(notebook_path, [])
        if task in pool:
            pool.remove(task)
            if notebook_path in self.followed and not self._closing:
                self.fill_if_needed(delay=RETRY_AFTER_FAILURE_S, notebook_name=notebook_path)

    async def _end_of_turn(self, render, kernel_id: str) -> None:
        """Give the turn to the next preheat when this notebook has run as far as it can without
        a viewer: to its end, or to ``voila.utils.wait_for_request()`` (the dashboards call it
        to learn their viewer), which connects to Voila's request-info socket."""
        from voila.request_info_handler import RequestInfoSocketHandler

        deadline = asyncio.get_running_loop().time() + PREHEAT_TURN_LIMIT_S
        try:
            while not (
                render.done()
                or kernel_id in RequestInfoSocketHandler._waiters
                or kernel_id not in self  # shut down meanwhile
                or asyncio.get_running_loop().time() > deadline
            ):
                await asyncio.sleep(0.25)
        finally:
            self._turns.release()

    async def shutdown_all(self, *args, **kwargs):
        # Voila's shutdown_all (which calls this one first) then awaits every pool task: those
        # still waiting for their turn end at once instead of each starting a kernel to stop
        self._closing = True
        if self._watch is not None:
            self._watch.stop()
        await super().shutdown_all(*args, **kwargs)
