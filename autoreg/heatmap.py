"""Likelihood heatmaps: the bits a model spends on each pixel, drawn next to the image.

``bits_per_position`` splits ``-log2 p(x)`` over pixels (summing the channels of a pixel), so
the per-pixel bits of an image add up to its total code length; ``render_heatmap`` writes a PNG
with one row per image: the image, its heatmap on a shared colour scale (matplotlib's
``inferno``), and a colour bar with numbered ticks in bits, drawn by matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autoreg.errors import InputError
from autoreg.figures import figure_pixels, new_figure
from autoreg.image_io import check_scale, check_writable, save_png, to_rgb
from autoreg.likelihood import log_prob_per_position, nats_to_bits_per_dim
from autoreg.memory import check_picture, evaluation_batch
from autoreg.models.functional import logits as model_logits
from autoreg.validation import check_data, check_labels, check_some_examples

COLOUR_MAP = "inferno"  # matplotlib's: low bits dark, high bits bright

# Layout of the figure, in pixels: the gap around tiles, the colour bar, the room for its tick
# labels and its "bits" label, and the bar's margin above and below (room for the end labels).
GAP, BAR_WIDTH, LABEL_WIDTH, BAR_MARGIN = 4, 12, 72, 8
FONT_SIZE = 9  # points, of the colour bar's labels


def bits_per_position(model, x, labels=None) -> np.ndarray:
    """Bits ``-log2 p(x_i | x_<i)`` the model spends on each pixel, summed over its channels.

    Args:
      model: a registry model.
      x: (B, H, W, C) images of integers in 0..K-1 (audio: (B, T)).
      labels: (B,) class labels for class-conditional models, else None.

    Returns:
      (B, H, W) float32 bits per pixel (audio: (B, T) bits per step); the sum over an image is
      ``-log2 p(x)``, i.e. ``-autoreg.log_prob(model, x) / ln 2``.

    Raises:
      InputError: as for ``autoreg.log_prob``, or ``MemoryBudgetError`` when not even one
        example's forward pass fits in memory (more examples run in batches).
    """
    x = check_data(model, x)
    labels = check_labels(model, labels, x.shape[0])
    check_some_examples(x)
    batch = evaluation_batch(model, len(x), x.shape[1:], len(x))
    picked = []
    for start in range(0, len(x), batch):
        rows = slice(start, start + batch)
        logits = model_logits(model, x[rows], None if labels is None else labels[rows])
        picked.append(np.asarray(log_prob_per_position(logits, x[rows]), np.float64))  # (b, *event)
    bits = nats_to_bits_per_dim(-np.concatenate(picked), 1)  # (B, *event): bits per position
    if bits.ndim == 4:
        bits = bits.sum(-1)  # (B, H, W)
    return bits.astype(np.float32)


def colour_map(values: np.ndarray, vmax: float) -> np.ndarray:
    """Values in [0, vmax] (clipped) -> (..., 3) uint8 RGB of matplotlib's ``inferno``.

    Examples:
      >>> colour_map(np.array([0.0, 2.0]), vmax=2.0).tolist()
      [[0, 0, 3], [252, 254, 164]]
    """
    from matplotlib import colormaps

    t = np.clip(np.asarray(values, np.float64) / max(vmax, 1e-12), 0.0, 1.0)
    return colormaps[COLOUR_MAP](t, bytes=True)[..., :3]


def render_heatmap(
    images,
    bits,
    path,
    *,
    levels: int = 256,
    scale: int | None = None,
    vmax: float | None = None,
) -> Path:
    """Write a PNG: per image one row of (image, per-pixel bits heatmap), and a colour bar.

    All heatmaps share one colour scale (``inferno``), from 0 bits (dark) to ``vmax``
    (bright); the colour bar on the right, drawn by matplotlib, has numbered ticks and the
    label "bits". Written atomically (temporary file, then rename).

    Args:
      images: (B, H, W) or (B, H, W, C) integers in 0..levels-1, C = 1 or 3.
      bits: (B, H, W) bits per pixel, e.g. from ``bits_per_position``.
      path: output .png path; its folder must exist.
      levels: K, the number of values per channel (to scale the images to 0..255).
      scale: integer upscaling of each pixel (default: ``heatmap_scale``'s, so that an image
        and its heatmap side by side are at least ``autoreg.image_io.MIN_WIDTH`` wide).
      vmax: bits at the top of the colour scale (default: the largest value in ``bits``).

    Returns:
      The path written.

    Raises:
      InputError: shapes that do not match, values out of range, a bad scale or vmax, or a
        path that is not a .png in an existing, writable folder.
    """
    images, bits = _check_images_and_bits(images, bits, levels)  # (B, H, W, C), (B, H, W)
    scale = heatmap_scale(*images.shape[:3], scale)
    vmax = _check_vmax(vmax, bits)
    path = check_writable(path)
    return save_png(figure_pixels(heatmap_figure(images, bits, levels, scale, vmax)), path)


def heatmap_figure(images, bits, levels: int, scale: int, vmax: float):
    """The matplotlib ``Figure`` of ``render_heatmap``: the tiles, pixel for pixel, and a bar.

    Args:
      images: (B, H, W, C) integers in 0..levels-1, C = 1 or 3 (checked).
      bits: (B, H, W) non-negative bits per pixel.
      levels: K, the number of values per channel.
      scale: integer upscaling of each pixel.
      vmax: bits at the top of the colour scale.

    Returns:
      A ``matplotlib.figure.Figure`` of ``figure_shape`` pixels: ``lay_out_heatmaps`` at its
      top left, unresampled, and ``fig.axes[0]``, the colour bar labelled "bits".
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    tiles = lay_out_heatmaps(images, bits, levels, scale, vmax)  # (height, tiles_w, 3)
    height, width, _ = figure_shape(*images.shape[:3], scale)
    figure = new_figure(width, height, layout=None)
    figure.figimage(tiles, xo=0, yo=0, origin="upper")  # exact pixels, no resampling
    left, bottom = tiles.shape[1] / width, min(BAR_MARGIN, height // 4) / height
    bar = figure.add_axes((left, bottom, BAR_WIDTH / width, 1 - 2 * bottom))
    mappable = ScalarMappable(Normalize(0.0, vmax), COLOUR_MAP)
    colour_bar = figure.colorbar(mappable, cax=bar)
    colour_bar.set_label("bits", fontsize=FONT_SIZE, labelpad=2)
    bar.tick_params(labelsize=FONT_SIZE, length=3, pad=2)
    return figure


def lay_out_heatmaps(images, bits, levels: int, scale: int, vmax: float) -> np.ndarray:
    """The tiles of the figure: per image a row (image, heatmap), on white.

    Args:
      images: (B, H, W, C) integers in 0..levels-1, C = 1 or 3.
      bits: (B, H, W) non-negative bits per pixel.
      levels: K, the number of values per channel.
      scale: integer upscaling of each pixel.
      vmax: bits at the top of the colour scale.

    Returns:
      (B * (H * scale + GAP) + GAP, 2 * W * scale + 3 * GAP, 3) uint8 RGB.
    """
    b, h, w, _ = images.shape
    tile_h, tile_w = h * scale, w * scale
    height = b * tile_h + (b + 1) * GAP
    canvas = np.full((height, 2 * tile_w + 3 * GAP, 3), 255, np.uint8)  # (height, width, RGB)
    pictures = to_rgb(images, levels).repeat(scale, 1).repeat(scale, 2)  # (B, h*s, w*s, 3)
    heat = colour_map(bits, vmax).repeat(scale, 1).repeat(scale, 2)  # (B, h*s, w*s, 3)
    for i in range(b):
        top = GAP + i * (tile_h + GAP)
        canvas[top : top + tile_h, GAP : GAP + tile_w] = pictures[i]
        canvas[top : top + tile_h, 2 * GAP + tile_w : 2 * GAP + 2 * tile_w] = heat[i]
    return canvas


def _check_images_and_bits(images, bits, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Check ``render_heatmap``'s data; return (B, H, W, C) images and (B, H, W) float64 bits."""
    images = np.asarray(images)
    bits = np.asarray(bits, np.float64)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise InputError(f"images must be (B, H, W) or (B, H, W, C) with C 1 or 3: {images.shape}")
    if bits.shape != images.shape[:3]:
        raise InputError(f"bits must have shape {images.shape[:3]} (B, H, W), got {bits.shape}")
    if not np.issubdtype(images.dtype, np.integer) or images.dtype == np.bool_:
        raise InputError(f"images must hold integers 0..{levels - 1}, got dtype {images.dtype}")
    if images.size and (images.min() < 0 or images.max() >= levels):
        raise InputError(f"images have values outside 0..{levels - 1}")
    if not np.isfinite(bits).all() or (bits < 0).any():
        raise InputError("bits must be finite and non-negative")
    if images.shape[0] == 0:
        raise InputError("no images to render")
    return images, bits


def figure_shape(count: int, height: int, width: int, scale: int) -> tuple[int, int, int]:
    """(height, width, 3) of the figure of ``count`` images of ``height x width`` pixels."""
    tile_h, tile_w = height * scale, width * scale
    return count * tile_h + (count + 1) * GAP, 2 * tile_w + 3 * GAP + BAR_WIDTH + LABEL_WIDTH, 3


def heatmap_scale(count: int, height: int, width: int, scale: int | None = None) -> int:
    """The pixel upscaling of a heatmap figure of ``count`` images, checked before any work.

    Args:
      count, height, width: the images the figure shows.
      scale: a positive integer, or None: ``autoreg.image_io.default_scale`` of an image and
        its heatmap side by side (``2 * width``).

    Raises:
      InputError: a scale that is not a positive integer, or a figure too large for memory.
    """
    scale = check_scale(scale, 2 * width)
    check_picture(figure_shape(count, height, width, scale), "the heatmap")
    return scale


def _check_vmax(vmax, bits: np.ndarray) -> float:
    """Fill in (the largest bits) and check ``render_heatmap``'s vmax."""
    if vmax is None:
        vmax = float(bits.max()) if bits.max() > 0 else 1.0
    if not (isinstance(vmax, int | float) and vmax > 0):
        raise InputError(f"vmax must be a positive number, got {vmax!r}")
    return vmax
