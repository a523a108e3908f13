"""The sample grids a run writes as it trains: ``WORKDIR/samples_<step>.png`` for an image
model (also a TensorBoard image), ``samples_<step>.gif`` for a video model, none for audio:
what the model's modality writes (``Modality.training_samples``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from autoreg.generate import sample
from autoreg.rules import MAX_SEED


def sample_grid_writer(workdir, num_samples: int, seed: int, *, progress: bool = True) -> Callable:
    """The ``write_samples`` that ``train`` uses unless given another: ``fn(model, step)``
    that writes a grid of ``num_samples`` samples of an image model to
    ``workdir/samples_<step>.png`` and returns its path (class labels cycling for a
    class-conditional model); a video model's are an animated GIF ``samples_<step>.gif`` of a
    few clips side by side (returned as None: TensorBoard shows images only); audio models
    write nothing and return None.

    Args:
      workdir: the run's work directory.
      num_samples: images per grid.
      seed: the sampling key of step ``s`` is ``seed + s`` (modulo the largest seed).
      progress: show a progress bar while sampling takes over a second.

    Returns:
      The writer.
    """

    def write_samples(current, step) -> Path | None:
        key = (seed + step) % (MAX_SEED + 1)

        def draw(num: int) -> np.ndarray:
            labels = np.arange(num) % current.num_classes if current.num_classes else None
            return np.asarray(sample(current, key, num, labels=labels, progress=progress))

        stem = Path(workdir) / f"samples_{step}"
        return current.modality.training_samples(current, stem, num_samples, draw)

    return write_samples
