"""A control panel for the notebook's Dask cluster: start or connect, scale, adapt, watch, stop.

On DTE Hub (``DASK_GATEWAY__ADDRESS`` is set in user servers) clusters come from the platform's
dask-gateway, and the options form is generated from the gateway's own option declarations
(``Gateway.cluster_options()``), so the limits shown are the platform's. Elsewhere (Binder, a
laptop) the same panel drives a ``distributed.LocalCluster`` on this machine.

Every call to the gateway or the cluster runs on one background thread, in order; the panel
updates when it finishes, so the kernel never waits on the network.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import warnings
from collections.abc import Callable

import ipywidgets as widgets
import traitlets
from dask_gateway import GatewayWarning
from dask_gateway.options import Integer, Options

from dte_widgets.gateway_options import LABEL_STYLE, _control_value, _option_control
from dte_widgets.markup import error_html
from dte_widgets.markup import escape as _escape
from dte_widgets.panel_app import ui_thread_runner
from dte_widgets.worker_table import _worker_row, _workers_table

__all__ = ["ComputeControl", "LOCAL_NOTE"]

log = logging.getLogger(__name__)

LOCAL_NOTE = "No gateway here: a local Dask cluster on this machine."

# What to do next, by the action that failed; the sentence shown is "Could not <action> ...".
_ADVICE = {
    "load the cluster options": "Check that the platform's gateway is running and press Refresh.",
    "start the cluster": "Choose values within the limits shown and press Start cluster again.",
    "connect to the cluster": "Press Refresh to update your clusters, then pick a running one.",
    "scale the cluster": "Choose fewer workers and press Scale again.",
    "adapt the cluster": "Choose a smaller range and press Adapt again.",
    "shut down the cluster": "Press Shut down again; the platform also stops idle clusters.",
    "refresh the cluster": "Press Refresh to try again, or start a new cluster.",
}


class ComputeControl(widgets.VBox):
    """Start (or connect to) a Dask cluster, scale it, make it adaptive, watch its workers.

    ::

        control = ComputeControl()   # the platform's gateway, or a local cluster elsewhere
        control                      # choose options, press "Start cluster"
        twin.ensemble(20)            # the control's client is the session's default client

    ``gateway``: a ``dask_gateway.Gateway`` (default: ``Gateway()`` when
    ``DASK_GATEWAY__ADDRESS`` is set, else a local cluster). ``cluster``: an existing cluster
    to control (it is never shut down by ``close()``). The buttons call ``start()``,
    ``connect(name)``, ``scale(n)``, ``adapt(minimum, maximum)``, ``shutdown()`` and
    ``refresh()``; they return at once and ``wait()`` waits for them to finish.
    Like every action, ``close()`` returns at once: it stops the periodic refresh and, on the
    background thread, closes the client, shuts down a cluster that this control started and
    closes a gateway it made; ``wait()`` waits for that. In a ``panel serve`` app the options
    are loaded once the page has loaded (``dte_widgets.panel_app.ui_thread_runner``).
    """

    #: "no cluster", "starting", "running", "stopped" or "error"
    status = traitlets.Unicode("no cluster")
    #: workers the scheduler knew at the last refresh
    workers = traitlets.Int(0)
    #: whether the gateway was made here (and is closed with the control)
    _owns_gateway = False

    def __init__(self, gateway=None, cluster=None, refresh_interval: float = 5.0, **kwargs):
        if gateway is None and os.environ.get("DASK_GATEWAY__ADDRESS"):
            from dask_gateway import Gateway

            gateway = Gateway()
            self._owns_gateway = True
        self.gateway = gateway
        #: seconds between two refreshes of the workers while a cluster is up
        self.refresh_interval = refresh_interval
        self._cluster = None
        self._client = None
        self._owns_cluster = False
        self._options: Options | None = None
        self.option_controls: dict[str, widgets.Widget] = {}
        self._adaptive_range: tuple[int, int] | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "dte-compute")
        self._pending: set[concurrent.futures.Future] = set()
        self._busy = 0
        self._lock = threading.Lock()
        self._ticker: tuple[threading.Thread, threading.Event] | None = None
        self._closed = False
        # what the options and the user's clusters change (the options form is made of widgets
        # made then) must reach a Panel page: loaded once it has loaded
        self._on_ui_thread = ui_thread_runner()
        self._build()
        super().__init__(self._layout(), **kwargs)
        self.add_class("dte-compute-control")
        self._on_ui_thread(lambda: self._submit("load the cluster options", self._load_choices))
        if cluster is not None:
            self._on_ui_thread(
                lambda: self._submit("connect to the cluster", self._adopt, cluster, False)
            )

    # --- public ------------------------------------------------------------------------------
    @property
    def client(self):
        """A ``distributed.Client`` of the current cluster, or None."""
        return self._client

    @property
    def cluster(self):
        """The current cluster (``GatewayCluster`` or ``LocalCluster``), or None."""
        return self._cluster

    @property
    def local(self) -> bool:
        """True when clusters run on this machine (no gateway)."""
        return self.gateway is None

    def start(self) -> None:
        """Start a new cluster with the options chosen in the form."""
        self._submit("start the cluster", self._start, user=True)

    def connect(self, name: str | None = None) -> None:
        """Connect to one of the user's running gateway clusters (default: the one picked)."""
        name = name or self.existing.value
        self._submit("connect to the cluster", self._connect, name, user=True)

    def scale(self, n: int | None = None) -> None:
        """Scale to ``n`` workers (default: the Workers control); ends adaptive scaling."""
        n = self.worker_count.value if n is None else int(n)
        self._submit("scale the cluster", self._scale, n, user=True)

    def adapt(self, minimum: int | None = None, maximum: int | None = None) -> None:
        """Let the cluster scale itself between ``minimum`` and ``maximum`` workers."""
        low, high = self.adapt_range.value
        low = low if minimum is None else int(minimum)
        high = high if maximum is None else int(maximum)
        self._submit("adapt the cluster", self._adapt, low, high, user=True)

    def shutdown(self) -> None:
        """Shut the cluster down and close the client."""
        self._submit("shut down the cluster", self._shutdown, user=True)

    def refresh(self) -> None:
        """Update the list of the user's clusters and the workers of the current one."""
        self._submit("refresh the cluster", self._refresh, user=True)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the actions requested so far; False if ``timeout`` seconds passed first."""
        with self._lock:
            pending = list(self._pending)
        done, not_done = concurrent.futures.wait(pending, timeout)
        return not not_done

    def chosen_options(self) -> dict:
        """The values of the options form, by option name."""
        return {
            name: _control_value(self._options._fields[name], control)
            for name, control in self.option_controls.items()
        }

    def close(self) -> None:
        # not waiting for the release: a panel serve session closes its widgets on the server's
        # event loop, which serves every other session of the process meanwhile
        if self._closed:
            return
        self._closed = True
        self._stop_ticking()
        try:
            future = self._executor.submit(self._release_quietly)
        except RuntimeError:
            # the interpreter is exiting (ipywidgets closes widgets as they are collected) and
            # has stopped the background thread; dask-gateway and distributed shut down their
            # own clusters then (a gateway cluster started here, a LocalCluster)
            future = None
        if future is not None:
            with self._lock:
                self._pending.add(future)  # what wait() waits for
        self._executor.shutdown(wait=False)
        super().close()

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        note = LOCAL_NOTE if self.local else "Clusters of the platform's Dask gateway."
        self.note = widgets.HTML(f"<p class='dte-compute-note'>{_escape(note)}</p>")
        self.form = widgets.VBox(layout=widgets.Layout(margin="0 0 6px 0"))
        self.form.add_class("dte-compute-options")
        self.start_button = _button("Start cluster", "Start a new cluster with these options")
        self.existing = widgets.Dropdown(
            description="Your clusters", options=[], style=LABEL_STYLE, disabled=True
        )
        self.connect_button = _button("Connect", "Connect to the cluster picked in the list")
        self.worker_count = widgets.IntSlider(
            description="Workers", value=1, min=0, max=4, style=LABEL_STYLE
        )
        self.scale_button = _button("Scale", "Scale the cluster to this many workers")
        self.adapt_range = widgets.IntRangeSlider(
            description="Adapt between", value=(1, 2), min=0, max=4, style=LABEL_STYLE
        )
        self.adapt_button = _button(
            "Adapt", "Let the cluster add and remove workers within this range"
        )
        self.shutdown_button = _button("Shut down", "Stop the cluster and its workers")
        self.refresh_button = _button("Refresh", "Update your clusters and the workers")
        self.message = widgets.HTML()
        self.summary = widgets.HTML()
        self.table = widgets.HTML()
        self.start_button.on_click(lambda _: self.start())
        self.connect_button.on_click(lambda _: self.connect())
        self.scale_button.on_click(lambda _: self.scale())
        self.adapt_button.on_click(lambda _: self.adapt())
        self.shutdown_button.on_click(lambda _: self.shutdown())
        self.refresh_button.on_click(lambda _: self.refresh())
        self._sync_controls()
        self._show_summary()

    def _layout(self) -> list[widgets.Widget]:
        rows = [self.note, self.form, widgets.HBox([self.start_button])]
        if not self.local:
            rows.append(widgets.HBox([self.existing, self.connect_button]))
        rows += [
            widgets.HBox([self.worker_count, self.scale_button]),
            widgets.HBox([self.adapt_range, self.adapt_button]),
            widgets.HBox([self.shutdown_button, self.refresh_button]),
            self.message,
            self.summary,
            self.table,
        ]
        return rows

    def _show_form(self, options: Options) -> None:
        self._options = options
        fields = options._fields  # dask_gateway keeps its typed fields here (and only here)
        self.option_controls = {name: _option_control(field) for name, field in fields.items()}
        self.form.children = list(self.option_controls.values())
        workers = fields.get("workers")
        bound = workers.max if isinstance(workers, Integer) and workers.max is not None else None
        bound = bound or ((os.cpu_count() or 4) if self.local else 16)
        self.worker_count.max = self.adapt_range.max = bound
        self.adapt_range.value = (min(1, bound), bound)
        self._sync_controls()  # the new controls as the others (disabled while a cluster is up)

    # --- background work ---------------------------------------------------------------------
    def _submit(self, action: str, work: Callable, *args, user: bool = False) -> None:
        """Run ``work(*args)`` on the background thread; a failure becomes a sentence."""
        if self._closed:
            return
        if user:
            self._set_busy(+1)
            self._clear_message()
        future = self._executor.submit(self._guarded, action, work, *args)
        with self._lock:
            self._pending.add(future)

        def finished(done):
            with self._lock:
                self._pending.discard(done)
            if user:
                self._set_busy(-1)

        future.add_done_callback(finished)

    def _guarded(self, action: str, work: Callable, *args) -> None:
        if self._closed:  # asked for before the close (its page ended): nobody wants it now
            return
        try:
            work(*args)
        except Exception as error:
            self._show_message(_error_sentence(action, error))
            if self._cluster is None:
                self.status = "error"

    def _load_choices(self) -> None:
        if self._options is None:
            options = self.gateway.cluster_options() if self.gateway else _local_options()
            self._options = options
            self._on_ui_thread(lambda: self._show_form(options))
        if self.gateway is not None:
            names = [report.name for report in self.gateway.list_clusters()]
            self.existing.options = names
        if self.status == "error" and self._cluster is None:
            self.status = "no cluster"
        self._sync_controls()

    def _start(self) -> None:
        if self._cluster is not None:
            raise RuntimeError("a cluster is already up: shut it down first")
        if self._options is None:
            raise RuntimeError("the cluster options are not loaded yet")
        options = self._options
        for name, value in self.chosen_options().items():
            options[name] = value  # checked by dask_gateway against the declared bounds
        self.status = "starting"
        if self.gateway is not None:
            cluster = self.gateway.new_cluster(cluster_options=options)
        else:
            cluster = _start_local_cluster(options.workers)
        self._adopt(cluster, True)

    def _connect(self, name: str | None) -> None:
        if self.gateway is None:
            raise RuntimeError("there is no gateway here: start a local cluster instead")
        if not name:
            raise RuntimeError("no cluster is picked")
        if self._cluster is not None:
            raise RuntimeError("a cluster is already up: shut it down first")
        self.status = "starting"
        self._adopt(self.gateway.connect(name), False)

    def _adopt(self, cluster, owned: bool) -> None:
        try:
            self._client = cluster.get_client()
        except Exception:
            if owned:
                cluster.close()
            raise
        self._cluster, self._owns_cluster = cluster, owned
        self._adaptive_range = None
        self.status = "running"
        self._refresh_workers()

    def _scale(self, n: int) -> None:
        cluster = self._require_cluster()
        adaptive = getattr(cluster, "_adaptive", None)  # a LocalCluster keeps adapting otherwise
        if adaptive is not None:
            adaptive.stop()
        _noting_gateway_warnings(self, cluster.scale, n)
        self._adaptive_range = None
        self._refresh_workers()

    def _adapt(self, minimum: int, maximum: int) -> None:
        cluster = self._require_cluster()
        _noting_gateway_warnings(self, cluster.adapt, minimum=minimum, maximum=maximum)
        self._adaptive_range = (minimum, maximum)
        self._refresh_workers()

    def _shutdown(self) -> None:
        cluster, client = self._require_cluster(), self._client
        self._cluster = self._client = None
        self.workers = 0
        try:
            if client is not None:
                client.close()
        finally:
            if hasattr(cluster, "shutdown"):
                cluster.shutdown()  # a gateway cluster: close() may leave it running
            else:
                cluster.close()
            self.status = "stopped"
            self._show_summary()

    def _refresh(self) -> None:
        if self._options is None or self.gateway is not None:
            self._load_choices()
        if self._cluster is not None:
            self._refresh_workers()

    def _refresh_workers(self) -> None:
        info = self._client.scheduler_info()
        processing = self._client.processing()
        rows = [
            _worker_row(address, worker, len(processing.get(address, ())))
            for address, worker in sorted(info.get("workers", {}).items())
        ]
        self.workers = len(rows)
        self._show_summary()
        self.table.value = _workers_table(rows)

    def _require_cluster(self):
        if self._cluster is None:
            raise RuntimeError("there is no cluster: start one or connect first")
        return self._cluster

    def _release(self) -> None:
        """What ``close()`` leaves behind: nothing this control started."""
        cluster, client = self._cluster, self._client
        self._cluster = self._client = None
        try:
            if client is not None:
                client.close()
        finally:
            try:
                if cluster is not None and self._owns_cluster:
                    cluster.close()
            finally:
                if self._owns_gateway:
                    self.gateway.close()  # its connections and IO-loop thread

    def _release_quietly(self) -> None:
        try:
            self._release()
        except Exception:  # nobody looks at a closed control: the log says it
            log.exception("releasing what a closed compute control started failed")

    # --- periodic refresh --------------------------------------------------------------------
    @traitlets.observe("status")
    def _on_status(self, change) -> None:
        if change.new == "running":
            self._start_ticking()
        else:
            self._stop_ticking()
        self._sync_controls()
        self._show_summary()

    def _start_ticking(self) -> None:
        if self._ticker is not None or self._closed or self.refresh_interval <= 0:
            return
        stop = threading.Event()
        thread = threading.Thread(
            target=self._tick, args=(stop,), name="dte-compute-refresh", daemon=True
        )
        self._ticker = (thread, stop)
        thread.start()

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(self.refresh_interval):
            with self._lock:
                queued = len(self._pending)
            if not queued:  # never pile refreshes up behind a slow call
                self._submit("refresh the cluster", self._refresh_workers_if_up)

    def _refresh_workers_if_up(self) -> None:
        if self._cluster is not None:
            self._refresh_workers()

    def _stop_ticking(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is None:
            return
        thread, stop = ticker
        stop.set()
        if thread is not threading.current_thread():
            thread.join()

    @property
    def ticking(self) -> bool:
        """True while the workers are refreshed periodically."""
        return self._ticker is not None and self._ticker[0].is_alive()

    # --- display -----------------------------------------------------------------------------
    def _set_busy(self, step: int) -> None:
        with self._lock:
            self._busy += step
        self._sync_controls()

    def _sync_controls(self) -> None:
        busy, up = self._busy > 0, self._cluster is not None
        self.start_button.disabled = busy or up or self._options is None
        self.connect_button.disabled = busy or up or not self.existing.options
        self.existing.disabled = not self.existing.options
        for control in (self.scale_button, self.adapt_button, self.shutdown_button):
            control.disabled = busy or not up
        self.refresh_button.disabled = busy
        for control in self.option_controls.values():
            control.disabled = up

    def _show_summary(self) -> None:
        cluster = self._cluster
        parts = [f"Status: <strong>{_escape(self.status)}</strong>"]
        if cluster is not None:
            parts.insert(0, f"Cluster <code>{_escape(str(cluster.name))}</code>")
            parts.append(f"{self.workers} worker{'' if self.workers == 1 else 's'}")
            if self._adaptive_range:
                parts.append("adapting between {} and {} workers".format(*self._adaptive_range))
            link = getattr(cluster, "dashboard_link", None)
            if link:
                parts.append(
                    f'<a href="{_escape(link)}" target="_blank" rel="noopener">Dask dashboard</a>'
                )
        self.summary.value = f"<p class='dte-compute-summary'>{' · '.join(parts)}</p>"
        if cluster is None:
            self.table.value = ""

    def _show_message(self, sentence: str) -> None:
        self.message.value = error_html(sentence)

    def _clear_message(self) -> None:
        self.message.value = ""


# --- helpers -------------------------------------------------------------------------------------
def _button(description: str, tooltip: str) -> widgets.Button:
    return widgets.Button(description=description, tooltip=tooltip)


def _local_options() -> Options:
    """The one choice a local cluster offers, declared like the gateway's options."""
    cores = os.cpu_count() or 1
    return Options(Integer("workers", default=1, min=0, max=cores, label="Workers at start"))


def _start_local_cluster(workers: int):
    from distributed import LocalCluster

    # processes with one thread each, as dte_twins.compute.find_client starts them
    return LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


def _noting_gateway_warnings(control: ComputeControl, call: Callable, *args, **kwargs) -> None:
    """Call; what the gateway only warns about (a request clamped to a limit) is shown."""
    # The gateway answers a scale past the platform's limit with a warning, not an error.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(*args, **kwargs)
    notes = []
    for warning in caught:
        if issubclass(warning.category, GatewayWarning):
            notes.append(str(warning.message))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if notes:
        control._show_message("The gateway says: " + " ".join(notes))


def _error_sentence(action: str, error: Exception) -> str:
    reason = str(error).strip().rstrip(".") or type(error).__name__
    return f"Could not {action}: {reason}. {_ADVICE.get(action, '')}".strip()
