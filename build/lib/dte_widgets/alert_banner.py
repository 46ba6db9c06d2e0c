"""A banner of a twin's alerts, most serious first, readable by screen readers.

Each alert is an ``HTML`` widget whose text says its level in words (colour is never the only
cue), with a colour per level whose text contrast passes WCAG AA, and ``role="alert"`` for
warnings and dangers (announced at once) or ``role="status"`` for the rest. Every piece of text is
escaped: alerts can carry names users typed.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

import ipywidgets as widgets

from dte_twins.base import ALERT_LEVELS, Alert

__all__ = ["AlertBanner", "LEVEL_STYLES"]

#: level -> (background, text colour, border); text on background has contrast ≥ 7:1
LEVEL_STYLES = {
    "info": ("#e8f1fb", "#0b3a66", "#1f5fa8"),
    "watch": ("#fff5cc", "#4d3800", "#b58900"),
    "warning": ("#ffe3cc", "#5c2000", "#d9480f"),
    "danger": ("#8f001a", "#ffffff", "#4d000e"),
}
_URGENT = {"warning", "danger"}
_FIELDS = ("level", "message", "where", "when")


def _as_alert(alert) -> Alert:
    """An ``Alert`` from an Alert, a mapping or any object with its four fields."""
    if isinstance(alert, Alert):
        return alert
    values = alert if isinstance(alert, Mapping) else vars(alert)
    missing = [field for field in _FIELDS if field not in values]
    if missing:
        raise ValueError(
            f"AlertBanner needs alerts with {', '.join(_FIELDS)}; one has no "
            f"{', '.join(missing)}: {alert!r}."
        )
    return Alert(*(str(values[field]) for field in _FIELDS))


def _html(alert: Alert) -> str:
    background, text, border = LEVEL_STYLES[alert.level]
    role = "alert" if alert.level in _URGENT else "status"
    style = (
        f"background:{background};color:{text};border-left:6px solid {border};"
        "padding:6px 10px;margin:2px 0;border-radius:3px"
    )
    message = alert.message
    if message.lower().startswith(f"{alert.level}:"):  # the level is said once, in bold
        message = message[len(alert.level) + 1 :].lstrip()
    escape = html.escape
    return (
        f'<div class="dte-alert dte-alert-{alert.level}" role="{role}" style="{style}">'
        f"<strong>{escape(alert.level.capitalize())}</strong>: {escape(message)}"
        f' <span class="dte-alert-where">({escape(alert.where)}, {escape(alert.when)})</span>'
        "</div>"
    )


class AlertBanner(widgets.VBox):
    """A twin's alerts (``Twin.alerts(result)``), highest level first, then by time.

    ``alerts``: ``dte_twins.base.Alert`` objects or dicts with ``level``, ``message``, ``where``
    and ``when``. ``update(alerts)`` replaces them; ``counts`` says how many there are per level;
    with none the banner says "No alerts."::

        banner = AlertBanner(twin.alerts(result))
        banner.update(twin.alerts(new_result))
    """

    def __init__(self, alerts: Iterable = ()):
        super().__init__()
        self.add_class("dte-alert-banner")
        self.alerts: tuple[Alert, ...] = ()
        self.update(alerts)

    def update(self, alerts: Iterable = ()) -> None:
        """Show ``alerts`` instead of the current ones."""
        rank = {level: index for index, level in enumerate(ALERT_LEVELS)}
        ordered = sorted(map(_as_alert, alerts or ()), key=lambda a: (-rank[a.level], a.when))
        self.alerts = tuple(ordered)
        if not ordered:
            empty = widgets.HTML('<div class="dte-alert-none" role="status">No alerts.</div>')
            self.children = [empty]
            return
        rows = []
        for alert in ordered:
            row = widgets.HTML(_html(alert))
            row.add_class(f"dte-alert-{alert.level}")
            rows.append(row)
        self.children = rows

    @property
    def counts(self) -> dict[str, int]:
        """Number of alerts per level, every level listed."""
        counts = dict.fromkeys(ALERT_LEVELS, 0)
        for alert in self.alerts:
            counts[alert.level] += 1
        return counts
