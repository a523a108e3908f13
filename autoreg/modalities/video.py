"""Video: (T, H, W, C) clips, frames in time order then a raster scan of each; samples as a GIF."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

from autoreg.errors import InputError
from autoreg.modalities.base import Modality, Options

__all__ = ["VIDEO", "Video", "VideoOptions"]

MAX_TRAINING_SAMPLES = 4  # clips in each samples_<step>.gif of a training run


@dataclasses.dataclass(frozen=True)
class VideoOptions(Options):
    """Options of video sources (``autoreg.data.video.load_video``).

    Attributes:
      levels: K; 8-bit values are binned to K levels.
      seed: unused (kept for the options every source shares).
      num: Moving MNIST sequences (default 10,000) or the first ``num`` clips (default all).
      frames: Moving MNIST: frames per sequence (default 20).
      frame_size: Moving MNIST: the frames' side in pixels (default 64).
      num_digits: Moving MNIST: digits per sequence (default 2).
    """

    num: int | None = None
    frames: int | None = None
    frame_size: int | None = None
    num_digits: int | None = None


class Video(Modality):
    """Clips of any number of frames of the shape a model fixes (``config.image_shape``)."""

    name = "video"
    axes = ("frames", "height", "width", "channels")
    example = "clip"
    options_cls = VideoOptions
    sample_file = "samples.gif"
    sample_suffixes = (".gif",)
    default_samples = 4
    sample_options = MappingProxyType({"duration_ms": None, "scale": None})
    # The options of the tests of motion (autoreg.video.motion.motion_evaluation).
    eval_options = MappingProxyType(
        {"context": None, "futures": None, "nearest_clips": None, "plot": None}
    )
    train_options = MappingProxyType({"num_clips": "num"})

    def check_example_shape(self, model, shape: tuple, what: str) -> None:
        expected = tuple(model.config.image_shape)
        if tuple(shape[1:]) != expected:  # any number of frames
            raise InputError(
                f"{what} has shape {tuple(shape)} per example, the model expects frames of "
                f"{expected}"
            )

    def describe(self, count: int, shape: tuple) -> str:
        frames, size = shape[0], "x".join(map(str, shape[1:]))
        return f"{count} clip{'s' * (count != 1)} of {frames} frames of {size}"

    def load(self, source, split: str, options: VideoOptions):
        from autoreg.data.video import load_video

        fields = dataclasses.asdict(options)
        del fields["seed"]
        return load_video(source, split=split, **fields)

    def fixed_options(self, config, source, **given) -> VideoOptions:
        """The options ``given`` plus those a video config fixes for Moving MNIST: its frames
        and frame size; none for clips, which are read as they are.

        Raises:
          InputError: Moving MNIST for a model whose frames are not square and gray.
        """
        from autoreg.data.video import moving_mnist_path

        if moving_mnist_path(source) is not None:
            height, width, channels = config.image_shape
            if height != width or channels != 1:
                raise InputError(
                    f"Moving MNIST frames are square and gray (H, H, 1); the model's frames are "
                    f"{tuple(config.image_shape)}"
                )
            given.update(frames=config.frames, frame_size=height)
        return self.options(**given)

    def model_options(self, model, source, limit=None, **given) -> VideoOptions:
        """As the base's; the first ``limit`` sequences or clips are the only ones read."""
        return self.fixed_options(model.config, source, levels=model.levels, num=limit, **given)

    def training_options(self, config, source, **given) -> VideoOptions:
        return self.fixed_options(config, source, **given)

    def picture_scale(self, model, num: int, scale: int | None) -> int:
        from autoreg.video.gif import gif_scale

        frames, *frame_shape = model.event_shape()
        return gif_scale(tuple(frame_shape), 1, num, frames, scale)

    def write_samples(self, model, samples, path: Path, scale=None, duration_ms=None) -> Path:
        """One GIF of the clips side by side."""
        from autoreg.video.gif import DEFAULT_DURATION_MS, write_samples_gif

        duration_ms = duration_ms or DEFAULT_DURATION_MS
        write_samples_gif(path, samples, model.levels, scale=scale, duration_ms=duration_ms)
        return path

    def training_samples(self, model, stem: Path, num: int, draw) -> None:
        """A GIF of at most ``MAX_TRAINING_SAMPLES`` clips side by side (None: TensorBoard
        shows pictures only)."""
        self.write_samples(model, draw(min(num, MAX_TRAINING_SAMPLES)), stem.with_suffix(".gif"))
        return None


VIDEO = Video()
