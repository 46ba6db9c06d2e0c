"""Finding entries: by words anywhere in an entry's name and metadata, and by kind.

One rule for every way in: the catalog browser widget and the server extension's REST API
(``GET .../dte/api/catalog?q=rain&kind=tables``) list the same entries for the same words.
"""

from __future__ import annotations

__all__ = ["KINDS", "is_kind", "has_words", "matching"]

#: the kinds an entry list can be narrowed to
KINDS = ("all", "tables", "grids", "live feeds", "mine")


def is_kind(metadata: dict, kind: str) -> bool:
    """Whether an entry with this metadata is of ``kind`` (one of ``KINDS``)."""
    live = bool(metadata.get("live"))
    return {
        "all": True,
        "tables": metadata.get("kind") == "table" and not live,
        "grids": metadata.get("kind") == "grid",
        "live feeds": live,
        "mine": bool(metadata.get("personal")),
    }[kind]


def has_words(name: str, metadata: dict, words: list[str]) -> bool:
    """Whether every word (lower case) is in the entry's name or anywhere in its metadata."""
    text = " ".join([name, name.replace("_", " "), *_texts(metadata)]).lower()
    return all(word in text for word in words)


def matching(metadata_by_name: dict[str, dict], query: str = "", kind: str = "all") -> list[str]:
    """Names of the entries whose metadata has every word of ``query`` and is of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    words = query.lower().split()
    return [
        name
        for name, metadata in metadata_by_name.items()
        if is_kind(metadata, kind) and has_words(name, metadata, words)
    ]


def _texts(value) -> list[str]:
    """Every key and value of (nested) metadata, as text."""
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (str(key), *_texts(item))]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return [str(value)]
