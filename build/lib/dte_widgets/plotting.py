"""Plots as images drawn in the kernel, so they render offline everywhere.

Interactive Bokeh plots inside ipywidgets need BokehJS and the jupyter_bokeh widget module in the
page: in Voila they come from cdn.bokeh.org, and in ``panel serve`` ipywidgets_bokeh fetches the
jupyter_bokeh module from unpkg.com (measured here; both fail on an air-gapped site). A figure
rendered to PNG in the kernel and shown in an ``ipywidgets.Image`` needs nothing but the core
widgets, which JupyterLab, Voila and ipywidgets_bokeh all bundle.

``PlotArea`` is the one place figures become pixels: it redraws through a function that fills
a matplotlib ``Figure`` (no pyplot, so no global state and no GUI backend) and keeps the PNG
bytes for tests and export. The picture is an ``<img>`` with a data URL and an ``alt`` text in
an ``HTML`` widget rather than an ``ipywidgets.Image``: Image has no alt text, and setting its
tooltip (the title attribute, the usual fallback) breaks its view in Voila ("Could not create a
view for model", ipywidgets 8.1.9).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["PlotArea", "render_png", "DPI"]

#: pixels per inch of every plot: sharp on high-density screens without heavy images
DPI = 96


def render_png(draw: Callable[[Figure], None], width: float = 7.0, height: float = 3.2) -> bytes:
    """PNG bytes of a figure ``width`` × ``height`` inches that ``draw(figure)`` fills."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


class PlotArea(widgets.VBox):
    """A plot shown as an image, described in words for screen readers (its ``alt`` text).

    ``show(draw, description)`` redraws; ``clear(message)`` shows a sentence instead (no data
    yet, an error). ``png`` holds the bytes on display ("" when cleared), ``description`` the
    words.
    """

    def __init__(self, width: float = 7.0, height: float = 3.2, **kwargs):
        self.size = (width, height)
        # Both stay children and are shown or hidden: a widget created before the page loaded
        # but first displayed later is unknown to ipywidgets_bokeh's page (``panel serve``)
        self.image = widgets.HTML(layout=widgets.Layout(display="none"))
        self.message = widgets.HTML()
        super().__init__([self.message, self.image], **kwargs)
        self.add_class("dte-plot")
        self.png = b""
        self.description = ""

    def show(self, draw: Callable[[Figure], None], description: str) -> None:
        self.png = render_png(draw, *self.size)
        self.description = description
        source = "data:image/png;base64," + base64.b64encode(self.png).decode()
        self.image.value = (
            f"<img src='{source}' alt='{html.escape(description, quote=True)}' "
            f"width='{int(self.size[0] * DPI)}' style='max-width: 100%; height: auto'>"
        )
        self.message.value = ""
        self.message.layout.display, self.image.layout.display = "none", ""

    def clear(self, message: str = "") -> None:
        self.png = b""
        self.description = message
        text = f"<p class='dte-plot-message'>{html.escape(message, quote=True)}</p>"
        self.message.value = text if message else ""
        self.message.layout.display, self.image.layout.display = "", "none"
        self.image.value = ""
