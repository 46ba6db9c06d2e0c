"""Scheduler preload for gateway clusters: dask-gateway's own, then the initial workers.

The number comes from ``DTE_INITIAL_WORKERS``, set per cluster from the user's cluster options
by the gateway's options handler (``hub/dask_gateway_config.py``).
"""

import asyncio
import os

import click
from dask_gateway import scheduler_preload as _gateway_preload


def _setup_then_scale(scheduler, **options):
    _gateway_preload.dask_setup.callback(scheduler, **options)
    workers = int(os.environ.get("DTE_INITIAL_WORKERS", "0") or 0)
    if workers > 0:
        service = scheduler.services["gateway"]
        # Keep a reference: a task nobody holds may be collected before it runs.
        service.initial_scale = asyncio.ensure_future(service.scale(workers))


dask_setup = click.Command(
    "dask_setup", params=_gateway_preload.dask_setup.params, callback=_setup_then_scale
)
