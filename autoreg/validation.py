"""Checks on user data, shared by the likelihood, the sampler and the evaluator."""

from __future__ import annotations

import numpy as np

from autoreg.errors import InputError
from autoreg.rules import POSITIVE_INT, POSITIVE_NUMBER


def check_data(model, x, *, what: str = "x") -> np.ndarray:
    """Validate integer data for ``model`` and return it as an int32 NumPy array.

    Raises:
      InputError: a float or bool dtype, the wrong rank or shape, or values outside 0..K-1.
    """
    x = np.asarray(x)
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.integer):
        raise InputError(
            f"{what} must hold integers 0..{model.levels - 1}, got dtype {x.dtype} "
            "(quantise floats first, e.g. np.uint8 images)"
        )
    model.modality.check_batch_shape(model, x.shape, what)
    check_range(model, x, what)
    return x.astype(np.int32)


def check_some_examples(x, what: str = "x") -> None:
    """An InputError unless the batch ``x`` holds at least one example."""
    if len(x) == 0:
        raise InputError(f"{what} holds no examples")


def check_labels(model, labels, batch: int, *, what: str = "labels") -> np.ndarray | None:
    """Validate class labels: required (shape (B,) or scalar) for conditional models, else None.

    Args:
      model: the model the labels are for.
      labels: (B,) or scalar integer class labels, or None.
      batch: B, the number of examples.
      what: the name of the labels in messages.

    Returns:
      (B,) int32 labels, or None for an unconditional model.

    Raises:
      InputError: missing or unexpected labels, non-integers, the wrong shape, or values outside
        0..num_classes-1.
    """
    model.check_labels(labels)
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise InputError(f"{what} must be integers, got dtype {labels.dtype}")
    labels = np.broadcast_to(labels, (batch,)) if labels.ndim == 0 else labels
    if labels.ndim == 1 and len(labels) != batch:
        raise InputError(f"{what} has {len(labels)} labels for {batch} examples")
    if labels.shape != (batch,):
        raise InputError(f"{what} must have shape ({batch},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= model.num_classes):
        raise InputError(
            f"{what} must be in 0..{model.num_classes - 1}, got values in "
            f"{labels.min()}..{labels.max()}"
        )
    return labels.astype(np.int32)


def check_features(model, features, shape: tuple[int, ...]) -> np.ndarray | None:
    """Validate local-conditioning features for data of ``shape`` (B, T); float32 or None.

    A locally conditioned model (a mel-conditioned WaveNet) needs (B, T // hop_length, F)
    features; every other model takes none.

    Raises:
      InputError: missing, unexpected, non-float, non-finite or mis-shaped features (the
        message names the expected shape).
    """
    if not getattr(model.config, "local_features", 0):
        if features is not None:
            raise InputError(f"{model.name} takes no features (it is not locally conditioned)")
        return None
    if features is not None:
        features = np.asarray(features)
        if not np.issubdtype(features.dtype, np.floating):
            raise InputError(f"features must be floats, got dtype {features.dtype}")
        if not np.isfinite(features).all():
            raise InputError("features contain NaN or infinite values")
        features = features.astype(np.float32)
    model.check_features(features, shape[0], shape[1])
    return features


def check_observed(observed, shape: tuple[int, ...]) -> np.ndarray:
    """A boolean mask of (H, W), (H, W, C) or the full data shape, broadcast to ``shape``.

    Raises:
      InputError: a non-boolean mask or one that does not broadcast to ``shape``.
    """
    observed = np.asarray(observed)
    if observed.dtype != np.bool_:
        raise InputError(f"observed must be a boolean mask, got dtype {observed.dtype}")
    if observed.ndim == 2 and len(shape) == 4:
        observed = observed[..., None]
    try:
        return np.broadcast_to(observed, shape)
    except ValueError:
        raise InputError(
            f"observed has shape {observed.shape}, which does not fit data of shape {shape}"
        ) from None


def check_count(value, name: str) -> int:
    """A positive integer (not a bool) as an int, or an InputError naming ``name``."""
    return POSITIVE_INT.check(value, name)


def check_temperature(temperature) -> float:
    """A finite positive sampling temperature (a Python or NumPy real scalar) as a float.

    Raises:
      InputError: a bool, an array, a string, or a number that is not finite and positive.
    """
    return POSITIVE_NUMBER.check(temperature, "temperature")


def check_training_inputs(
    model,
    config,
    train_x,
    train_labels,
    test_x,
    test_labels,
    train_features=None,
    test_features=None,
) -> None:
    """Check everything ``autoreg.training.train_arrays`` is given, before anything is written.

    Args:
      model: the model to train.
      config: its ``TrainConfig`` (which checked its fields when it was made).
      train_x: (N, *event) integer training data in 0..K-1.
      train_labels: (N,) class labels, or None.
      test_x: (M, *event) test data with the event shape of ``train_x``, or None.
      test_labels: as ``train_labels`` for ``test_x``.
      train_features: (N, frames, F) local features of a locally conditioned model, or None.
      test_features: as ``train_features`` for ``test_x``.

    Raises:
      InputError: data of the wrong dtype, shape or range, class labels that
        are not integers in 0..num_classes-1 or not one per example, features a model does not
        take or of the wrong shape, test data whose example shape differs from the training
        data's, or test labels or features without test data.
    """
    check_examples(model, train_x, "train_x")
    check_labels(model, train_labels, len(train_x), what="train_labels")
    check_features(model, train_features, np.shape(train_x))
    if test_x is None:
        if test_labels is not None or test_features is not None:
            raise InputError("test_labels or test_features were given without test_x")
        return
    if np.shape(test_x)[1:] != np.shape(train_x)[1:]:
        raise InputError(
            f"test_x has examples of shape {np.shape(test_x)[1:]}, train_x of "
            f"{np.shape(train_x)[1:]}"
        )
    check_examples(model, test_x, "test_x")
    check_labels(model, test_labels, len(test_x), what="test_labels")
    check_features(model, test_features, np.shape(test_x))


def check_examples(model, x, what: str) -> None:
    """``check_data`` of a whole data set without copying it (one pass for its range)."""
    x = np.asarray(x)
    check_data(model, x[:0], what=what)  # dtype and shape
    check_range(model, x, what)


def check_range(model, x: np.ndarray, what: str) -> None:
    """An InputError unless the integers ``x`` lie in ``0..model.levels - 1``."""
    if x.size and (x.min() < 0 or x.max() >= model.levels):
        raise InputError(
            f"{what} has values in {x.min()}..{x.max()}, outside 0..{model.levels - 1} "
            f"(the model has K={model.levels} levels)"
        )
