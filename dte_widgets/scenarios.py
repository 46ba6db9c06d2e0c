"""Run a twin's scenario or ensemble from a button, without blocking the interface.

The run happens in a background thread of the kernel, so the page stays responsive: widgets
keep answering, the progress bar moves and Cancel works. An ensemble reports members done and
total, and an estimate of the time left, through ``Twin.ensemble(progress=...)``; Cancel stops
the members still queued or running on the Dask cluster. A single scenario runs in the kernel
and cannot be interrupted half-way: Cancel discards its result when it finishes.

Errors reach the user as a sentence in the widget (a twin's ``ParameterError`` and
``InputError`` already say what was wrong and what is allowed); anything unexpected is shown
as one line and its traceback goes to the kernel's log, for the notebook's owner.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable

import ipywidgets as widgets
from traitlets import Int, Unicode

from dte_twins.compute import current_session, find_client
from dte_twins.errors import InputError, ParameterError, RunCancelled
from dte_widgets.markup import LABEL_STYLE, error_html
from dte_widgets.panel_app import ui_thread_runner

__all__ = ["ScenarioRunner"]

log = logging.getLogger(__name__)


class ScenarioRunner(widgets.VBox):
    """A Run button with progress and Cancel for one twin.

    ``ScenarioRunner(twin, form=None, client=None)``: parameters come from ``form`` (a
    ``ParameterForm``; Run is disabled while the form is invalid) or are the twin's own.
    Ensemble members go to ``client``, else to the platform's compute (``find_client``: the
    user's gateway cluster, or a local cluster). After a run, ``runner.result`` holds the
    ``xarray.Dataset``; ``runner.on_result(callback)`` calls ``callback(result)`` in the
    background thread. ``state`` is one of idle, running, done, failed, cancelled.
    """

    state = Unicode("idle")
    members_done = Int(0)

    def __init__(
        self,
        twin,
        form=None,
        client=None,
        members: int = 8,
        max_members: int = 256,
        **kwargs,
    ):
        self.twin, self.form, self.client = twin, form, client
        # the runs happen in a thread, outside the panel serve session that made this runner:
        # its ensembles go to that session's cluster (DTE Hub's dashboards)
        self.session = current_session() if client is None else None
        self.result = None
        self.error = ""
        self._callbacks: list[Callable] = []
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

        self.mode = widgets.ToggleButtons(
            options=[("One scenario", "run"), ("Ensemble", "ensemble")],
            description="Run",
            tooltips=["One run with these parameters", "Many members, each with its own seed"],
            style=LABEL_STYLE,
        )
        self.members = widgets.BoundedIntText(
            value=members,
            min=2,
            max=max_members,
            description="Members",
            tooltip=f"Ensemble size, 2 to {max_members}",
            style=LABEL_STYLE,
            layout=widgets.Layout(width="12em"),
        )
        self.run_button = widgets.Button(
            description="Run", icon="play", button_style="primary", tooltip="Start the run"
        )
        self.cancel_button = widgets.Button(
            description="Cancel", icon="stop", disabled=True, tooltip="Stop the run under way"
        )
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, description="Progress", style=LABEL_STYLE
        )
        self.status = widgets.HTML(value="Ready.")
        self.message = widgets.HTML()
        self.run_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.mode.observe(self._show_members, "value")
        if form is not None:
            form.observe(self._follow_form, "valid")
        self._show_members()
        super().__init__(
            [
                self.mode,
                self.members,
                widgets.HBox([self.run_button, self.cancel_button]),
                widgets.HBox([self.progress, self.status]),
                self.message,
            ],
            **kwargs,
        )
        self.add_class("dte-scenario-runner")

    # --- public ----------------------------------------------------------------------------------
    def on_result(self, callback: Callable) -> None:
        """Call ``callback(result)`` after each successful run."""
        self._callbacks.append(callback)

    def start(self) -> None:
        """Start a run with the current parameters (what the Run button does)."""
        if self.running:
            return
        parameters, problem = self._parameters()
        if problem:
            self._fail(problem)
            return
        self._cancel.clear()
        self._on_ui_thread = ui_thread_runner()
        self.error, self.message.value = "", ""
        self.state = "running"
        self.run_button.disabled, self.cancel_button.disabled = True, False
        ensemble = self.mode.value == "ensemble"
        total = self.members.value if ensemble else 1
        self.members_done = 0
        self.progress.max, self.progress.value, self.progress.bar_style = total, 0, "info"
        self.status.value = "Starting…"
        self._thread = threading.Thread(
            target=self._work, args=(parameters, ensemble, total), daemon=True
        )
        self._thread.start()

    def cancel(self) -> None:
        """Stop the run under way (ensemble members are cancelled on the cluster)."""
        if self.running:
            self._cancel.set()
            self.status.value = "Cancelling…"

    def wait(self, timeout: float | None = None) -> str:
        """Block until the run under way ends (for scripts and tests); the final state.

        In a ``panel serve`` app the result is shown on the server's event loop after this
        returns, so do not call it from there."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state

    def close(self) -> None:
        """Cancel the run under way, as when its page closes: an ensemble stops at its next
        member, one scenario ends without its result being shown."""
        self.cancel()
        super().close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- work, in the background thread ---------------------------------------------------------
    def _parameters(self) -> tuple[dict, str]:
        if self.form is None:
            return self.twin.settings(), ""
        if not self.form.valid:
            return {}, "Some parameters are not valid: correct the fields marked in the form."
        return dict(self.form.values), ""

    def _work(self, parameters: dict, ensemble: bool, total: int) -> None:
        started = time.monotonic()
        try:
            if ensemble:
                result = self.twin.ensemble(
                    total,
                    client=self._client(),
                    progress=lambda done, n: self._report(done, n, started),
                    **parameters,
                )
            else:
                self.status.value = "Running…"
                result = self.twin.run(**parameters)
                if self._cancel.is_set():
                    raise RunCancelled("cancelled by the user")
        except RunCancelled:
            self._finish("cancelled", "Cancelled: no result was kept.", "warning")
            return
        except (ParameterError, InputError) as error:
            self._finish("failed", "", "danger", error=str(error))
            return
        except Exception as error:  # shown as one sentence; the traceback goes to the log
            if self._cancel.is_set():  # what cancelling broke (a cluster closed with its page)
                self._finish("cancelled", "Cancelled: no result was kept.", "warning")
                return
            log.exception("run of %s failed", type(self.twin).__name__)
            self._finish(
                "failed", "", "danger", error=f"The run failed: {type(error).__name__}: {error}"
            )
            return
        self.result = result
        self._report(total, total, started, may_cancel=False)
        self._on_ui_thread(lambda: self._deliver(result, ensemble, total, started))

    def _deliver(self, result, ensemble: bool, total: int, started: float) -> None:
        # the views are drawn before the run is called done, so "done" means "on screen"
        for callback in self._callbacks:
            try:
                callback(result)
            except Exception as error:  # a broken view must not hide the result
                log.exception("a result callback failed")
                self._show_error(f"Showing the result failed: {type(error).__name__}: {error}")
        seconds = time.monotonic() - started
        what = f"{total} members" if ensemble else "Run"
        self._finish("done", f"{what} done in {seconds:.1f} s.", "success")

    def _client(self):
        if self.client is not None:
            return self.client
        self.status.value = "Connecting to compute…"
        return find_client(session=self.session)

    def _report(self, done: int, total: int, started: float, may_cancel: bool = True) -> None:
        if may_cancel and self._cancel.is_set():
            raise RunCancelled("cancelled by the user")
        if done == self.members_done and done:
            return
        self.members_done = done
        self.progress.max, self.progress.value = total, done
        self.status.value = progress_text(done, total, time.monotonic() - started)

    def _finish(self, state: str, status: str, bar_style: str, error: str = "") -> None:
        self.progress.bar_style = bar_style
        self.status.value = html.escape(status)
        if error:
            self._show_error(error)
        self.run_button.disabled = bool(self.form is not None and not self.form.valid)
        self.cancel_button.disabled = True
        self.state = state

    # --- interface -------------------------------------------------------------------------------
    def _fail(self, sentence: str) -> None:
        self._show_error(sentence)
        self.state = "failed"

    def _show_error(self, sentence: str) -> None:
        self.error = sentence
        self.message.value = error_html(sentence)

    def _show_members(self, _change=None) -> None:
        self.members.layout.display = "" if self.mode.value == "ensemble" else "none"

    def _follow_form(self, change) -> None:
        if not self.running:
            self.run_button.disabled = not change["new"]


def progress_text(done: int, total: int, elapsed: float) -> str:
    """'3 of 16 members done · about 12 s left' (no estimate before the first member)."""
    text = f"{done} of {total} members done"
    if 0 < done < total:
        left = elapsed / done * (total - done)
        text += f" · about {format_duration(left)} left"
    return text


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
