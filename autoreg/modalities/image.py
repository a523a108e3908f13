"""Images: (H, W, C) integers, a raster scan then the colours; samples as one PNG grid."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

from autoreg.errors import InputError
from autoreg.modalities.base import Modality, Options

__all__ = ["IMAGE", "Image", "ImageOptions"]


@dataclasses.dataclass(frozen=True)
class ImageOptions(Options):
    """Options of image sources (``autoreg.data.images.load_images``).

    Attributes:
      levels: K; 8-bit images are binned to K levels.
      seed: seed of the random training patches.
      binarize: False, or K = 2 by ``"threshold"`` (also ``True``) or ``"stochastic"``.
      patch_size: cut square patches of this size from large images.
      num_patches: how many random training patches to cut.
      download: let tensorflow-datasets download (never otherwise).
    """

    binarize: bool | str = False
    patch_size: int | None = None
    num_patches: int = 10_000
    download: bool = False


class Image(Modality):
    """Images of the shape a model fixes (``config.image_shape``)."""

    name = "image"
    axes = ("height", "width", "channels")
    example = "image"
    options_cls = ImageOptions
    sample_options = MappingProxyType({"scale": None})
    eval_options = MappingProxyType(
        {"heatmap": None, "patch_size": "patch_size", "binarize": "binarize"}
    )
    train_options = MappingProxyType(
        {name: name for name in ("binarize", "patch_size", "num_patches", "download")}
    )

    def check_example_shape(self, model, shape: tuple, what: str) -> None:
        expected = model.event_shape()
        if tuple(shape) != expected:
            raise InputError(
                f"{what} has shape {tuple(shape)} per example, the model expects {expected}"
            )

    def load(self, source, split: str, options: ImageOptions):
        from autoreg.data.images import load_images

        return load_images(source, split=split, **dataclasses.asdict(options))

    def model_options(self, model, source, limit=None, **given) -> ImageOptions:
        return self.options(levels=model.levels, **given)

    def training_options(self, config, source, **given) -> ImageOptions:
        return self.options(**given)

    def picture_scale(self, model, num: int, scale: int | None) -> int:
        from autoreg.image_io import grid_shape, picture_scale

        grid = grid_shape(num, model.event_shape())
        return picture_scale(grid, scale, f"the grid of {num} samples")

    def write_samples(self, model, samples, path: Path, scale=None, duration_ms=None) -> Path:
        from autoreg.image_io import save_grid

        return save_grid(samples, model.levels, path, scale=scale)

    def training_samples(self, model, stem: Path, num: int, draw) -> Path:
        import numpy as np

        return self.write_samples(model, np.asarray(draw(num)), stem.with_suffix(".png"))


IMAGE = Image()
