"""The example image both texture methods learn from, brought to the working resolution."""

from __future__ import annotations

import numpy as np
from PIL import Image


def downscale(image: np.ndarray, source_size: int | None) -> np.ndarray:
    """(H, W, C) uint8 -> box-filtered copy whose longer side is at most ``source_size``."""
    h, w, _ = image.shape
    if source_size is None or max(h, w) <= source_size:
        return image
    factor = source_size / max(h, w)
    new = (max(1, round(w * factor)), max(1, round(h * factor)))  # PIL sizes are (W, H)
    channels = [
        np.asarray(Image.fromarray(image[..., c]).resize(new, Image.Resampling.BOX))
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=-1)


def working_source(image: np.ndarray, source_size: int | None) -> np.ndarray:
    """The example both methods learn from: (H, W[, C]) uint8 -> (h, w, C), downscaled.

    A picture whose colour channels are equal everywhere is grey, whatever its file says (a
    grey texture re-saved as RGB, as a web upload often is): it becomes one channel, so that
    both methods model one value per pixel rather than three that must agree.

    Args:
      image: (H, W), (H, W, 1) or (H, W, 3) uint8.
      source_size: the longer side after ``downscale`` (None: as it is).

    Returns:
      (h, w, 1) or (h, w, 3) uint8.

    Examples:
      >>> from autoreg.texture.source import working_source
      >>> grey = np.random.default_rng(0).integers(0, 256, (4, 6, 1), dtype=np.uint8)
      >>> working_source(np.repeat(grey, 3, axis=-1), None).shape  # saved as RGB: grey
      (4, 6, 1)
      >>> working_source(np.zeros((4, 6, 3), np.uint8) + [1, 2, 3], None).shape
      (4, 6, 3)
    """
    image = image if image.ndim == 3 else image[..., None]
    if image.shape[-1] == 3 and (image == image[..., :1]).all():
        image = image[..., :1]
    return downscale(image, source_size)
