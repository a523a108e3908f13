"""The Texture tab: Efros-Leung and a small PixelCNN trained on the example, side by side.

Small defaults keep a request to about a minute on a laptop's CPU (``autoreg texture`` uses
larger ones: a 96 px texture, 1500 training steps of 32 px patches).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autoreg.errors import InputError
from autoreg.texture import (
    check_texture_request,
    efros_leung,
    pixelcnn_texture,
    train_texture_model,
)

MAX_SIZE = 128  # texture side one request may ask for
MAX_STEPS = 3000  # PixelCNN training steps one request may ask for
SOURCE_SIZE = 64  # the example is downscaled so that its longer side is at most this


@dataclass(frozen=True)
class Textures:
    """What the Texture tab shows."""

    efros_leung: np.ndarray  # (size, size[, C]) uint8
    pixelcnn: np.ndarray  # (size, size[, C]) uint8
    seconds: dict[str, float]  # per method (PixelCNN: training and sampling)


def synthesise_textures(
    source: np.ndarray,
    *,
    size: int = 48,
    window: int = 9,
    steps: int = 200,
    patch_size: int = 16,
    seed: int = 0,
    report: Callable[[float, str], None] | None = None,
) -> Textures:
    """Both textures of one example image.

    Args:
      source: (H, W[, C]) uint8 example texture.
      size: the textures' side, 1..``MAX_SIZE``.
      window: Efros-Leung's odd neighbourhood side.
      steps: PixelCNN training steps, 1..``MAX_STEPS``.
      patch_size: PixelCNN training patch side.
      seed: seed of both methods.
      report: called with (fraction done, what runs now) before each stage.

    Returns:
      The two textures and their times.

    Raises:
      InputError: sizes out of range, a source smaller than a patch or a window, or a request
        over the memory limit (``autoreg.errors.MemoryBudgetError``).
    """
    size, steps, patch_size = int(size), int(steps), int(patch_size)
    if not 1 <= size <= MAX_SIZE:
        raise InputError(f"size must be in 1..{MAX_SIZE}, got {size}")
    if not 1 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be in 1..{MAX_STEPS}, got {steps}")
    source = np.asarray(source)
    channels = source.shape[2] if source.ndim == 3 else 1
    check_texture_request(size, channels, patch_size)
    report = report or (lambda fraction, what: None)
    seconds = {}
    report(0.0, "Efros-Leung")
    start = time.perf_counter()
    non_parametric = efros_leung(
        source, size, window=int(window), seed=int(seed), source_size=SOURCE_SIZE
    )
    seconds["efros_leung"] = time.perf_counter() - start
    report(0.3, "training the PixelCNN")
    start = time.perf_counter()
    model = train_texture_model(
        source, patch_size=patch_size, steps=steps, source_size=SOURCE_SIZE, seed=int(seed)
    )
    seconds["pixelcnn_training"] = time.perf_counter() - start
    report(0.9, "sampling the PixelCNN")
    start = time.perf_counter()
    parametric = pixelcnn_texture(model, size, seed=int(seed))
    seconds["pixelcnn_sampling"] = time.perf_counter() - start
    return Textures(non_parametric, parametric, seconds)
