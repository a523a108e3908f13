"""Texture synthesis with a Gated PixelCNN: learn from random patches of ONE image, then sample
a canvas larger than the patches (a convolutional autoregressive model is size-agnostic)."""

from __future__ import annotations

import tempfile

import jax
import numpy as np
from flax import nnx

from autoreg.data.images import random_patches
from autoreg.generate import sample
from autoreg.registry import create_model
from autoreg.texture.source import downscale
from autoreg.train import TrainConfig, train

# A small Gated PixelCNN: enough for stationary textures, trainable on a laptop CPU in minutes.
TEXTURE_MODEL = dict(features=32, num_layers=6, skip_channels=32, head_channels=64)


def train_texture_model(
    source: np.ndarray,
    *,
    patch_size: int = 32,
    steps: int = 1500,
    batch_size: int = 16,
    source_size: int | None = 128,
    seed: int = 0,
    workdir=None,
    progress: bool = True,
):
    """Train a Gated PixelCNN (K = 256) on random ``patch_size`` patches of ``source``.

    Args:
      source: (H, W) or (H, W, C) uint8 texture.
      patch_size: side of the training patches.
      steps, batch_size: optimisation budget.
      source_size: downscale the source so its longer side is at most this (as Efros-Leung).
      seed: seed of the patches, the initialisation and the data order.
      workdir: where to keep checkpoints (default: a temporary directory).

    Returns:
      The trained model (its image_shape is the patch shape).
    """
    image = np.asarray(source)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"source must be a uint8 (H, W) or (H, W, C) image, got {image.shape}")
    image = downscale(image if image.ndim == 3 else image[..., None], source_size)
    patches = random_patches([image], patch_size, steps * batch_size // 4 + batch_size, seed, "")
    model = create_model(
        "gated_pixelcnn",
        preset="reference",
        image_shape=patches.shape[1:],
        seed=seed,
        **TEXTURE_MODEL,
    )
    config = TrainConfig(
        steps=steps,
        batch_size=batch_size,
        learning_rate=2e-3,
        warmup_steps=50,
        eval_every=0,
        sample_every=-1,
        checkpoint_every=steps,
        seed=seed,
    )
    with tempfile.TemporaryDirectory() as scratch:
        train(model, patches, workdir or scratch, config, progress=progress)
    return model


def resized(model, height: int, width: int):
    """The same trained parameters in a model for (height, width) images."""
    _, _, channels = model.config.image_shape
    bigger = create_model(
        model.name,
        preset="reference",
        levels=model.levels,
        image_shape=(height, width, channels),
        **{k: v for k, v in vars(model.config).items() if k not in ("levels", "image_shape")},
    )
    nnx.update(bigger, nnx.state(model, nnx.Param))
    return bigger


def pixelcnn_texture(model, size: int | tuple[int, int], *, seed: int = 0) -> np.ndarray:
    """Sample an uint8 texture of ``size`` (n or (h, w)) from a texture model of any patch size.

    Returns:
      (h, w) or (h, w, C) uint8, as many axes as C dictates (C = 1 gives (h, w)).
    """
    height, width = (size, size) if isinstance(size, int) else size
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size}")
    canvas = sample(resized(model, height, width), jax.random.key(seed), 1)[0]
    canvas = np.asarray(canvas, np.uint8)
    return canvas[..., 0] if canvas.shape[-1] == 1 else canvas
