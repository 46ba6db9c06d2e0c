"""The notebooks (the twins' and the widgets' reference notebooks) run under nbval
(``make test``) in kernels started from this process: they get a catalog cache, a personal
catalog and a run registry of their own, and no gateway, so a test run touches nothing of the
user's and needs no platform."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_folder = Path(tempfile.mkdtemp(prefix="dte-reference-notebooks-"))
atexit.register(shutil.rmtree, _folder, ignore_errors=True)
os.environ.update(
    DTE_CATALOG_CACHE=str(_folder / "catalog"),
    DTE_PERSONAL_CATALOG=str(_folder / "mine"),
    DTE_RUN_REGISTRY=str(_folder / "runs.sqlite"),
    MPLBACKEND="agg",
)
for variable in ("DTE_CATALOG_SHARED", "DASK_GATEWAY__ADDRESS", "DTE_LIVE_URL"):
    os.environ.pop(variable, None)
