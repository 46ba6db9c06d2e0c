"""What a dataset must look like: declared columns (tables) or variables (grids), with units.

Every catalog entry declares a schema; the builders' output, the cache, and the data users connect
from their own physical twins are all checked against it, so a twin always receives what it
expects. A mismatch raises ``SchemaError`` naming the column or variable at fault, and for values,
the first row (or cell) that breaks the rule, and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from catalogs.errors import SchemaError

__all__ = ["Field", "TableSchema", "GridSchema"]

_KINDS = {"number": "fiu", "integer": "iu", "bool": "b", "time": "M", "text": "OUSa"}


@dataclass(frozen=True)
class Field:
    """One column of a table or one variable of a grid."""

    name: str
    units: str = ""
    kind: str = "number"  # one of _KINDS
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True
    allow_missing: bool = False
    dims: tuple[str, ...] = ()  # grids only
    description: str = ""

    def describe(self) -> str:
        """'number from 0 to 1000 mm/d on (time)', 'bool on (y, x)', 'optional …'."""
        words = f"{self.kind} {self.describe_range()}" if self.kind == "number" else self.kind
        if self.kind != "number" and self.units:
            words += f" ({self.units})"
        if self.dims:
            words += f" on ({', '.join(self.dims)})"
        if self.allow_missing:
            words += ", gaps allowed"
        return words if self.required else f"optional {words}"

    def describe_range(self) -> str:
        unit = f" {self.units}" if self.units else ""
        if self.minimum is not None and self.maximum is not None:
            return f"from {self.minimum:g} to {self.maximum:g}{unit}"
        if self.minimum is not None:
            return f"at least {self.minimum:g}{unit}"
        if self.maximum is not None:
            return f"at most {self.maximum:g}{unit}"
        return f"any {self.kind}"

    def check_values(self, values: np.ndarray, where) -> None:
        """Kind, missing values and range; ``where(i)`` names the i-th value (row or cell)."""
        if values.dtype.kind not in _KINDS[self.kind]:
            raise SchemaError(
                f"{self.name!r} must hold {self.kind} values ({self.units or 'no unit'}), "
                f"not {values.dtype}."
            )
        if self.kind not in ("number", "integer"):
            return
        numbers = values.astype(float, copy=False).ravel()
        missing = ~np.isfinite(numbers)
        if missing.any() and not self.allow_missing:
            first = int(missing.argmax())
            raise SchemaError(
                f"{self.name!r} has a missing or infinite value at {where(first)} "
                f"({numbers[first]}); every value must be a number {self.describe_range()}."
            )
        present = np.where(missing, np.nan, numbers)
        below = present < self.minimum if self.minimum is not None else None
        above = present > self.maximum if self.maximum is not None else None
        for broken in (below, above):
            if broken is not None and broken.any():
                first = int(broken.argmax())
                raise SchemaError(
                    f"{self.name!r} at {where(first)} is {numbers[first]:g}, outside the allowed "
                    f"range: values must be {self.describe_range()}."
                )


@dataclass(frozen=True)
class TableSchema:
    """A pandas table: an index (usually ``time``) and declared columns."""

    fields: tuple[Field, ...]
    index: str = "time"
    index_kind: str = "time"
    unique_index: bool = True  # False for long tables (one row per gauge and day)
    kind: str = field(default="table", init=False)

    def validate(self, table) -> pd.DataFrame:
        """The table, index sorted, if it follows the schema; else SchemaError."""
        if not isinstance(table, pd.DataFrame):
            raise SchemaError(f"expected a table (pandas DataFrame), not {type(table).__name__}.")
        if self.index in table.columns:
            table = table.set_index(self.index)
        if self.index_kind == "time":
            if not isinstance(table.index, pd.DatetimeIndex):
                raise SchemaError(
                    f"the table needs a {self.index!r} column or index of dates; its index is "
                    f"{table.index.dtype} and its columns are {', '.join(map(str, table.columns))}."
                )
            if table.index.hasnans:
                row = int(np.asarray(table.index.isna()).argmax())
                raise SchemaError(f"{self.index!r} is missing at row {row + 1}.")
            duplicated = table.index.duplicated() if self.unique_index else np.zeros(0, bool)
            if duplicated.any():
                label = table.index[duplicated.argmax()]
                raise SchemaError(f"{self.index!r} {label} appears more than once.")
            if self.unique_index:
                table = table.sort_index()
        expected = {f.name for f in self.fields}
        for spec in self.fields:
            if spec.name not in table.columns:
                if spec.required:
                    raise SchemaError(
                        f"column {spec.name!r} ({spec.units or spec.kind}) is missing; the table "
                        f"has {', '.join(map(str, table.columns)) or 'no columns'}, and needs "
                        f"{', '.join(sorted(f.name for f in self.fields if f.required))}."
                    )
                continue
            index = table.index

            def where(i, index=index):
                return f"row {i + 1} ({self.index} {index[i]})"

            spec.check_values(table[spec.name].to_numpy(), where)
        extra = [c for c in table.columns if c not in expected]
        return table.drop(columns=extra) if extra else table

    def describe(self) -> dict[str, str]:
        """Each field in words (compact: Intake walks every node of an entry at each read)."""
        return {f.name: f.describe() for f in self.fields}


@dataclass(frozen=True)
class GridSchema:
    """An xarray Dataset: declared variables on declared dimensions."""

    fields: tuple[Field, ...]
    coords: tuple[str, ...] = ()
    kind: str = field(default="grid", init=False)

    def validate(self, dataset, check_values: bool = True) -> xr.Dataset:
        """The dataset if it follows the schema; else SchemaError. ``check_values=False`` checks
        only names, dims and dtypes (for data too large to scan)."""
        if not isinstance(dataset, xr.Dataset):
            raise SchemaError(f"expected an xarray Dataset, not {type(dataset).__name__}.")
        for coord in self.coords:
            if coord not in dataset.coords:
                raise SchemaError(
                    f"coordinate {coord!r} is missing; the dataset has "
                    f"{', '.join(map(str, dataset.coords)) or 'no coordinates'}."
                )
        for spec in self.fields:
            if spec.name not in dataset:
                if spec.required:
                    raise SchemaError(
                        f"variable {spec.name!r} ({spec.units or spec.kind}) is missing; the "
                        f"dataset has {', '.join(map(str, dataset.data_vars)) or 'no variables'}."
                    )
                continue
            variable = dataset[spec.name]
            if spec.dims and tuple(variable.dims) != spec.dims:
                raise SchemaError(
                    f"variable {spec.name!r} must have dims {spec.dims}, not {variable.dims}."
                )
            if check_values:

                def where(i, variable=variable):
                    cell = np.unravel_index(i, variable.shape)
                    return "cell " + ", ".join(
                        f"{d}={c}" for d, c in zip(variable.dims, cell, strict=True)
                    )

                spec.check_values(np.asarray(variable.values), where)
            elif variable.dtype.kind not in _KINDS[spec.kind]:
                raise SchemaError(f"variable {spec.name!r} must hold {spec.kind} values.")
        return dataset

    def describe(self) -> dict[str, str]:
        """Each field in words (compact: Intake walks every node of an entry at each read)."""
        return {f.name: f.describe() for f in self.fields}
