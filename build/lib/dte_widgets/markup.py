"""Markup every DTE widget shares: escaped text, error sentences as alerts, label style.

Errors reach users as one sentence in an element with ``role="alert"`` (announced by screen
readers), never as a traceback; anything shown is HTML-escaped, since names, file names and
messages can come from users.
"""

from __future__ import annotations

import html

__all__ = ["LABEL_STYLE", "escape", "error_html"]

#: labels as wide as their text (ipywidgets cuts long descriptions by default)
LABEL_STYLE = {"description_width": "initial"}


def escape(value) -> str:
    """``value`` as text safe inside HTML, quotes included."""
    return html.escape(str(value), quote=True)


def error_html(sentence: str) -> str:
    """An error sentence, escaped, as an alert for screen readers."""
    return f'<p class="dte-error" role="alert">{escape(sentence)}</p>'
