"""Errors of the data catalog: each says what is wrong and what to do."""

__all__ = ["CatalogError", "SchemaError"]


class CatalogError(LookupError):
    """An unknown entry, or a cache that is missing, corrupt or cannot be built."""


class SchemaError(ValueError):
    """Data that does not follow an entry's schema; names the column, variable, row or cell."""
