"""``dte publish`` and ``dte unpublish``: the dashboards service's REST API from a terminal.

In a user server the address (``DTE_DASHBOARDS_URL``) and a token (``JUPYTERHUB_API_TOKEN``)
are already set; elsewhere pass ``--url`` (``http://host:8000/services/dashboards/``) and
``--token`` (from the hub's Token page).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import requests

__all__ = ["add_commands", "publish", "unpublish"]


def add_commands(commands) -> None:
    """Add the publish and unpublish sub-commands to the ``dte`` parser."""
    publishing = commands.add_parser("publish", help="publish a notebook as a dashboard")
    publishing.add_argument("notebook", type=Path)
    publishing.add_argument("--name", help="name in the URL (default: from the file name)")
    publishing.add_argument("--title", required=True)
    publishing.add_argument("--description", default="")
    publishing.add_argument(
        "--groups", default="dt-users", help="comma-separated groups that may open it"
    )
    publishing.add_argument("--domain", default="other", help="environment, physics or other")
    unpublishing = commands.add_parser("unpublish", help="remove a published dashboard")
    unpublishing.add_argument("name")
    for command in (publishing, unpublishing):
        command.add_argument("--url", default=os.environ.get("DTE_DASHBOARDS_URL", ""))
        command.add_argument("--token", default=os.environ.get("JUPYTERHUB_API_TOKEN", ""))


def _endpoint(args, name: str) -> tuple[str, dict]:
    if not args.url or not args.token:
        raise SystemExit(
            "dte: no dashboards address or token: run this in a terminal of your DTE Hub "
            "server, or pass --url http://HOST:8000/services/dashboards/ and --token TOKEN."
        )
    url = f"{args.url.rstrip('/')}/api/dashboards/{name}"
    return url, {"Authorization": f"token {args.token}"}


def _answer(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text[:200]}
    if response.status_code >= 400:
        raise SystemExit(f"dte: refused ({response.status_code}): {body.get('message', '')}")
    return body


def publish(args) -> int:
    try:
        notebook = json.loads(args.notebook.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"dte: cannot read {args.notebook}: {error}") from None
    name = args.name or args.notebook.stem.lower().replace("_", "-")
    url, headers = _endpoint(args, name)
    body = {
        "title": args.title,
        "description": args.description,
        "groups": [group.strip() for group in args.groups.split(",") if group.strip()],
        "domain": args.domain,
        "notebook": notebook,
    }
    dashboard = _answer(requests.put(url, json=body, headers=headers, timeout=60))
    print(
        f"Published {dashboard['slug']} version {dashboard['version']} for "
        f"{', '.join(dashboard['groups'])}: {args.url.rstrip('/')}/d/{dashboard['slug']}/"
    )
    return 0


def unpublish(args) -> int:
    url, headers = _endpoint(args, args.name)
    response = requests.delete(url, headers=headers, timeout=60)
    if response.status_code != 204:
        _answer(response)
    print(f"Unpublished {args.name}.")
    return 0
