"""The Likelihood tab: bits/dim of one image under several models, and where the bits go."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from autoreg.heatmap import bits_per_position, colour_map
from autoreg.image_io import to_rgb, upscale
from autoreg.likelihood import log_prob

HEATMAP_WIDTH = 224  # pixels: each heatmap is upscaled to about this width


@dataclass(frozen=True)
class Likelihood:
    """One model's view of an image."""

    name: str
    bits: np.ndarray  # (H, W) bits per pixel (channels summed); they add up to -log2 p(x)
    bits_per_dim: float
    label: int | None  # the class used for a class-conditional model
    seconds: float


def best_label(model, image: np.ndarray) -> int:
    """The class under which a class-conditional model finds ``image`` (H, W, C) most likely."""
    labels = np.arange(model.num_classes, dtype=np.int32)
    x = np.repeat(image[None], len(labels), axis=0)
    return int(np.argmax(np.asarray(log_prob(model, x, labels))))


def image_likelihood(name: str, model, image: np.ndarray, *, label: int | None = None):
    """Per-pixel bits and bits/dim of ``image`` under ``model``.

    Args:
      name: the model's name on the page.
      model: an image model.
      image: (H, W, C) integers in 0..K-1 of the model's shape.
      label: the class for a class-conditional model; None picks the most likely class.

    Returns:
      A ``Likelihood``.

    Raises:
      InputError: an image of another shape or range, a bad label, or one over the memory limit.
    """
    start = time.perf_counter()
    if model.num_classes:
        label = best_label(model, image) if label is None else int(label)
    else:
        label = None
    labels = None if label is None else np.array([label], np.int32)
    bits = bits_per_position(model, image[None], labels)[0]  # (H, W)
    bits_per_dim = float(bits.sum()) / image.size
    return Likelihood(name, bits, bits_per_dim, label, time.perf_counter() - start)


def heatmap_tiles(image: np.ndarray, results: list[Likelihood], levels: int):
    """The pictures of the tab on one colour scale: the image, then one heatmap per model.

    Args:
      image: (H, W, C) integers in 0..levels-1.
      results: each model's ``Likelihood`` of it.
      levels: K, to show the image.

    Returns:
      (tiles, vmax): a list of (h, w, 3) uint8 pictures, upscaled to about ``HEATMAP_WIDTH``,
      and the bits at the bright end of the shared colour scale (dark is 0 bits).
    """
    vmax = max(float(r.bits.max()) for r in results) if results else 1.0
    scale = max(1, HEATMAP_WIDTH // image.shape[1])
    tiles = [upscale(to_rgb(image, levels), scale)]
    tiles += [upscale(colour_map(r.bits, vmax), scale) for r in results]
    return tiles, vmax
