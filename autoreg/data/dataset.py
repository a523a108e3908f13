"""The one container every data source returns: examples, and what a model is conditioned on."""

from __future__ import annotations

import dataclasses

import numpy as np

from autoreg.errors import InputError
from autoreg.rules import POSITIVE_INT, one_of

SPLITS = ("train", "test")  # the splits of every source
SPLIT = one_of(SPLITS)  # the rule of a split


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Integer examples in 0..K-1, with optional class labels and local features.

    Class labels are global conditioning (a digit class, a speaker id); features are local
    conditioning, one row per frame of each example (a vocoder's log-mel frames). A model takes
    either only when it is conditioned on it: ``autoreg.train`` and ``autoreg.evaluate`` pass
    labels to a class-conditional model only, and features always.

    Attributes:
      examples: (N, H, W, C) images, (N, T) audio windows or (N, T, H, W, C) video,
        integers in 0..levels-1.
      labels: (N,) int32 class labels (or speaker ids), or None.
      levels: K, the values each variable takes.
      source: where the data came from (for messages and logs).
      features: (N, frames, F) float32 local features, or None.
      speaker_names: the name of each speaker id in ``labels`` (mel windows), else empty.

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 4, (10, 4, 4, 1))
      >>> dataset = autoreg.data.Dataset(images, labels=np.arange(10) % 2, levels=4, source="toy")
      >>> len(dataset), dataset.event_shape
      (10, (4, 4, 1))
      >>> first = dataset.take(3)
      >>> first.examples.shape, first.labels
      ((3, 4, 4, 1), array([0, 1, 0]))
    """

    examples: np.ndarray  # (N, H, W, C) images, (N, T) audio or (N, T, H, W, C) video; 0..K-1
    labels: np.ndarray | None  # (N,) int32 class labels (or speaker ids), or None
    levels: int  # K: values per variable
    source: str  # where the data came from (for messages and logs)
    features: np.ndarray | None = None  # (N, frames, F) float32 local features, or None
    speaker_names: tuple = ()  # the name of each speaker id in ``labels`` (mel windows)

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def event_shape(self) -> tuple[int, ...]:
        """Shape of one example: (H, W, C), (T,) or (T, H, W, C).

        Returns:
          The shape, a tuple.
        """
        return tuple(self.examples.shape[1:])

    def check_levels(self, model) -> None:
        """Check that the examples have ``model``'s number of levels K.

        Args:
          model: a registry model.

        Raises:
          InputError: the levels differ.
        """
        if self.levels != model.levels:
            raise InputError(
                f"{self.source} has K={self.levels} levels, {model.name} has K={model.levels}"
            )

    def take(self, limit: int | None) -> Dataset:
        """The first ``limit`` examples, with their labels and features (all when None).

        Args:
          limit: number of examples to keep, or None for all.

        Returns:
          A ``Dataset`` (this one when ``limit`` is None).

        Raises:
          InputError: ``limit`` is not a positive integer.
        """
        if limit is None:
            return self
        limit = POSITIVE_INT.check(limit, "limit")
        labels, features = (None if a is None else a[:limit] for a in (self.labels, self.features))
        return dataclasses.replace(
            self, examples=self.examples[:limit], labels=labels, features=features
        )
