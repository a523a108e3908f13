"""Texture synthesis from one example image, two ways, one module per method.

- ``efros_leung``: Efros & Leung (1999), "Texture Synthesis by Non-parametric Sampling". No
  training: the texture grows pixel by pixel, each pixel copying the centre of a source
  neighbourhood that matches its known neighbours (``efros_leung``, ``gaussian_window``).
- ``pixelcnn``: a small Gated PixelCNN trained on random patches of the image
  (``train_texture_model``), then sampled on a canvas larger than the patches
  (``pixelcnn_texture``).
- ``source``: what both methods share, bringing the example to the working resolution, grey
  when its colours are equal (``working_source``, ``downscale``).
"""

from autoreg.texture.efros_leung import efros_leung, gaussian_window
from autoreg.texture.pixelcnn import (
    check_texture_request,
    pixelcnn_texture,
    train_texture_model,
)
from autoreg.texture.source import downscale, working_source

__all__ = [
    "check_texture_request",
    "downscale",
    "efros_leung",
    "gaussian_window",
    "pixelcnn_texture",
    "train_texture_model",
    "working_source",
]
