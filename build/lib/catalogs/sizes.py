"""Dataset sizes: one builder, scaled from a Binder-sized sample to benchmarks of 10 GB and more.

A size is a name or a positive number, the factor by which a synthetic builder scales its data
(more cells, more years, more gauges, more events). Real observational datasets have one size.
"""

from __future__ import annotations

from catalogs.errors import CatalogError

__all__ = ["SIZES", "scale_of", "size_name"]

#: name -> scale factor; "default" builds in well under a minute on a 2-core machine
SIZES = {"small": 0.25, "default": 1.0, "large": 100.0, "huge": 2000.0}


def scale_of(size) -> float:
    if isinstance(size, str) and size in SIZES:
        return SIZES[size]
    try:
        scale = float(size)
    except (TypeError, ValueError):
        scale = float("nan")
    if not scale > 0 or scale == float("inf"):
        raise CatalogError(
            f"size {size!r} is not allowed: use one of {', '.join(SIZES)} or a positive number."
        )
    return scale


def size_name(size) -> str:
    """The folder name of a size in the cache ('default', or 'x2.5' for a factor)."""
    if isinstance(size, str) and size in SIZES:
        return size
    return f"x{scale_of(size):g}"
