"""matplotlib figures as pixels: an Agg canvas per figure, never pyplot's global state.

The figures of the project (spectrograms, likelihood heatmaps) are ``matplotlib.figure.Figure``
objects drawn on their own ``FigureCanvasAgg``; ``figure_pixels`` renders one to an (H, W, 3)
uint8 array, which ``autoreg.image_io.save_png`` writes atomically. matplotlib is imported
inside the functions, so that ``import autoreg`` stays light.
"""

from __future__ import annotations

import numpy as np

DPI = 100  # pixels per inch: a figure of width_px pixels is width_px / DPI inches wide


def new_figure(width_px: int, height_px: int, layout: str | None = "constrained"):
    """An empty white ``Figure`` of ``width_px x height_px`` pixels on its own Agg canvas.

    Args:
      width_px: width in pixels.
      height_px: height in pixels.
      layout: matplotlib's layout engine: "constrained" (labels never overlap) or None
        (axes placed by hand, in figure fractions).

    Returns:
      A ``matplotlib.figure.Figure``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    size = (width_px / DPI, height_px / DPI)
    figure = Figure(figsize=size, dpi=DPI, layout=layout, facecolor="white")
    FigureCanvasAgg(figure)  # becomes figure.canvas
    return figure


def figure_pixels(figure) -> np.ndarray:
    """Draw ``figure`` (from ``new_figure``) and return its (H, W, 3) uint8 RGB pixels."""
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()
