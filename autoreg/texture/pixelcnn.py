"""Texture synthesis with a Gated PixelCNN: learn from random patches of ONE image, then sample
a canvas larger than the patches (a convolutional autoregressive model is size-agnostic)."""

from __future__ import annotations

import tempfile

import jax
import numpy as np
from flax import nnx

from autoreg.data.images import random_patches
from autoreg.errors import InputError
from autoreg.generate import sample
from autoreg.image_io import to_uint8
from autoreg.memory import texture_plan
from autoreg.registry import create_model, get_spec, make_config
from autoreg.texture.source import working_source
from autoreg.training import TrainConfig, train_arrays

# A small Gated PixelCNN: enough for stationary textures, trainable on a laptop CPU in minutes.
TEXTURE_MODEL = dict(features=32, num_layers=6, skip_channels=32, head_channels=64)
PATCH_SIZE = 32  # side of the training patches


def train_texture_model(
    source: np.ndarray,
    *,
    patch_size: int = PATCH_SIZE,
    steps: int = 1500,
    batch_size: int = 16,
    source_size: int | None = 128,
    seed: int = 0,
    workdir=None,
    progress: bool = True,
    name: str = "the example image",
):
    """Train a Gated PixelCNN (K = 256) on random ``patch_size`` patches of ``source``.

    Args:
      source: (H, W) or (H, W, C) uint8 texture.
      patch_size: side of the training patches.
      steps, batch_size: optimisation budget.
      source_size: downscale the source so its longer side is at most this (as Efros-Leung).
      seed: seed of the patches, the initialisation and the data order.
      workdir: where to keep checkpoints (default: a temporary directory).
      progress: show a progress bar while training.
      name: what to call ``source`` in messages (e.g. its file name).

    Returns:
      The trained model (its image_shape is the patch shape).

    Raises:
      InputError: a source that is not a uint8 image or is smaller than one patch.
    """
    image = np.asarray(source)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise InputError(f"source must be a uint8 (H, W) or (H, W, C) image, got {image.shape}")
    image = working_source(image, source_size)
    if min(image.shape[:2]) < patch_size:
        raise InputError(
            f"{name} ({image.shape[0]}x{image.shape[1]} after downscaling to at most "
            f"{source_size} px) is smaller than the {patch_size}px patch size; use a smaller "
            "patch size or a larger source size"
        )
    patches = random_patches([image], patch_size, steps * batch_size // 4 + batch_size, seed, name)
    model = create_model(
        "gated_pixelcnn", preset="reference", seed=seed, **texture_config_fields(patches.shape[1:])
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
        train_arrays(model, patches, workdir or scratch, config, progress=progress)
    return model


def texture_config_fields(patch_shape: tuple) -> dict:
    """The config fields of the texture model for (patch, patch, C) patches."""
    return dict(image_shape=tuple(patch_shape), levels=256, **TEXTURE_MODEL)


def check_texture_request(size, channels: int, patch_size: int = PATCH_SIZE, model=None):
    """(height, width) of a texture of ``size`` (n or (h, w)), checked before any training.

    Args:
      size: the texture's side, or (height, width).
      channels: C of the example image.
      patch_size: the training patches' side (when no ``model`` is given).
      model: the trained texture model, if there is one already.

    Raises:
      InputError: a size that is not positive, or a ``MemoryBudgetError`` for a canvas too
        large to sample.
    """
    height, width = (size, size) if isinstance(size, int | np.integer) else tuple(size)
    if min(height, width) < 1:
        raise InputError(f"size must be positive, got {size}")
    if model is not None:
        model_cls, config = type(model), model.config
    else:
        fields = texture_config_fields((patch_size, patch_size, channels))
        model_cls = get_spec("gated_pixelcnn").model_cls
        config = make_config("gated_pixelcnn", "reference", **fields)
    texture_plan(model_cls, config, int(height), int(width))
    return int(height), int(width)


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
      (h, w) or (h, w, C) uint8, as many axes as C dictates (C = 1 gives (h, w)); a model with
      K levels other than 256 has its values spread over 0..255.

    Raises:
      InputError: as ``check_texture_request``.
    """
    height, width = check_texture_request(size, model.config.image_shape[2], model=model)
    canvas = sample(resized(model, height, width), jax.random.key(seed), 1)[0]
    canvas = to_uint8(np.asarray(canvas), model.levels)
    return canvas[..., 0] if canvas.shape[-1] == 1 else canvas
