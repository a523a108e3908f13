"""Pictures from the page (drawn or uploaded, any size and mode) -> a model's integer images.

The shipped models take 28x28 grayscale digits, light on dark as in MNIST; a drawing or an
upload is flattened onto white, resized and converted as ``autoreg complete --image --resize``
does (``autoreg.data.images.resize_image``), optionally inverted, and quantised to the model's
K levels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from autoreg.data.images import quantise, resize_image
from autoreg.errors import InputError

MAX_PIXELS = 4096 * 4096  # a larger picture from the page is refused before it is resized
# An MNIST digit is light strokes on black: at most 11% of its pixels are mid-grey (48..207),
# against 78-100% for photographs of scenes and textures resized to 28x28.
MAX_MID_GREY = 0.3


def editor_picture(value) -> np.ndarray | None:
    """The picture of an image-editor value: its ``composite`` (a dict from a Gradio
    ImageEditor or Sketchpad), or the array itself; None when nothing was given."""
    if isinstance(value, dict):
        value = (
            value.get("composite")
            if value.get("composite") is not None
            else value.get("background")
        )
    return None if value is None else np.asarray(value)


def painted_region(value) -> np.ndarray | None:
    """(H, W) bool: where an image editor's layers were painted (alpha > 0), or None when no
    layer has a stroke."""
    if not isinstance(value, dict) or not value.get("layers"):
        return None
    painted = None
    for layer in value["layers"]:
        layer = np.asarray(layer)
        if layer.ndim != 3 or layer.shape[-1] != 4:
            continue
        strokes = layer[..., 3] > 0
        painted = strokes if painted is None else painted | strokes
    return painted if painted is not None and painted.any() else None


def flatten(picture) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) pixels -> uint8 (H, W, 1) or (H, W, 3); an alpha
    channel is composited onto white (undrawn canvas is white paper).

    Raises:
      InputError: not an image array, an empty one, or one over ``MAX_PIXELS``.

    Examples:
      >>> from autoreg.demo.inputs import flatten
      >>> canvas = np.zeros((2, 2, 4), np.uint8)  # transparent: nothing drawn
      >>> canvas[0, 0] = (0, 0, 0, 255)  # one opaque black pixel
      >>> flatten(canvas)[..., 0]
      array([[  0, 255],
             [255, 255]], dtype=uint8)
    """
    array = np.asarray(picture)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4) or 0 in array.shape:
        raise InputError(f"expected an image (H, W[, 1|3|4]), got an array of shape {array.shape}")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise InputError(
            f"the picture is {array.shape[0]}x{array.shape[1]}, more than {MAX_PIXELS} pixels"
        )
    if array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.number):
            raise InputError(f"expected image pixels, got dtype {array.dtype}")
        scale = 255.0 if np.issubdtype(array.dtype, np.floating) and array.max() <= 1 else 1.0
        array = np.clip(np.round(array.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    if array.shape[-1] == 4:
        alpha = array[..., 3:].astype(np.float64) / 255.0
        array = np.round(array[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return array


def model_image(picture, model, *, light_on_dark: bool = True) -> np.ndarray:
    """A picture from the page as one input of ``model``.

    Args:
      picture: pixels as ``flatten`` takes them, any size.
      model: an image model; its ``event_shape()`` (H, W, C) and ``levels`` K are matched.
      light_on_dark: invert a picture that is mostly light (a dark digit drawn on white), so
        that the digit is light on dark as in MNIST.

    Returns:
      (H, W, C) uint8 integers in 0..K-1 (thresholded at 128 for a K = 2 model).

    Raises:
      InputError: as ``flatten``.
    """
    shape = model.event_shape()
    image = resize_image(flatten(picture), shape)  # (H, W, C) uint8
    if light_on_dark and image.mean() > 127.5:
        image = 255 - image
    return quantise(image, model.levels, binarize=model.levels == 2)


def digit_note(image: np.ndarray, levels: int) -> str | None:
    """A note when a model-sized picture does not look like an MNIST digit, else None.

    The shipped models know digits only: light strokes on a dark background, few grey pixels.
    A photograph resized into 28x28 grey is mostly mid-grey; its likelihood and completions say
    little, and the page says so instead of hiding it.

    Args:
      image: (H, W, C) integers in 0..K-1, as ``model_image`` gives them.
      levels: K.

    Returns:
      The note, or None for a digit-like picture.

    Examples:
      >>> from autoreg.demo.inputs import digit_note
      >>> digit = np.zeros((28, 28, 1), np.uint8)
      >>> digit[5:23, 12:16] = 255  # a "1"
      >>> digit_note(digit, 256) is None
      True
      >>> photo = np.random.default_rng(0).integers(60, 200, (28, 28, 1))
      >>> digit_note(photo, 256)[:39]
      'This picture does not look like a digit'
    """
    grey = np.asarray(image, np.float64) * (255.0 / max(levels - 1, 1))
    mid = float(((grey >= 48) & (grey <= 207)).mean())
    if levels == 2 or mid <= MAX_MID_GREY:
        return None
    return (
        f"This picture does not look like a digit ({mid:.0%} of its pixels are mid-grey; an "
        "MNIST digit has at most 11%): the models were trained on MNIST digits only, so their "
        "likelihoods and completions of it say little."
    )


def region_mask(region: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H0, W0) bool painted region -> (height, width) bool: a pixel is in it when at least a
    quarter of the area it covers was painted."""
    painted = Image.fromarray(np.asarray(region, np.uint8) * 255)
    coverage = np.asarray(painted.resize((width, height), Image.Resampling.BOX), np.float64)
    return coverage >= 255 * 0.25


def batch_labels(model, label, count: int) -> np.ndarray | None:
    """``count`` copies of ``label`` for a class-conditional model, None for another.

    Args:
      model: the model the labels are for.
      label: the class label (an int), or None.
      count: how many examples the batch has.

    Returns:
      (count,) int32 labels, or None when ``model`` takes no labels.

    Raises:
      InputError: ``model`` is class-conditional and ``label`` is None.
    """
    if not model.num_classes:
        return None
    if label is None:
        raise InputError(f"{model.name} is class-conditional: pick a label")
    return np.full(count, int(label), np.int32)
