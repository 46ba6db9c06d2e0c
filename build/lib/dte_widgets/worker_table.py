"""The workers of a Dask cluster as an HTML table: name, address, threads, memory used of its
limit and tasks processing, from the scheduler's ``scheduler_info()`` and ``processing()``."""

from __future__ import annotations

from dte_widgets.markup import escape as _escape


def _worker_row(address: str, worker: dict, processing: int) -> dict:
    from dask.utils import format_bytes

    limit = worker.get("memory_limit") or 0
    used = worker.get("metrics", {}).get("memory", 0)
    return {
        "name": str(worker.get("name", address)),
        "address": address,
        "threads": worker.get("nthreads", 0),
        "memory": f"{format_bytes(used)} / {format_bytes(limit) if limit else 'no limit'}",
        "processing": processing,
    }


def _workers_table(rows: list[dict]) -> str:
    if not rows:
        return "<p class='dte-compute-workers'>No workers yet.</p>"
    head = "".join(
        f'<th scope="col">{label}</th>'
        for label in ("Worker", "Address", "Threads", "Memory used / limit", "Tasks processing")
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{_escape(str(row[key]))}</td>" for key in row) + "</tr>"
        for row in rows
    )
    return (
        "<table class='dte-compute-workers'><caption>Workers</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
