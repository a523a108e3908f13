"""Writing images: integer data -> 8-bit pixels, sample grids, upscaling, atomic PNG files.

Pictures meant for a person (sample grids, completions, textures, heatmaps) are upscaled by an
integer factor, nearest neighbour, so that a 28x28 digit is not a thumbnail: ``default_scale``
is the one rule that picks the factor, ``picture_scale`` checks a chosen one.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from autoreg.atomic import atomic_write, check_writable
from autoreg.memory import check_picture
from autoreg.validation import check_count

MIN_WIDTH = 256  # pixels: default pictures are upscaled to at least this width
PAD = 2  # pixels between and around the tiles of a grid


def to_uint8(images: np.ndarray, levels: int) -> np.ndarray:
    """Integers 0..K-1 -> uint8 0..255 (0 -> 0, K-1 -> 255, rounded in between)."""
    return np.round(np.asarray(images, np.float64) * 255.0 / (levels - 1)).astype(np.uint8)


def to_rgb(images: np.ndarray, levels: int) -> np.ndarray:
    """(..., H, W, C) integers in 0..K-1, C in {1, 3} -> (..., H, W, 3) uint8 for display."""
    scaled = to_uint8(images, levels)
    return np.repeat(scaled, 3, axis=-1) if scaled.shape[-1] == 1 else scaled


def grid_shape(count: int, tile_shape: tuple, columns: int | None = None, pad: int = PAD) -> tuple:
    """(height, width, C) of ``make_grid`` for ``count`` tiles of ``tile_shape`` (h, w, C)."""
    h, w, c = tile_shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    return rows * (h + pad) + pad, columns * (w + pad) + pad, c


def make_grid(images: np.ndarray, columns: int | None = None, pad: int = PAD, fill: int = 255):
    """Tile (N, H, W, C) uint8 images into one (rows*(H+pad)+pad, ...) image, row-major."""
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    grid = np.full(grid_shape(n, (h, w, c), columns, pad), fill, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = image
    return grid


def default_scale(width: int) -> int:
    """The integer factor that makes a picture ``width`` pixels wide at least ``MIN_WIDTH``
    wide (1 when it already is): 3 for the 122-pixel grid of 16 MNIST digits."""
    return max(1, math.ceil(MIN_WIDTH / max(int(width), 1)))


def check_scale(scale, width: int) -> int:
    """``scale``, or ``default_scale(width)`` when None; a ValueError unless a positive int."""
    return check_count(default_scale(width) if scale is None else scale, "scale")


def picture_scale(shape: tuple, scale: int | None = None, what: str = "the picture") -> int:
    """The factor to upscale a picture of ``shape`` (H, W[, C]) by, checked before any work.

    Args:
      shape: the picture's native shape.
      scale: a positive integer, or None for ``default_scale`` of its width.
      what: the picture, for the message.

    Raises:
      InputError: a scale that is not a positive integer, or an upscaled picture that would not
        fit in memory (``autoreg.errors.MemoryBudgetError``).
    """
    scale = check_scale(scale, shape[1])
    channels = shape[2] if len(shape) > 2 else 1
    check_picture((shape[0] * scale, shape[1] * scale, channels), what)
    return scale


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """(H, W[, C]) -> (H * scale, W * scale[, C]), each pixel a ``scale x scale`` block."""
    return image if scale == 1 else image.repeat(scale, axis=0).repeat(scale, axis=1)


def save_png(image: np.ndarray, path) -> Path:
    """Write an (H, W, 1|3) or (H, W) uint8 image as PNG, atomically, at its native size."""
    image = np.asarray(image, np.uint8)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return atomic_write(check_writable(path), lambda t: Image.fromarray(image).save(t, "PNG"))


def save_picture(image: np.ndarray, path, scale: int | None = None) -> Path:
    """Write an (H, W[, C]) uint8 picture as PNG, upscaled by ``scale`` (default
    ``default_scale`` of its width; 1 for the native size)."""
    image = np.asarray(image, np.uint8)
    return save_png(upscale(image, picture_scale(image.shape, scale)), path)


def save_grid(
    images: np.ndarray, levels: int, path, columns: int | None = None, scale: int | None = None
) -> Path:
    """Write integer images (N, H, W, C) in 0..K-1 as one PNG grid, upscaled as
    ``save_picture`` does."""
    return save_picture(make_grid(to_uint8(images, levels), columns), path, scale)


def completion_grid(images, completions, observed, levels: int) -> np.ndarray:
    """The grid of ``autoreg complete``: per input a row of the occluded input (hidden pixels
    magenta), its completions, and the original.

    Args:
      images: (N, H, W, C) integer originals in 0..levels-1.
      completions: (N, M, H, W, C) integer completions.
      observed: (H, W) bool, the pixels that were kept.

    Returns:
      (N * (H + pad) + pad, (M + 2) * (W + pad) + pad, 3) uint8.
    """
    n, m, height, width, _ = completions.shape
    originals = to_rgb(images, levels)  # (N, H, W, 3)
    occluded = originals.copy()
    occluded[:, ~observed] = (255, 0, 255)
    rows = [occluded[:, None], to_rgb(completions, levels), originals[:, None]]
    tiles = np.concatenate(rows, axis=1).reshape(-1, height, width, 3)
    return make_grid(tiles, columns=m + 2)
