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
