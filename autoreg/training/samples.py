"""The sample grids a run writes as it trains: ``WORKDIR/samples_<step>.png`` for an image
model (also a TensorBoard image), ``samples_<step>.gif`` for a video model, none for audio."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from autoreg.generate import sample
from autoreg.image_io import save_grid
from autoreg.validation import MAX_SEED
from autoreg.video.gif import write_samples_gif

MAX_VIDEO_SAMPLES = 4  # video models: clips in each samples_<step>.gif


def sample_grid_writer(workdir, num_samples: int, seed: int, *, progress: bool = True) -> Callable:
    """The ``write_samples`` that ``train`` uses unless given another: ``fn(model, step)``
    that writes a grid of ``num_samples`` samples of an image model to
    ``workdir/samples_<step>.png`` and returns its path (class labels cycling for a
    class-conditional model); a video model's are an animated GIF ``samples_<step>.gif`` of at
    most ``MAX_VIDEO_SAMPLES`` clips side by side (returned as None: TensorBoard shows images
    only); audio models write nothing and return None.

    Args:
      workdir: the run's work directory.
      num_samples: images per grid.
      seed: the sampling key of step ``s`` is ``seed + s`` (modulo the largest seed).
      progress: show a progress bar while sampling takes over a second.

    Returns:
      The writer.
    """

    def write_samples(current, step) -> Path | None:
        if current.kind == "audio":
            return None
        key = (seed + step) % (MAX_SEED + 1)
        if current.kind == "video":
            clips = sample(current, key, min(num_samples, MAX_VIDEO_SAMPLES), progress=progress)
            write_samples_gif(Path(workdir) / f"samples_{step}.gif", clips, current.levels)
            return None
        labels = np.arange(num_samples) % current.num_classes if current.num_classes else None
        samples = sample(current, key, num_samples, labels=labels, progress=progress)
        path = Path(workdir) / f"samples_{step}.png"
        return save_grid(np.asarray(samples), current.levels, path)

    return write_samples
