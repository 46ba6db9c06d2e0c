"""Declared twin parameters: typed, bounded, documented, with units.

``Quantity`` is a ``param.Number`` that also carries its unit, so forms, validation messages,
dashboards and provenance all read the unit from the one declaration.
"""

from __future__ import annotations

import math

import param

__all__ = ["Quantity", "describe_allowed"]


class Quantity(param.Number):
    """A bounded number with a unit (SI or the field's customary one, e.g. mm/d)."""

    __slots__ = ["unit"]
    _slot_defaults = dict(param.Number._slot_defaults, unit="")

    def __init__(self, default=0.0, *, unit: str = "", **kwargs):
        super().__init__(default=default, **kwargs)
        self.unit = unit

    def _validate_value(self, value, allow_None):
        super()._validate_value(value, allow_None)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{self.name} must be a finite number, not {value}")


def describe_allowed(parameter: param.Parameter) -> str:
    """What a parameter accepts, in words: 'a number from 100 to 1200 mm'."""
    unit = getattr(parameter, "unit", "")
    unit = f" {unit}" if unit else ""
    if isinstance(parameter, param.Number) and parameter.bounds is not None:
        low, high = parameter.bounds
        if low is not None and high is not None:
            return f"a number from {low} to {high}{unit}"
        if low is not None:
            return f"a number of at least {low}{unit}"
        if high is not None:
            return f"a number of at most {high}{unit}"
    if isinstance(parameter, param.Selector):
        return "one of " + ", ".join(repr(o) for o in parameter.objects)
    if isinstance(parameter, param.Boolean):
        return "True or False"
    return f"a {type(parameter).__name__.lower()}{unit}"
