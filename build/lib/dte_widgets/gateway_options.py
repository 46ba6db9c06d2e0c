"""Inputs for dask-gateway cluster options, generated from the gateway's own declarations.

``Gateway.cluster_options()`` returns ``Options`` whose typed fields carry a label, a default and,
for numbers, bounds: each field becomes an input of its type (a checkbox, a dropdown, a slider
within the platform's limits, a YAML text area for a mapping), and the inputs' values are read
back in the types the gateway checks.
"""

from __future__ import annotations

import ipywidgets as widgets
import yaml
from dask_gateway.options import Bool, Float, Integer, Mapping, Select

from dte_widgets.markup import LABEL_STYLE

__all__ = ["LABEL_STYLE"]


def _option_control(field) -> widgets.Widget:
    """An input for one gateway option, of its type, within its bounds, at its default."""
    common = {"description": field.label, "style": LABEL_STYLE, "tooltip": field.label}
    if isinstance(field, Bool):
        return widgets.Checkbox(value=field.value, indent=False, **common)
    if isinstance(field, Select):
        return widgets.Dropdown(value=field.value, options=list(field.options), **common)
    if isinstance(field, Mapping):
        text = yaml.safe_dump(field.value) if field.value else ""
        return widgets.Textarea(value=text, placeholder="YAML or JSON", **common)
    if isinstance(field, Integer | Float):
        return _number_control(field, common)
    return widgets.Text(value=str(field.value), **common)


def _number_control(field, common: dict) -> widgets.Widget:
    integer = isinstance(field, Integer)
    low, high = field.min, field.max
    if low is not None and high is not None:
        if integer:
            return widgets.IntSlider(value=field.value, min=low, max=high, **common)
        step = _float_step(low, high)
        return widgets.FloatSlider(value=field.value, min=low, max=high, step=step, **common)
    if low is None and high is None:
        kind = widgets.IntText if integer else widgets.FloatText
        return kind(value=field.value, **common)
    unbounded = 2**63 if integer else float("inf")
    kind = widgets.BoundedIntText if integer else widgets.BoundedFloatText
    low = -unbounded if low is None else low
    high = unbounded - 1 if high is None else high
    return kind(value=field.value, min=low, max=high, **common)


def _float_step(low: float, high: float) -> float:
    """A round step giving about 20 to 200 positions between the bounds."""
    import math

    span = high - low
    return 10 ** math.floor(math.log10(span / 20)) if span > 0 else 0.1


def _control_value(field, control: widgets.Widget):
    if isinstance(field, Mapping):
        text = control.value.strip()
        return (yaml.safe_load(text) or {}) if text else {}
    if isinstance(field, Float):
        return float(control.value)
    return control.value
