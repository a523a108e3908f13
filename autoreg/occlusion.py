"""Occlusion masks for image completion: bottom half, right half, a box, or a mask image."""

from __future__ import annotations

import numpy as np

from autoreg.errors import InputError

OCCLUSIONS = "bottom | right | box:Y0,X0,Y1,X1 | PATH.png (white = hidden)"


def occlusion_mask(spec: str, height: int, width: int) -> np.ndarray:
    """The (H, W) boolean mask of OBSERVED pixels for an occlusion spec.

    Args:
      spec: ``"bottom"`` (hide the lower half), ``"right"`` (hide the right half),
        ``"box:Y0,X0,Y1,X1"`` (hide rows Y0..Y1-1, columns X0..X1-1) or the path of a PNG of the
        image's size whose white (non-zero) pixels are hidden.

    Raises:
      InputError: an unknown spec, a box outside the image, or a mask of another size.
    """
    observed = np.ones((height, width), bool)
    if spec == "bottom":
        observed[height // 2 :] = False
    elif spec == "right":
        observed[:, width // 2 :] = False
    elif spec.startswith("box:"):
        try:
            y0, x0, y1, x1 = (int(v) for v in spec[4:].split(","))
        except ValueError:
            raise InputError(f"box occlusion must be box:Y0,X0,Y1,X1, got {spec!r}") from None
        if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
            raise InputError(f"box {spec[4:]} is empty or outside the {height}x{width} image")
        observed[y0:y1, x0:x1] = False
    elif spec.lower().endswith(".png"):
        from autoreg.data.images import read_image

        mask = read_image(spec)
        if mask.shape[:2] != (height, width):
            raise InputError(
                f"mask {spec} is {mask.shape[0]}x{mask.shape[1]}, images are {height}x{width}"
            )
        observed = mask.max(axis=-1) == 0
    else:
        raise InputError(f"unknown occlusion {spec!r}; use {OCCLUSIONS}")
    if observed.all():
        raise InputError(f"occlusion {spec!r} hides nothing")
    return observed
