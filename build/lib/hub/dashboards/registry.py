"""Published dashboards: one SQLite table and immutable notebook files, so a republish is atomic.

Each publication writes the notebook to a new version file
(``<folder>/notebooks/<slug>/v<N>.ipynb``) and then, in one transaction, points the dashboard's
row at it. A viewer opening the dashboard
at any moment gets either the old version or the new one, never a half-written file, and
sessions started on the old version keep their file until old versions are pruned.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

__all__ = ["Dashboard", "DashboardRegistry", "PublishError", "MAX_NOTEBOOK_BYTES", "SLUG"]

#: a dashboard's name in URLs: lowercase letters, digits and dashes
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
MAX_NOTEBOOK_BYTES = 20 * 1024**2
#: versions kept per dashboard (older files are pruned at the next publication)
KEPT_VERSIONS = 3
DOMAINS = ("environment", "physics", "other")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dashboards (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    domain TEXT NOT NULL,
    owner TEXT NOT NULL,
    groups TEXT NOT NULL,
    version INTEGER NOT NULL,
    published_at REAL NOT NULL
)
"""


class PublishError(ValueError):
    """A publication refused: the sentence says what was wrong and what to do."""


@dataclass
class Dashboard:
    slug: str
    title: str
    description: str
    domain: str
    owner: str
    groups: list[str] = field(default_factory=list)
    version: int = 1
    published_at: float = 0.0

    def visible_to(self, user: dict) -> bool:
        """Whether a hub user (model with ``name``, ``admin``, ``groups``) may open it."""
        return self.changeable_by(user) or bool(set(user.get("groups") or ()) & set(self.groups))

    def changeable_by(self, user: dict) -> bool:
        return bool(user.get("admin")) or user.get("name") == self.owner

    def as_json(self) -> dict:
        return asdict(self)


class DashboardRegistry:
    """The published dashboards of one platform, in ``folder``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        (self.folder / "notebooks").mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "dashboards.sqlite"
        with closing(self._connect()) as connection, connection:
            connection.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.row_factory = sqlite3.Row
        return connection

    # --- reading ---------------------------------------------------------------------------------
    def all(self) -> list[Dashboard]:
        with closing(self._connect()) as connection:
            rows = connection.execute("SELECT * FROM dashboards ORDER BY domain, title").fetchall()
        return [_dashboard(row) for row in rows]

    def get(self, slug: str) -> Dashboard | None:
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT * FROM dashboards WHERE slug = ?", (slug,)).fetchone()
        return _dashboard(row) if row else None

    def notebook_path(self, dashboard: Dashboard) -> Path:
        return self.folder / "notebooks" / dashboard.slug / f"v{dashboard.version}.ipynb"

    # --- changing --------------------------------------------------------------------------------
    def publish(
        self,
        slug: str,
        notebook: dict | str,
        *,
        title: str,
        owner: str,
        groups: list[str],
        description: str = "",
        domain: str = "other",
    ) -> Dashboard:
        """Publish (or republish) ``slug``; the caller has checked the owner may do so."""
        _check_fields(slug, title, groups, domain)
        content = _checked_notebook(notebook)
        existing = self.get(slug)
        # never reuse a number, even after an unpublish: Voila's preheated kernels are keyed by
        # path and would otherwise serve the old notebook under the new one's name
        version = max([existing.version if existing else 0, *self._file_versions(slug)]) + 1
        target = self.folder / "notebooks" / slug / f"v{version}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_suffix(".writing")
        staging.write_text(content)
        staging.replace(target)
        dashboard = Dashboard(
            slug=slug,
            title=title.strip(),
            description=description.strip(),
            domain=domain,
            owner=existing.owner if existing else owner,
            groups=sorted(set(groups)),
            version=version,
            published_at=time.time(),
        )
        with closing(self._connect()) as connection, connection:
            connection.execute(
                "INSERT OR REPLACE INTO dashboards VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dashboard.slug,
                    dashboard.title,
                    dashboard.description,
                    dashboard.domain,
                    dashboard.owner,
                    json.dumps(dashboard.groups),
                    dashboard.version,
                    dashboard.published_at,
                ),
            )
        self._prune(slug, version)
        return dashboard

    def unpublish(self, slug: str) -> None:
        with closing(self._connect()) as connection, connection:
            connection.execute("DELETE FROM dashboards WHERE slug = ?", (slug,))

    def _file_versions(self, slug: str) -> list[int]:
        names = (path.stem[1:] for path in (self.folder / "notebooks" / slug).glob("v*.ipynb"))
        return [int(name) for name in names if name.isdigit()]

    def _prune(self, slug: str, current: int) -> None:
        for old in (self.folder / "notebooks" / slug).glob("v*.ipynb"):
            number = old.stem[1:]
            if number.isdigit() and int(number) <= current - KEPT_VERSIONS:
                old.unlink(missing_ok=True)


def _dashboard(row: sqlite3.Row) -> Dashboard:
    values = dict(row)
    values["groups"] = json.loads(values["groups"])
    return Dashboard(**values)


def _check_fields(slug: str, title: str, groups: list[str], domain: str) -> None:
    if not SLUG.match(slug or ""):
        raise PublishError(
            f"dashboard name {slug!r} is not allowed: use 2 to 63 lowercase letters, digits and "
            "dashes, starting with a letter (it becomes part of the URL)."
        )
    if not (title or "").strip():
        raise PublishError("a dashboard needs a title: give one (it is shown in the gallery).")
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise PublishError('groups must be a list of group names, e.g. ["dt-users"].')
    if domain not in DOMAINS:
        raise PublishError(f"domain {domain!r} is not one of {', '.join(DOMAINS)}.")


def _checked_notebook(notebook: dict | str) -> str:
    """The notebook as text, after nbformat's own validation; PublishError if it is not one."""
    text = notebook if isinstance(notebook, str) else json.dumps(notebook)
    if len(text.encode()) > MAX_NOTEBOOK_BYTES:
        raise PublishError(
            f"the notebook is {len(text.encode()) / 1024**2:.1f} MB, more than the "
            f"{MAX_NOTEBOOK_BYTES // 1024**2} MB a dashboard may be: clear its outputs."
        )
    try:
        parsed = nbformat.reads(text, as_version=4)
        nbformat.validate(parsed)
    except Exception as error:  # nbformat raises several types for malformed input
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PublishError(f"this is not a valid Jupyter notebook: {reason}") from None
    return nbformat.writes(parsed)
