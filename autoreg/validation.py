"""Checks on user data, shared by the likelihood, the sampler and the evaluator."""

from __future__ import annotations

import math

import numpy as np


def check_data(model, x, *, what: str = "x") -> np.ndarray:
    """Validate integer data for ``model`` and return it as an int32 NumPy array.

    Raises:
      ValueError: a float or bool dtype, the wrong rank or shape, or values outside 0..K-1.
    """
    x = np.asarray(x)
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(
            f"{what} must hold integers 0..{model.levels - 1}, got dtype {x.dtype} "
            "(quantise floats first, e.g. np.uint8 images)"
        )
    expected = model.event_shape(None if model.fixed_shape else 1)
    if x.ndim != len(expected) + 1:
        raise ValueError(
            f"{what} must have rank {len(expected) + 1} (batch, {', '.join(_axis_names(model))}), "
            f"got shape {x.shape}"
        )
    if model.fixed_shape and x.shape[1:] != expected:
        raise ValueError(
            f"{what} has shape {x.shape[1:]} per example, the model expects {expected}"
        )
    if x.size and (x.min() < 0 or x.max() >= model.levels):
        raise ValueError(
            f"{what} has values in {x.min()}..{x.max()}, outside 0..{model.levels - 1} "
            f"(the model has K={model.levels} levels)"
        )
    return x.astype(np.int32)


def check_labels(model, labels, batch: int) -> np.ndarray | None:
    """Validate class labels: required (shape (B,) or scalar) for conditional models, else None."""
    model.check_labels(labels)
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    labels = np.broadcast_to(labels, (batch,)) if labels.ndim == 0 else labels
    if labels.shape != (batch,):
        raise ValueError(f"labels must have shape ({batch},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= model.num_classes):
        raise ValueError(f"labels must be in 0..{model.num_classes - 1}")
    return labels.astype(np.int32)


def check_features(model, features, shape: tuple[int, ...]) -> np.ndarray | None:
    """Validate local-conditioning features for data of ``shape`` (B, T); float32 or None.

    A locally conditioned model (a mel-conditioned WaveNet) needs (B, T // hop_length, F)
    features; every other model takes none.

    Raises:
      ValueError: missing, unexpected, non-float, non-finite or mis-shaped features (the
        message names the expected shape).
    """
    if not getattr(model.config, "local_features", 0):
        if features is not None:
            raise ValueError(f"{model.name} takes no features (it is not locally conditioned)")
        return None
    if features is not None:
        features = np.asarray(features)
        if not np.issubdtype(features.dtype, np.floating):
            raise ValueError(f"features must be floats, got dtype {features.dtype}")
        if not np.isfinite(features).all():
            raise ValueError("features contain NaN or infinite values")
        features = features.astype(np.float32)
    model.check_features(features, shape[0], shape[1])
    return features


def check_observed(observed, shape: tuple[int, ...]) -> np.ndarray:
    """A boolean mask of (H, W), (H, W, C) or the full data shape, broadcast to ``shape``.

    Raises:
      ValueError: a non-boolean mask or one that does not broadcast to ``shape``.
    """
    observed = np.asarray(observed)
    if observed.dtype != np.bool_:
        raise ValueError(f"observed must be a boolean mask, got dtype {observed.dtype}")
    if observed.ndim == 2 and len(shape) == 4:
        observed = observed[..., None]
    try:
        return np.broadcast_to(observed, shape)
    except ValueError:
        raise ValueError(
            f"observed has shape {observed.shape}, which does not fit data of shape {shape}"
        ) from None


def check_count(value, name: str) -> int:
    """A positive integer (not a bool) as an int, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_temperature(temperature) -> float:
    """A finite positive sampling temperature, or a ValueError."""
    if isinstance(temperature, bool) or not (
        isinstance(temperature, int | float) and math.isfinite(temperature) and temperature > 0
    ):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    return float(temperature)


def _axis_names(model) -> list:
    if not model.fixed_shape:
        return ["time"]
    return ["height", "width", "channels"][: len(model.event_shape())]
