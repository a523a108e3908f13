"""The Sample tab: draw images from a model and report each one's bits/dim and the time."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jax
import numpy as np

from autoreg.demo.inputs import batch_labels
from autoreg.errors import InputError
from autoreg.generate import sample
from autoreg.image_io import make_grid, picture_scale, to_rgb, upscale
from autoreg.likelihood import log_prob, nats_to_bits_per_dim

MAX_COUNT = 64  # samples one request may ask for (the page's slider stops at 16)
DEFAULT_COUNT = 16  # the page's default request


@dataclass(frozen=True)
class Samples:
    """What the Sample tab shows."""

    images: np.ndarray  # (N, H, W, C) integers in 0..K-1
    grid: np.ndarray  # (h, w, 3) uint8: the samples tiled and upscaled
    bits_per_dim: list[float]  # of each sample under the model
    seconds: float  # sampling time (compilation included on the first call)


def sample_grid(
    model,
    *,
    count: int = DEFAULT_COUNT,
    temperature: float = 1.0,
    seed: int = 0,
    label: int | None = None,
) -> Samples:
    """Draw ``count`` samples of an image model and score them.

    Args:
      model: an image model.
      count: how many samples, 1..``MAX_COUNT``.
      temperature: divides the logits (1 samples the model exactly).
      seed: the PRNG seed.
      label: the class of a class-conditional model (ignored by an unconditional one).

    Returns:
      The samples, their upscaled grid, each sample's bits/dim and the sampling time.

    Raises:
      InputError: a count outside 1..MAX_COUNT, a bad temperature or label, or a request over
        the memory limit (``autoreg.errors.MemoryBudgetError``).
    """
    count = int(count)
    if not 1 <= count <= MAX_COUNT:
        raise InputError(f"count must be in 1..{MAX_COUNT}, got {count}")
    labels = batch_labels(model, label, count)
    start = time.perf_counter()
    images = np.asarray(
        sample(
            model,
            jax.random.key(int(seed)),
            count,
            temperature=float(temperature),
            labels=labels,
            progress=False,
        )
    )
    seconds = time.perf_counter() - start
    nats = -np.asarray(log_prob(model, images, labels), np.float64)  # (N,)
    bits = nats_to_bits_per_dim(nats, int(np.prod(images.shape[1:])))
    grid = make_grid(to_rgb(images, model.levels))
    grid = upscale(grid, picture_scale(grid.shape))
    return Samples(images, grid, [round(float(b), 4) for b in np.atleast_1d(bits)], seconds)
