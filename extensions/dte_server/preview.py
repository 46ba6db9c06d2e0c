"""An entry's data as JSON a browser or a script can show: a table's first rows, a grid's shape.

Tables (pandas, or Dask for large sizes) give their columns with types and their first rows;
NaN becomes ``null`` and times ISO 8601 text. Grids (xarray) give their dimensions, each
coordinate's first and last value, and each variable's dimensions, type, units and range; the
range is taken over a thinned copy (at most ``GRID_SAMPLE`` cells a side) so a large grid costs
no more than a small one.
"""

from __future__ import annotations

import json
import math

import numpy as np

__all__ = ["MAX_ROWS", "GRID_SAMPLE", "preview"]

#: the most rows a preview may ask for
MAX_ROWS = 1000
#: longest side, in cells, of the copy of a grid variable its range is taken from
GRID_SAMPLE = 300


def preview(name: str, data, rows: int, units: dict | None = None) -> dict:
    """The JSON preview of an entry's data (``rows`` first rows of a table)."""
    if hasattr(data, "data_vars"):
        return _grid(name, data, units or {})
    if hasattr(data, "columns") and hasattr(data, "head"):
        return _table(name, data, rows)
    return {"name": name, "kind": type(data).__name__, "text": str(data)[:2000]}


def _table(name: str, frame, rows: int) -> dict:
    lazy = not type(frame).__module__.startswith("pandas")
    head = frame.head(rows) if not lazy else frame.head(rows, npartitions=-1)
    split = json.loads(head.to_json(orient="split", date_format="iso", default_handler=str))
    return {
        "name": name,
        "kind": "table",
        "columns": [{"name": str(c), "dtype": str(t)} for c, t in frame.dtypes.items()],
        "index": split["index"],
        "rows": split["data"],
        # a lazy table would be read whole to count it
        "total_rows": None if lazy else len(frame),
    }


def _grid(name: str, dataset, units: dict) -> dict:
    return {
        "name": name,
        "kind": "grid",
        "dims": {str(dim): int(size) for dim, size in dataset.sizes.items()},
        "coords": {
            str(coord): {
                "first": _scalar(dataset[coord].values.flat[0]),
                "last": _scalar(dataset[coord].values.flat[-1]),
                "size": int(dataset[coord].size),
            }
            for coord in dataset.coords
            if dataset[coord].ndim == 1 and dataset[coord].size
        },
        "variables": {
            str(var): {
                "dims": [str(d) for d in dataset[var].dims],
                "dtype": str(dataset[var].dtype),
                "units": units.get(var) or dataset[var].attrs.get("units"),
                **_range(dataset[var]),
            }
            for var in dataset.data_vars
        },
    }


def _range(variable) -> dict:
    if variable.dtype.kind not in "iuf" or variable.size == 0:
        return {}
    steps = {dim: max(1, math.ceil(size / GRID_SAMPLE)) for dim, size in variable.sizes.items()}
    sample = variable.isel({dim: slice(None, None, step) for dim, step in steps.items()})
    values = sample.values
    finite = values[~np.isnan(values)] if values.dtype.kind == "f" else values.ravel()
    if finite.size == 0:
        return {"min": None, "max": None, "sampled_every": steps}
    return {
        "min": _scalar(finite.min()),
        "max": _scalar(finite.max()),
        "sampled_every": steps,
    }


def _scalar(value):
    """A number or text JSON can hold (NaN and infinities become null, times ISO 8601)."""
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(np.datetime_as_string(value))
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
