"""Errors a twin raises for bad input: one sentence naming what was wrong and what is allowed."""

__all__ = ["ParameterError", "InputError", "RunCancelled"]


class ParameterError(ValueError):
    """A twin parameter is out of bounds, of the wrong type, NaN, or inconsistent with another."""


class InputError(ValueError):
    """A twin input (forcing, observations) is missing, malformed or physically impossible."""


class RunCancelled(RuntimeError):
    """A run or ensemble stopped at the user's request (raised by a progress callback)."""
