"""The gallery page: a card per dashboard the viewer may open. Self-contained HTML (inline
styles and pictures), so the page loads nothing from outside the platform."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from hub.dashboards.registry import Dashboard

__all__ = ["gallery_page"]

#: a picture per domain, drawn inline (no image files, no fonts from elsewhere)
_THUMBNAILS = {
    "environment": (
        "#1d6fa5",
        "<path d='M32 8 C22 24 16 32 16 40 a16 16 0 0 0 32 0 C48 32 42 24 32 8z' fill='#fff'/>",
    ),
    "physics": (
        "#6a3d9a",
        "<ellipse cx='32' cy='32' rx='24' ry='9' fill='none' stroke='#fff' stroke-width='3'/>"
        "<ellipse cx='32' cy='32' rx='24' ry='9' fill='none' stroke='#fff' stroke-width='3' "
        "transform='rotate(60 32 32)'/><ellipse cx='32' cy='32' rx='24' ry='9' fill='none' "
        "stroke='#fff' stroke-width='3' transform='rotate(120 32 32)'/>"
        "<circle cx='32' cy='32' r='4' fill='#fff'/>",
    ),
    "other": ("#4d4d4d", "<rect x='16' y='16' width='32' height='32' rx='4' fill='#fff'/>"),
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1b1b1b; }
header { background: #fff; border-bottom: 1px solid #d0d4da; padding: 1em 2em; display: flex;
         justify-content: space-between; align-items: center; }
main { padding: 2em; display: grid; gap: 1.5em;
       grid-template-columns: repeat(auto-fill, minmax(18em, 1fr)); }
.card { background: #fff; border: 1px solid #d0d4da; border-radius: 8px; overflow: hidden;
        display: flex; flex-direction: column; }
.card a.open { color: inherit; text-decoration: none; display: block; padding: 1em; }
.card a.open:focus, .card a.open:hover { outline: 3px solid #1d6fa5; }
.card h2 { font-size: 1.15em; margin: 0.5em 0 0.3em; }
.card p { margin: 0.2em 0; line-height: 1.4; }
.meta { color: #4a4f57; font-size: 0.85em; }
.card p.also { margin: 0; padding: 0 1em 1em; font-size: 0.9em; }
.card p.also a { color: #1d5f8f; }
.empty { grid-column: 1 / -1; }
"""


def _thumbnail(domain: str) -> str:
    colour, shape = _THUMBNAILS.get(domain, _THUMBNAILS["other"])
    return (
        f"<svg role='img' aria-label='{html.escape(domain)} dashboard' width='64' height='64' "
        f"viewBox='0 0 64 64'><rect width='64' height='64' rx='10' fill='{colour}'/>{shape}</svg>"
    )


def _card(dashboard: Dashboard, prefix: str) -> str:
    published = datetime.fromtimestamp(dashboard.published_at, UTC).strftime("%Y-%m-%d")
    return (
        f"<article class='card' data-dashboard='{html.escape(dashboard.slug)}'>"
        f"<a class='open' href='{html.escape(prefix)}d/{html.escape(dashboard.slug)}/'>"
        f"{_thumbnail(dashboard.domain)}"
        f"<h2>{html.escape(dashboard.title)}</h2>"
        f"<p>{html.escape(dashboard.description)}</p>"
        f"<p class='meta'>{html.escape(dashboard.domain)} · by {html.escape(dashboard.owner)} · "
        f"version {dashboard.version}, {published}</p></a>"
        f"<p class='also'><a href='{html.escape(prefix)}p/{html.escape(dashboard.slug)}/'>"
        f"Open as a Panel app</a></p></article>"
    )


def gallery_page(dashboards: list[Dashboard], viewer: str, prefix: str, hub_prefix: str) -> str:
    cards = "".join(_card(d, prefix) for d in dashboards) or (
        "<p class='empty'>No dashboard is published for you yet. Ask a DT developer to publish "
        "one for your group.</p>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>DTE Hub dashboards</title><style>{_STYLE}</style></head><body>"
        "<header><h1>Twin applications</h1>"
        f"<nav>Signed in as <strong>{html.escape(viewer)}</strong> · "
        f"<a href='{html.escape(hub_prefix)}logout'>Log out</a></nav></header>"
        f"<main aria-label='Dashboards'>{cards}</main></body></html>"
    )
