"""What the catalog browser shows of an entry: its metadata, its first rows or its variables as
HTML tables, and a small map (a 2-D variable) or line (a 1-D one) of its data.

The tables have captions and header cells for screen readers; the plot is drawn from a thinned
copy of the variable, at most ``MAP_CELLS`` cells a side or ``LINE_POINTS`` points.
"""

from __future__ import annotations

import numpy as np

from dte_widgets.markup import escape as _escape

__all__ = ["PREVIEW_ROWS", "MAP_CELLS", "LINE_POINTS"]

#: rows a table preview shows
PREVIEW_ROWS = 10
#: longest side of a preview map, in cells, and points of a preview line (more are skipped)
MAP_CELLS = 300
LINE_POINTS = 2000

#: metadata shown first, in this order; the rest follow alphabetically
_METADATA_ORDER = (
    "description",
    "kind",
    "live",
    "personal",
    "like",
    "synthetic",
    "license",
    "provenance",
    "spatial_extent",
    "time_extent",
    "schema",
    "units",
)


def _is_pandas(data) -> bool:
    return type(data).__module__.startswith("pandas")


def _metadata_table(name: str, metadata: dict) -> str:
    ordered = [key for key in _METADATA_ORDER if key in metadata]
    ordered += sorted(key for key in metadata if key not in _METADATA_ORDER)
    rows = "".join(
        f'<tr><th scope="row">{_escape(_metadata_label(key, metadata))}</th>'
        f"<td>{_metadata_cell(metadata[key])}</td></tr>"
        for key in ordered
    )
    return (
        f'<table class="dte-metadata"><caption>Entry {_escape(name)}</caption>'
        f"<tbody>{rows}</tbody></table>"
    )


def _metadata_label(key: str, metadata: dict) -> str:
    if key == "schema":
        return "variables" if metadata.get("kind") == "grid" else "columns"
    return key.replace("_", " ")


def _metadata_cell(value) -> str:
    if isinstance(value, dict):
        items = "".join(
            f"<li><code>{_escape(key)}</code>: {_escape(item) if item != '' else '—'}</li>"
            for key, item in value.items()
        )
        return f"<ul>{items}</ul>"
    if isinstance(value, list | tuple):
        return _escape(", ".join(map(str, value)) or "—")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _escape(value)


def _frame_table(name: str, frame) -> str:
    head = frame.head(PREVIEW_ROWS)
    total = f" of {len(frame)}" if _is_pandas(frame) else ""
    index_name = _escape(head.index.name or "")
    header = f'<th scope="col">{index_name}</th>' + "".join(
        f'<th scope="col">{_escape(column)}</th>' for column in head.columns
    )
    body = "".join(
        f'<tr><th scope="row">{_escape(_format(label))}</th>'
        + "".join(f"<td>{_escape(_format(value))}</td>" for value in row)
        + "</tr>"
        for label, row in zip(head.index, head.itertuples(index=False), strict=True)
    )
    return (
        f'<table class="dte-preview"><caption>First {len(head)}{total} rows of '
        f"{_escape(name)}</caption><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


def _format(value) -> str:
    if hasattr(value, "isoformat"):
        if getattr(value, "hour", 0) == getattr(value, "minute", 0) == 0 and not getattr(
            value, "second", 0
        ):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)


def _variables_table(name: str, dataset, units: dict) -> str:
    rows = "".join(
        f'<tr><th scope="row">{_escape(var)}</th>'
        f"<td>{_escape(', '.join(map(str, dataset[var].dims)))}</td>"
        f"<td>{_escape(' × '.join(map(str, dataset[var].shape)))}</td>"
        f"<td>{_escape(units.get(var) or dataset[var].attrs.get('units', ''))}</td></tr>"
        for var in dataset.data_vars
    )
    return (
        f'<table class="dte-preview"><caption>Variables of {_escape(name)}</caption><thead><tr>'
        '<th scope="col">variable</th><th scope="col">dimensions</th>'
        '<th scope="col">shape</th><th scope="col">units</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _variable_to_draw(dataset, order: list[str]):
    """The first 2-D variable (a map), else the first 1-D one (a line), in the order the entry
    declares them (the dataset's own order is alphabetical)."""
    names = [name for name in order if name in dataset.data_vars]
    names += [name for name in dataset.data_vars if name not in names]
    for ndim in (2, 1):
        for name in names:
            if dataset[name].ndim == ndim:
                return dataset[name]
    return None


def _preview_values(name: str, variable):
    """The variable thinned to a preview's resolution (every k-th cell), and a description."""
    limit = MAP_CELLS if variable.ndim == 2 else LINE_POINTS
    thinned = variable.isel(
        {dim: slice(None, None, max(1, -(-size // limit))) for dim, size in variable.sizes.items()}
    )
    shape = " × ".join(f"{size} {dim}" for dim, size in variable.sizes.items())
    what = "Map" if variable.ndim == 2 else "Line plot"
    description = f"{what} of {variable.name} in entry {name} ({shape})"
    return thinned, description


def _draw(figure, name: str, variable: str, shown, units: str) -> None:
    axes = figure.add_subplot()
    values = np.asarray(shown.values, dtype=float)
    if shown.ndim == 2:
        y_dim, x_dim = shown.dims
        image = axes.imshow(
            values, origin="lower", aspect="auto", extent=_extent(shown, x_dim, y_dim)
        )
        figure.colorbar(image, ax=axes, label=units)
        axes.set_xlabel(x_dim)
        axes.set_ylabel(y_dim)
    else:
        (dim,) = shown.dims
        axes.plot(_coordinate(shown, dim), values, linewidth=0.8)
        axes.set_xlabel(dim)
        axes.set_ylabel(units)
    axes.set_title(f"{name}: {variable}")


def _coordinate(variable, dim: str):
    if dim in variable.coords and variable[dim].dtype.kind in "fiuM":
        return variable[dim].values
    return np.arange(variable.sizes[dim])


def _extent(variable, x_dim: str, y_dim: str):
    x, y = _coordinate(variable, x_dim), _coordinate(variable, y_dim)
    if x.dtype.kind not in "fiu" or y.dtype.kind not in "fiu" or len(x) < 2 or len(y) < 2:
        return None
    return [float(x[0]), float(x[-1]), float(y[0]), float(y[-1])]
