"""Writing images: integer data -> 8-bit pixels, sample grids, atomic PNG files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from autoreg.atomic import atomic_write


def to_uint8(images: np.ndarray, levels: int) -> np.ndarray:
    """Integers 0..K-1 -> uint8 0..255 (0 -> 0, K-1 -> 255, rounded in between)."""
    return np.round(np.asarray(images, np.float64) * 255.0 / (levels - 1)).astype(np.uint8)


def to_rgb(images: np.ndarray, levels: int) -> np.ndarray:
    """(..., H, W, C) integers in 0..K-1, C in {1, 3} -> (..., H, W, 3) uint8 for display."""
    scaled = to_uint8(images, levels)
    return np.repeat(scaled, 3, axis=-1) if scaled.shape[-1] == 1 else scaled


def make_grid(images: np.ndarray, columns: int | None = None, pad: int = 2, fill: int = 255):
    """Tile (N, H, W, C) uint8 images into one (rows*(H+pad)+pad, ...) image, row-major."""
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, c), fill, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = image
    return grid


def check_writable(path, suffixes: tuple = (".png",)) -> Path:
    """The output path, or a ValueError if its folder is missing or its suffix unsupported."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{path}: output must end in {' or '.join(suffixes)}")
    if not path.parent.resolve().is_dir():
        raise ValueError(f"{path}: folder {path.parent} does not exist")
    return path


def save_png(image: np.ndarray, path) -> Path:
    """Write an (H, W, 1|3) or (H, W) uint8 image as PNG, atomically."""
    image = np.asarray(image, np.uint8)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return atomic_write(check_writable(path), lambda t: Image.fromarray(image).save(t, "PNG"))


def save_grid(images: np.ndarray, levels: int, path, columns: int | None = None) -> Path:
    """Write integer images (N, H, W, C) in 0..K-1 as one PNG grid."""
    return save_png(make_grid(to_uint8(images, levels), columns), path)
