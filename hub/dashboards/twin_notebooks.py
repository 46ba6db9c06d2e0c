"""The twin notebooks every platform offers as dashboards: their names, files, domains, titles.

The dashboards service publishes them at its first start; JupyterLab's launcher offers them as
Voila dashboards where there is no hub (Binder). A notebook's title and description are its
first markdown cell's heading and first sentence, so they are written once, in the notebook.
"""

from __future__ import annotations

__all__ = ["TWIN_NOTEBOOKS", "title_and_description"]

#: dashboard name -> (notebook file in notebooks/, domain)
TWIN_NOTEBOOKS = {
    "flood": ("flood.ipynb", "environment"),
    "drought": ("drought.ipynb", "environment"),
    "detector-noise": ("detector_noise.ipynb", "physics"),
    "calorimeter": ("calorimeter.ipynb", "physics"),
}


def title_and_description(notebook) -> tuple[str, str]:
    """The first markdown cell's heading and the first sentence of its paragraph."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.strip().splitlines()
            title = lines[0].lstrip("# ").strip()
            paragraph = " ".join(line.strip() for line in lines[1:] if line.strip())
            return title, paragraph.split(". ")[0].rstrip(".") + "."
    return "Dashboard", ""
