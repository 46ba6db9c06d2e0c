"""A twin's parameters as a form: controls derived from the ``param`` declarations, checked inline.

The declaration is the single source: its type picks the control, its bounds the control's range,
its unit the label, its doc the tooltip, and the twin's own ``validated`` the checks (bounds and
cross-parameter rules alike), so a form never disagrees with what ``twin.run`` accepts.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import param
import traitlets

from dte_twins.errors import ParameterError
from dte_twins.parameters import describe_allowed
from dte_widgets.markup import LABEL_STYLE as _LABEL_STYLE
from dte_widgets.markup import error_html

__all__ = ["ParameterForm"]

#: bounds whose high / low ratio exceeds this get a logarithmic slider
LOG_SLIDER_RATIO = 100
#: a linear slider whose range is this many times the default's size cannot be aimed: a number box
LINEAR_SLIDER_REACH = 100
#: integer ranges wider than this get a number box instead of a slider
INT_SLIDER_SPAN = 10_000


@dataclass
class _Field:
    """The controls of one parameter: how to read and show its value, where its message goes."""

    controls: tuple[widgets.Widget, ...]  # whose ``value`` changes are the user's edits
    read: Callable[[], Any]
    show: Callable[[Any], None]
    message: widgets.HTML
    row: widgets.Widget


class ParameterForm(widgets.VBox):
    """A form for a twin's parameters, derived from their declarations and checked as you edit.

    ``ParameterForm(twin)`` shows every parameter (``parameters=[...]`` picks and orders some)
    with the control its type calls for: sliders for bounded numbers (logarithmic over wide
    ranges), number boxes for huge or open ranges, dropdowns for choices, check boxes, text,
    date pickers and file uploads. Labels carry the unit, tooltips the doc.

    After every change the whole set is validated through ``twin.validated``; a problem is shown
    as a sentence next to each control it names (or under the form), and ``errors`` (name ->
    message, "" for the form) and ``valid`` follow. ``values`` is the current set as a plain dict
    of the Python values the twin accepts (floats, ints, strings, ``datetime.date``, paths as
    strings; not JSON), also kept in the ``value`` traitlet for ``observe(..., "value")``.

    The twin is not changed until ``apply()``. ``reset()`` (and the "Reset to defaults" button)
    restores the declared defaults; ``set_values({...})`` sets values from code::

        form = ParameterForm(FloodTwin(), parameters=["x1", "x2", "x3", "x4"])
        form.observe(lambda change: print(change.new), "value")
        form.apply()  # copies valid values onto the twin, raises ParameterError if invalid
    """

    #: removes the uploaded files (set at the first upload; a class default, as close() also
    #: runs for a form whose __init__ refused its parameters)
    _remove_uploads: weakref.finalize | None = None

    value = traitlets.Dict(help="Current values, parameter name -> value the twin accepts.")
    valid = traitlets.Bool(True, help="True when the twin accepts the current values.")
    errors = traitlets.Dict(help="Parameter name -> problem; the '' key for the whole form.")

    def __init__(self, twin, parameters: Iterable[str] | None = None, **kwargs):
        self.twin = twin
        names = list(parameters) if parameters is not None else twin.parameter_names()
        _check_known(twin, names)
        self._upload_folder: Path | None = None
        self._fields = {name: self._build_field(name) for name in names}
        self.form_message = widgets.HTML()
        self.reset_button = widgets.Button(
            description="Reset to defaults",
            tooltip="Set every parameter of this form back to the value its twin declares",
            icon="undo",
        )
        self.reset_button.on_click(lambda _: self.reset())
        rows = [field.row for field in self._fields.values()]
        super().__init__([*rows, self.form_message, self.reset_button], **kwargs)
        self.add_class("dte-parameter-form")
        self._showing = False
        current = twin.settings()
        self._values = {name: current[name] for name in names}
        self._show(self._values)
        self._check()

    # --- public ----------------------------------------------------------------------------------
    @property
    def values(self) -> dict:
        """The form's values (a copy): parameter name -> Python value the twin accepts."""
        return dict(self._values)

    def set_values(self, values: dict) -> None:
        """Set some values from code, then validate as for an edit (problems are shown, not
        raised). A name the form does not show raises ParameterError."""
        _check_known(self.twin, values, shown=self._fields)
        self._values.update(values)
        self._show(values)
        self._check()

    def reset(self) -> None:
        """Every parameter back to the default its twin declares."""
        # a copy: a list default must not become the form's own list
        self.set_values({name: copy.copy(self.twin.param[name].default) for name in self._fields})

    def apply(self) -> None:
        """Copy the values onto the twin; raise ParameterError (unchanged twin) if invalid."""
        error = _validation_error(self.twin, self._values)
        if error is not None:
            raise error
        self.twin.param.update(self.values)

    def control(self, name: str) -> widgets.Widget | None:
        """The (first) control of parameter ``name`` (None for a declaration shown read-only)."""
        return self._fields[name].controls[0] if self._fields[name].controls else None

    # --- private ---------------------------------------------------------------------------------
    def _build_field(self, name: str) -> _Field:
        parameter = self.twin.param[name]
        common = {
            "description": _label(name, parameter),
            "tooltip": _tooltip(parameter),
            "style": _LABEL_STYLE,
        }
        controls, read, show, parts = _controls_for(parameter, common, self._uploads)
        message = widgets.HTML()
        row = widgets.VBox([widgets.HBox(parts), message])
        row.add_class("dte-parameter")
        for control in controls:
            control.observe(lambda _, name=name: self._on_edit(name), names="value")
        return _Field(tuple(controls), read, show, message, row)

    def _uploads(self) -> Path:
        """A folder only this user can read, for files uploaded as path parameters."""
        if self._upload_folder is None:
            self._upload_folder = Path(tempfile.mkdtemp(prefix="dte-form-"))
            # the files go when the form is closed (a Voila page's kernel ends with its page)
            # or the process ends; a path a run or the twin still holds is gone then
            self._remove_uploads = weakref.finalize(
                self, shutil.rmtree, self._upload_folder, ignore_errors=True
            )
        return self._upload_folder

    def close(self) -> None:
        if self._remove_uploads is not None:
            self._remove_uploads()
        super().close()

    def _on_edit(self, name: str) -> None:
        if self._showing:
            return
        self._values[name] = self._fields[name].read()
        self._check()

    def _show(self, values: dict) -> None:
        """Put values into the controls without taking them for edits."""
        self._showing = True
        try:
            for name, value in values.items():
                self._fields[name].show(value)
        finally:
            self._showing = False

    def _check(self) -> None:
        error = _validation_error(self.twin, self._values)
        errors = {} if error is None else _errors_by_parameter(str(error), self._fields)
        for name, field in self._fields.items():
            field.message.value = _alert(errors.get(name, ""))
        self.form_message.value = _alert(errors.get("", ""))
        # errors and valid first, so observers of "value" read a consistent form
        self.errors = errors
        self.valid = not errors
        self.value = dict(self._values)


# --- validation ----------------------------------------------------------------------------------
def _check_known(twin, names: Iterable[str], shown: Iterable[str] | None = None) -> None:
    allowed = list(shown) if shown is not None else twin.parameter_names()
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ParameterError(
            f"{'this form' if shown is not None else type(twin).__name__} has no parameter "
            f"{unknown[0]!r}; its parameters are {', '.join(allowed)}."
        )


def _validation_error(twin, values: dict) -> ParameterError | None:
    """What the twin says about these values (None if it accepts them)."""
    try:
        twin.validated(dict(values))
    except ParameterError as error:
        return error
    except OSError as error:
        # param.Path raises OSError for a missing file, which the twin does not translate
        return ParameterError(_path_sentence(twin, values, error))
    return None


def _path_sentence(twin, values: dict, error: OSError) -> str:
    for name, value in values.items():
        if isinstance(twin.param[name], param.Path) and value and str(value) in str(error):
            return (
                f"{type(twin).__name__} parameter {name} = {value!r} is not allowed: {error} "
                "Upload the file or give a path that exists."
            )
    return str(error)


def _errors_by_parameter(message: str, names: Iterable[str]) -> dict[str, str]:
    """The message under each parameter it names, else under the form ("")."""
    named = _named_parameters(message, list(names))
    return {name: message for name in named} or {"": message}


def _named_parameters(message: str, names: list[str]) -> list[str]:
    """Names the message gives a value (``x1 = 5``, ``q_min < q_max``), else names it mentions."""
    assigned = [
        name for name in names if re.search(rf"(?<![\w.]){re.escape(name)}\s*[=<>≤≥]", message)
    ]
    if assigned:
        return assigned
    return [name for name in names if re.search(rf"(?<![\w./]){re.escape(name)}(?![\w/])", message)]


def _alert(text: str) -> str:
    if not text:
        return ""
    return error_html(text)


# --- labels --------------------------------------------------------------------------------------
def _label(name: str, parameter: param.Parameter) -> str:
    """'channel_width' -> 'channel width (m)'; dimensionless units ('', '1') are left out."""
    unit = getattr(parameter, "unit", "")
    words = name.replace("_", " ")
    return f"{words} ({unit})" if unit not in ("", "1") else words


def _tooltip(parameter: param.Parameter) -> str:
    doc = (parameter.doc or "").strip()
    if isinstance(parameter, param.Number) and not isinstance(parameter, param.Date):
        return f"{doc} Allowed: {describe_allowed(parameter)}.".strip()
    return doc


# --- controls per type ---------------------------------------------------------------------------
def _controls_for(parameter: param.Parameter, common: dict, uploads: Callable[[], Path]):
    """(controls to observe, read(), show(value), widgets to lay out) for one declaration."""
    if isinstance(parameter, param.Path):
        return _path_controls(parameter, common, uploads)
    if isinstance(parameter, param.DateRange | param.CalendarDateRange):
        return _date_range_controls(parameter, common)
    if isinstance(parameter, param.Date | param.CalendarDate):
        return _single(_date_picker(parameter, common), to_shown=_as_date)
    if isinstance(parameter, param.Boolean):
        return _single(widgets.Checkbox(indent=False, **common))
    if isinstance(parameter, param.ListSelector):
        control = widgets.SelectMultiple(options=_choices(parameter), **common)
        return _single(control, read=lambda: list(control.value), to_shown=tuple)
    if isinstance(parameter, param.Selector):
        return _single(widgets.Dropdown(options=_choices(parameter), **common))
    if isinstance(parameter, param.Integer):
        return _single(_integer_control(parameter, common))
    if isinstance(parameter, param.Number):
        control, read = _number_control(parameter, common)
        return _single(control, read=read)
    if isinstance(parameter, param.String):
        return _single(widgets.Text(**common))
    return _read_only(common)


def _single(control, read=None, to_shown=None):
    def show(value):
        _put(control, to_shown(value) if to_shown and value is not None else value)

    return (control,), read or (lambda: control.value), show, [control]


def _put(control: widgets.Widget, value) -> None:
    """Show a value; one the control cannot hold (out of range, unknown choice) is left to the
    validation message, which names it."""
    try:
        control.value = value
    except (traitlets.TraitError, TypeError, ValueError):
        pass


def _bounds(parameter: param.Number) -> tuple[float | None, float | None]:
    low, high = parameter.bounds or (None, None)
    finite = [v if v is not None and math.isfinite(v) else None for v in (low, high)]
    return finite[0], finite[1]


def _number_control(parameter: param.Number, common: dict):
    """(control, read) for a number: the read value is cleaned of the slider's float noise."""
    low, high = _bounds(parameter)
    if low is None or high is None:
        control = widgets.FloatText(**common)
    elif low > 0 and high / low > LOG_SLIDER_RATIO:
        control = _log_slider(low, high, common)
    elif parameter.default and (high - low) / abs(parameter.default) > LINEAR_SLIDER_REACH:
        control = widgets.BoundedFloatText(min=low, max=high, **common)
    else:
        step = parameter.step or _linear_step(low, high, parameter.default)
        control = widgets.FloatSlider(
            min=low,
            max=high,
            step=step,
            readout_format=f".{max(0, -math.floor(math.log10(step)))}f",
            continuous_update=False,
            **common,
        )
    return control, lambda: _clean(control.value, low, high)


def _clean(value: float, low: float | None, high: float | None) -> float:
    """12 significant digits (0.30000000000000004 -> 0.3), within the bounds (10 ** log10(2500)
    is 2500.000000000002)."""
    value = float(f"{value:.12g}")
    if low is not None:
        value = max(value, low)
    return min(value, high) if high is not None else value


def _log_slider(low: float, high: float, common: dict) -> widgets.FloatLogSlider:
    return widgets.FloatLogSlider(
        min=math.log10(low),
        max=math.log10(high),
        step=0.01,
        readout_format=".4g",
        continuous_update=False,
        **common,
    )


def _linear_step(low: float, high: float, default) -> float:
    """A round step giving 100–1000 positions, finer if the low bound or the default would
    fall between steps."""
    span = high - low
    step = 10.0 ** math.floor(math.log10(span / 100))
    anchors = [low] + ([default] if isinstance(default, int | float) else [])
    while span / step < 100_000 and not all(_is_multiple(v, step) for v in anchors):
        step /= 10
    return step


def _is_multiple(value: float, step: float) -> bool:
    return abs(value / step - round(value / step)) < 1e-6


def _integer_control(parameter: param.Integer, common: dict) -> widgets.Widget:
    low, high = _bounds(parameter)
    if low is None or high is None:
        return widgets.IntText(**common)
    if high - low > INT_SLIDER_SPAN:
        return widgets.BoundedIntText(min=int(low), max=int(high), **common)
    return widgets.IntSlider(
        min=int(low),
        max=int(high),
        step=int(parameter.step or 1),
        continuous_update=False,
        **common,
    )


def _choices(parameter: param.Selector) -> list[tuple[str, Any]]:
    names = getattr(parameter, "names", None)
    if names:
        return [(str(label), value) for label, value in names.items()]
    return [(str(option), option) for option in parameter.objects]


def _as_date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def _date_picker(parameter, common: dict, **overrides) -> widgets.DatePicker:
    low, high = getattr(parameter, "bounds", None) or (None, None)
    limits = {
        key: _as_date(bound)
        for key, bound in (("min", low), ("max", high))
        if isinstance(bound, dt.date)
    }
    return widgets.DatePicker(**limits, **{**common, **overrides})


def _date_range_controls(parameter, common: dict):
    label = common["description"]
    start = _date_picker(parameter, common, description=f"{label} from")
    end = _date_picker(parameter, common, description=f"{label} to")

    def show(value):
        first, last = value if value is not None else (None, None)
        _put(start, _as_date(first))
        _put(end, _as_date(last))

    return (start, end), lambda: (start.value, end.value), show, [start, end]


def _path_controls(parameter: param.Path, common: dict, uploads: Callable[[], Path]):
    """A text box with the path, and an upload button that fills it with the uploaded copy."""
    text = widgets.Text(placeholder="a path on the server, or upload a file", **common)

    def show(value):
        _put(text, "" if value is None else str(value))

    if isinstance(parameter, param.Foldername):
        return (text,), lambda: text.value or None, show, [text]
    upload = widgets.FileUpload(
        description="Upload",
        tooltip=f"Upload a file for {common['description']}",
        multiple=False,
    )

    def take_upload(change):
        if change["new"]:
            text.value = str(_save_upload(change["new"][0], uploads()))

    upload.observe(take_upload, names="value")
    return (text,), lambda: text.value or None, show, [text, upload]


def _save_upload(uploaded, folder: Path) -> Path:
    target = folder / (Path(str(uploaded["name"])).name or "upload")
    target.write_bytes(bytes(uploaded["content"]))
    return target


def _read_only(common: dict):
    """A declaration without a control here (List, Dict, …): shown, kept, not editable."""
    control = widgets.Text(disabled=True, **common)
    held = [None]

    def show(value):
        held[0] = value
        control.value = repr(value)

    return (), lambda: held[0], show, [control]
