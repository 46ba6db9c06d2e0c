"""ComputeControl: the options form from real gateway option declarations, gateway errors as
sentences (through a recording fake gateway), and a real local cluster started, scaled, made
adaptive, watched and shut down."""

import threading
import warnings
from types import SimpleNamespace

import ipywidgets as widgets
import pytest
from dask_gateway import GatewayWarning
from dask_gateway.options import Bool, Float, Integer, Options, Select, String

from dte_widgets.compute import LOCAL_NOTE, ComputeControl


# --- a gateway that records what it is asked ----------------------------------------------------
class FakeClient:
    def __init__(self, cluster):
        self.cluster = cluster
        self.closed = False

    def scheduler_info(self):
        return {
            "workers": {
                f"tcp://10.0.0.{i}:4000": {
                    "name": f"{self.cluster.name}-worker-{i}",
                    "nthreads": 2,
                    "memory_limit": 4 * 2**30,
                    "metrics": {"memory": 300 * 2**20},
                }
                for i in range(self.cluster.workers)
            }
        }

    def processing(self):
        return {"tcp://10.0.0.0:4000": ["task-a", "task-b"]}

    def close(self):
        self.closed = True


class FakeCluster:
    def __init__(self, name):
        self.name = name
        self.dashboard_link = f"/services/dask-gateway/clusters/{name}/status?x=<1>"
        self.workers = 1
        self.calls = []

    def get_client(self):
        self.client = FakeClient(self)
        return self.client

    def scale(self, n):
        self.calls.append(("scale", n))
        if n > 4:
            warnings.warn(
                GatewayWarning(
                    f"Scale request of {n} workers would exceed resource limit of 4 "
                    "workers. Scaling to 4 instead."
                ),
                stacklevel=2,
            )
        self.workers = min(n, 4)

    def adapt(self, minimum=None, maximum=None):
        self.calls.append(("adapt", minimum, maximum))

    def shutdown(self):
        self.calls.append(("shutdown",))

    def close(self, shutdown=None):
        self.calls.append(("close", shutdown))


class FakeGateway:
    def __init__(self, options, error=None, running=()):
        self.options, self.error, self.running = options, error, list(running)
        self.calls = []
        self.clusters = {}

    def cluster_options(self):
        self.calls.append(("cluster_options",))
        return self.options

    def list_clusters(self):
        self.calls.append(("list_clusters",))
        return [SimpleNamespace(name=name) for name in self.running]

    def new_cluster(self, cluster_options=None, **kwargs):
        self.calls.append(("new_cluster", dict(cluster_options), kwargs))
        if self.error:
            raise self.error
        self.clusters["alice.new"] = FakeCluster("alice.new")
        return self.clusters["alice.new"]

    def connect(self, name):
        self.calls.append(("connect", name))
        self.clusters[name] = FakeCluster(name)
        return self.clusters[name]


def platform_options():
    """Declared like hub/dask_gateway_config.py, plus one option of each other type."""
    return Options(
        Integer("worker_cores", default=1, min=1, max=2, label="Cores per worker"),
        Float("worker_memory", default=2.0, min=0.5, max=8.0, label="Memory per worker (GiB)"),
        Integer("workers", default=0, min=0, max=4, label="Workers at start"),
        Select("image", default="base", options=["base", "gpu"], label="Environment"),
        Bool("spot", default=False, label="Use spare capacity"),
        Integer("priority", default=3, label="Priority"),
        String("note", default="", label="Note"),
    )


@pytest.fixture
def control_of():
    made = []

    def make(gateway, **kwargs):
        control = ComputeControl(gateway=gateway, refresh_interval=0, **kwargs)
        made.append(control)
        assert control.wait(10)
        return control

    yield make
    for control in made:
        control.close()


# --- the options form ----------------------------------------------------------------------------
def test_options_form_is_generated_from_the_gateway_options(control_of):
    gateway = FakeGateway(platform_options())
    control = control_of(gateway)
    controls = control.option_controls
    assert list(controls) == [
        "worker_cores", "worker_memory", "workers", "image", "spot", "priority", "note"
    ]  # fmt: skip
    cores, memory = controls["worker_cores"], controls["worker_memory"]
    assert isinstance(cores, widgets.IntSlider)
    assert (cores.min, cores.max, cores.value) == (1, 2, 1)
    assert isinstance(memory, widgets.FloatSlider)
    assert (memory.min, memory.max, memory.value) == (0.5, 8.0, 2.0)
    assert isinstance(controls["image"], widgets.Dropdown)
    assert controls["image"].options == ("base", "gpu") and controls["image"].value == "base"
    assert isinstance(controls["spot"], widgets.Checkbox) and controls["spot"].value is False
    assert isinstance(controls["priority"], widgets.IntText) and controls["priority"].value == 3
    assert isinstance(controls["note"], widgets.Text)
    for control_widget in controls.values():
        assert control_widget.description and control_widget.style.description_width == "initial"
    assert cores.description == "Cores per worker"
    # the Workers and Adapt sliders stop at the platform's per-cluster limit
    assert control.worker_count.max == control.adapt_range.max == 4
    assert control.form.children == tuple(controls.values())
    assert LOCAL_NOTE not in control.note.value

    cores.value, memory.value = 2, 4.5
    controls["image"].value, controls["spot"].value = "gpu", True
    control.start_button.click()
    assert control.wait(10)
    (call,) = [c for c in gateway.calls if c[0] == "new_cluster"]
    assert call[1] == {
        "worker_cores": 2,
        "worker_memory": 4.5,
        "workers": 0,
        "image": "gpu",
        "spot": True,
        "priority": 3,
        "note": "",
    }
    assert control.status == "running" and control.cluster is gateway.clusters["alice.new"]


def test_a_started_gateway_cluster_is_watched_scaled_and_shut_down(control_of):
    gateway = FakeGateway(platform_options())
    control = control_of(gateway)
    assert control.scale_button.disabled and not control.start_button.disabled
    control.start()
    assert control.wait(10)
    cluster = gateway.clusters["alice.new"]
    assert control.client is cluster.client and control.workers == 1
    assert control.start_button.disabled and not control.scale_button.disabled
    assert all(c.disabled for c in control.option_controls.values())
    summary = control.summary.value
    assert "alice.new" in summary and "running" in summary
    assert 'target="_blank" rel="noopener"' in summary
    assert 'href="/services/dask-gateway/clusters/alice.new/status?x=&lt;1&gt;"' in summary
    table = control.table.value
    assert '<th scope="col">Tasks processing</th>' in table
    assert "alice.new-worker-0" in table and "300.00 MiB / 4.00 GiB" in table
    assert "<td>2</td>" in table  # threads, and two tasks processing
    assert not control.ticking  # refresh_interval=0: no periodic refresh

    control.worker_count.value = 3
    control.scale_button.click()
    control.wait(10)
    assert cluster.calls[-1] == ("scale", 3) and control.workers == 3
    assert control.table.value.count("<tr>") == 1 + 3

    control.scale(9)  # past the limit: the gateway clamps and says so
    control.wait(10)
    assert control.workers == 4
    assert 'role="alert"' in control.message.value
    assert "would exceed resource limit of 4 workers" in control.message.value

    control.adapt_range.value = (1, 3)
    control.adapt_button.click()
    control.wait(10)
    assert cluster.calls[-1] == ("adapt", 1, 3)
    assert "adapting between 1 and 3 workers" in control.summary.value
    assert control.message.value == ""  # a new action clears the last message

    control.shutdown_button.click()
    control.wait(10)
    assert cluster.calls[-1] == ("shutdown",) and cluster.client.closed
    assert control.status == "stopped" and control.client is None and control.workers == 0
    assert control.table.value == "" and not control.start_button.disabled


def test_workers_are_refreshed_periodically_while_the_cluster_is_up():
    gateway = FakeGateway(platform_options())
    control = ComputeControl(gateway=gateway, refresh_interval=0.05)
    try:
        control.start()
        assert control.wait(10) and control.ticking and control.workers == 1
        three = threading.Event()
        control.observe(lambda change: change.new == 3 and three.set(), "workers")
        gateway.clusters["alice.new"].workers = 3  # as if the gateway's workers came up
        assert three.wait(10)
        assert control.table.value.count("<tr>") == 1 + 3
        control.shutdown()
        assert control.wait(10) and not control.ticking
        control.start()
        assert control.wait(10) and control.ticking
    finally:
        control.close()
    assert not control.ticking


def test_a_gateway_limit_is_shown_as_a_sentence(control_of):
    gateway = FakeGateway(
        platform_options(), error=ValueError("worker_cores 8 exceeds the maximum of 2")
    )
    control = control_of(gateway)
    control.start_button.click()
    control.wait(10)
    assert control.status == "error" and control.cluster is None
    message = control.message.value
    assert message.startswith('<p class="dte-error" role="alert">')
    assert (
        "Could not start the cluster: worker_cores 8 exceeds the maximum of 2. "
        "Choose values within the limits shown and press Start cluster again."
    ) in message
    assert "Traceback" not in message
    assert not control.start_button.disabled  # try again


def test_an_unreachable_gateway_is_a_sentence_and_refresh_retries(control_of):
    class Unreachable(FakeGateway):
        def cluster_options(self):
            raise OSError("Cannot connect to host 127.0.0.1:8000 <refused>")

    gateway = Unreachable(platform_options())
    control = control_of(gateway)
    assert control.status == "error" and control.start_button.disabled
    assert "Could not load the cluster options: Cannot connect" in control.message.value
    assert "&lt;refused&gt;" in control.message.value  # escaped
    assert "press Refresh" in control.message.value

    gateway.cluster_options = lambda: platform_options()  # the gateway is back
    control.refresh_button.click()
    control.wait(10)
    assert control.status == "no cluster" and control.message.value == ""
    assert not control.start_button.disabled and "worker_cores" in control.option_controls


def test_connect_to_a_running_cluster_leaves_it_running_on_close(control_of):
    gateway = FakeGateway(platform_options(), running=["alice.1", "alice.2"])
    control = control_of(gateway)
    assert control.existing.options == ("alice.1", "alice.2")
    assert control.existing.description == "Your clusters"
    control.existing.value = "alice.2"
    control.connect_button.click()
    control.wait(10)
    assert ("connect", "alice.2") in gateway.calls and control.status == "running"
    cluster = gateway.clusters["alice.2"]
    control.close()
    assert control.wait(10)
    assert cluster.client.closed and not any(c[0] in ("shutdown", "close") for c in cluster.calls)


class SlowGateway(FakeGateway):
    """A gateway whose clusters take until ``ready`` is set to start."""

    def __init__(self, options):
        super().__init__(options)
        self.asked, self.ready = threading.Event(), threading.Event()

    def new_cluster(self, cluster_options=None, **kwargs):
        self.asked.set()
        self.ready.wait(30)
        return super().new_cluster(cluster_options, **kwargs)


def test_close_returns_at_once_and_shuts_down_a_cluster_still_starting(control_of):
    """A panel serve session closes its widgets on the server's event loop: close() must not
    wait for the gateway."""
    gateway = SlowGateway(platform_options())
    control = control_of(gateway)
    control.start()
    assert gateway.asked.wait(30)
    control.close()
    assert not control.wait(0)  # the start is still under way, and the release after it
    gateway.ready.set()
    assert control.wait(30)
    assert gateway.clusters["alice.new"].calls == [("close", None)]  # it had started it
    assert control.client is None and control.cluster is None


def test_actions_still_queued_at_close_are_dropped(control_of):
    """A viewer pressed Start, then closed the page before the control got to it: no cluster
    is started only to be shut down."""
    gateway = SlowGateway(platform_options())
    control = control_of(gateway)
    control._submit("refresh the cluster", gateway.ready.wait, 30)  # holds the thread
    control.start()
    control.close()
    gateway.ready.set()
    assert control.wait(30)
    assert not gateway.asked.is_set() and "alice.new" not in gateway.clusters


def test_controls_are_labelled_and_buttons_explained(control_of):
    control = control_of(FakeGateway(platform_options()))
    buttons = [
        control.start_button,
        control.connect_button,
        control.scale_button,
        control.adapt_button,
        control.shutdown_button,
        control.refresh_button,
    ]
    assert [b.description for b in buttons] == [
        "Start cluster", "Connect", "Scale", "Adapt", "Shut down", "Refresh"
    ]  # fmt: skip
    assert all(b.tooltip for b in buttons)
    for labelled in (control.existing, control.worker_count, control.adapt_range):
        assert labelled.description and labelled.style.description_width == "initial"
    assert "dte-compute-control" in control._dom_classes


# --- a real local cluster ------------------------------------------------------------------------
def test_local_cluster_starts_scales_adapts_and_shuts_down(monkeypatch):
    from distributed import Client, default_client

    monkeypatch.delenv("DASK_GATEWAY__ADDRESS", raising=False)
    control = ComputeControl(refresh_interval=0.2)
    try:
        assert control.wait(30)
        assert control.local and LOCAL_NOTE in control.note.value
        assert list(control.option_controls) == ["workers"]
        control.option_controls["workers"].value = 1
        control.start_button.click()
        assert control.wait(60)
        assert control.status == "running" and control.workers == 1, control.message.value
        client = control.client
        assert isinstance(client, Client) and default_client() is client  # twins use it
        cluster = control.cluster
        (address,) = client.scheduler_info()["workers"]
        assert address in control.table.value
        assert f'href="{cluster.dashboard_link}"' in control.summary.value
        assert control.ticking

        # the second worker is seen as it arrives (by Scale's refresh or a periodic one)
        two = threading.Event()
        control.observe(lambda change: change.new == 2 and two.set(), "workers")
        control.worker_count.value = 2
        control.scale_button.click()
        assert control.wait(30)
        assert two.wait(60), control.message.value
        assert control.table.value.count("<tr>") == 1 + 2

        control.adapt(minimum=1, maximum=2)
        assert control.wait(30)
        assert cluster._adaptive is not None
        assert "adapting between 1 and 2 workers" in control.summary.value

        control.shutdown_button.click()
        assert control.wait(60)
        assert control.status == "stopped" and control.client is None and not control.ticking
        assert cluster.status.name == "closed" and client.status == "closed"

        # a cluster still up when the control closes goes with it
        control.start()
        assert control.wait(60) and control.status == "running"
        again = control.cluster
        control.close()
        assert control.wait(60)
        assert again.status.name == "closed" and not control.ticking
    finally:
        control.close()


def test_a_control_left_open_at_exit_closes_quietly():
    """A kernel or ``panel serve`` that ends with a control still open closes it without an
    error in its log (the interpreter has stopped the control's thread by then)."""
    import subprocess
    import sys

    code = (
        "from dte_widgets.compute import ComputeControl\n"
        "control = ComputeControl()\n"
        "assert control.wait(60)\n"
    )
    command = [sys.executable, "-c", code]
    ended = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert ended.returncode == 0, ended.stderr
    assert "Exception ignored" not in ended.stderr and "Traceback" not in ended.stderr, ended.stderr
