"""Predict what happens next in a clip: futures sampled from a video model, or the nearest
neighbours' continuations.

With a model (``method="model"``), the first ``context`` frames are a prefix of the data order
(frames in time order, a raster scan within each frame), so ``autoreg.complete`` samples the
next ``frames`` frames given them EXACTLY, by ancestral sampling: each future is a draw from the
model's conditional distribution of the future given the past. The baseline
(``method="nearest"``) continues the observed frames as their nearest windows in a database of
clips did (``autoreg.video.nearest``, after Yuen & Torralba 2010).
"""

from __future__ import annotations

import numpy as np

from autoreg.errors import InputError
from autoreg.modalities import VIDEO
from autoreg.rules import one_of
from autoreg.validation import check_count

METHODS = ("model", "nearest")


def predict_futures(
    model,
    key,
    clip,
    *,
    context: int,
    frames: int,
    num: int = 1,
    method: str = "model",
    train_clips=None,
    temperature: float = 1.0,
    progress: bool = True,
) -> np.ndarray:
    """Sample ``num`` futures of ``frames`` frames after the first ``context`` frames of a clip.

    Args:
      model: a video model (of ``autoreg.modalities.VIDEO``); for ``"nearest"``, a model whose
        frame shape the clip must have, or None.
      key: a JAX PRNG key (or an int seed); unused by ``"nearest"``, which is deterministic.
      clip: (T, H, W, C) integers in 0..K-1 with T >= ``context``; frames after the first
        ``context`` are ignored.
      context: the observed frames, the first ``context`` of the clip.
      frames: frames to predict after them.
      num: futures to draw (``"nearest"``: the ``num`` nearest windows, nearest first).
      method: ``"model"`` (exact samples from the model) or ``"nearest"`` (nearest windows of
        ``train_clips``).
      train_clips: ``"nearest"``: (N, T', H, W, C) integer clips in the clip's value range
        (T' >= ``context + frames``), the database.
      temperature: ``"model"``: divides the logits; 1.0 samples the model exactly.
      progress: ``"model"``: show a progress bar when the futures run in several batches.

    Returns:
      (num, frames, H, W, C) int32 futures.

    Raises:
      InputError: an unknown method, a model that is not a video model, a clip that is not
        (T, H, W, C) or has fewer than ``context`` frames, frames of another shape than the
        model's, a non-positive count, ``train_clips`` missing for ``"nearest"`` or given for
        ``"model"``, or as for ``autoreg.complete`` and ``nearest_futures``.
      InputTypeError: ``train_clips`` that are not an integer array.

    Examples:
      >>> from autoreg.video.predict import predict_futures
      >>> train = np.random.default_rng(0).integers(0, 4, (3, 8, 4, 4, 1))
      >>> futures = predict_futures(None, 0, train[1, 2:5], context=3, frames=2, num=2,
      ...                           method="nearest", train_clips=train)
      >>> futures.shape  # (num, frames, H, W, C)
      (2, 2, 4, 4, 1)
      >>> bool((futures[0] == train[1, 5:7]).all())  # the clip itself went on so
      True
    """
    one_of(METHODS).check(method, "method")
    context, frames = check_count(context, "context"), check_count(frames, "frames")
    num = check_count(num, "num")
    clip = np.asarray(clip)
    if clip.ndim != 4:
        raise InputError(f"clip must be (T, H, W, C) frames, got shape {clip.shape}")
    if clip.shape[0] < context:
        raise InputError(f"context ({context}) is more than the clip's {clip.shape[0]} frames")
    if model is not None:
        _check_model(model, clip.shape[1:])
    observed = clip[:context]  # (context, H, W, C)
    if method == "nearest":
        from autoreg.video.nearest import nearest_futures

        if train_clips is None:
            raise InputError('method "nearest" needs train_clips (the database of clips)')
        found = nearest_futures(
            train_clips, _integers(observed)[None], frames=frames, num=num, context=context
        )
        return found.futures[0].astype(np.int32)  # (num, frames, H, W, C)
    if model is None:
        raise InputError('method "model" needs a video model')
    if train_clips is not None:
        raise InputError('train_clips are for method "nearest"; the model predicts alone')
    return _sample_futures(model, key, observed, frames, num, temperature, progress)


def _sample_futures(model, key, observed, frames, num, temperature, progress) -> np.ndarray:
    """(num, frames, H, W, C) exact samples of the frames after ``observed`` (context, H, W, C)."""
    from autoreg.generate import complete

    context = observed.shape[0]
    x = np.zeros((num, context + frames, *observed.shape[1:]), np.int32)  # (B, T, H, W, C)
    x[:, :context] = observed
    mask = np.zeros(x.shape, bool)
    mask[:, :context] = True  # a prefix of the data order: completed exactly
    out = complete(model, key, x, mask, temperature=temperature, method="exact", progress=progress)
    return np.asarray(out)[:, context:].astype(np.int32)


def _check_model(model, frame_shape: tuple) -> None:
    """An InputError unless ``model`` is a video model of frames ``frame_shape`` (H, W, C)."""
    found = getattr(model, "modality", None)
    if found is not VIDEO:
        name = getattr(model, "name", type(model).__name__)
        kind = getattr(found, "name", "unknown")
        article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
        raise InputError(f"{name} is {article} {kind} model; video prediction needs a video model")
    expected = tuple(model.config.image_shape)
    if tuple(frame_shape) != expected:
        raise InputError(f"the clip has frames of {tuple(frame_shape)}, the model {expected}")


def _integers(frames: np.ndarray) -> np.ndarray:
    """Integer frames as they are; others (bools, floats) refused with an InputError."""
    if frames.dtype == np.bool_ or not np.issubdtype(frames.dtype, np.integer):
        raise InputError(f"clip must hold integers, got dtype {frames.dtype}")
    return frames
