"""The one container every data source returns, and what a model is conditioned on."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Integer examples in 0..K-1 with optional class labels."""

    examples: np.ndarray  # (N, H, W, C) images or (N, T) audio windows, ints in 0..levels-1
    labels: np.ndarray | None  # (N,) int32 class labels, or None
    levels: int  # K: values per variable
    source: str  # where the data came from (for messages and logs)

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def event_shape(self) -> tuple[int, ...]:
        """Shape of one example: (H, W, C) or (T,)."""
        return tuple(self.examples.shape[1:])

    def take(self, limit: int | None) -> Dataset:
        """The first ``limit`` examples (all when None)."""
        if limit is None:
            return self
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        labels = None if self.labels is None else self.labels[:limit]
        return dataclasses.replace(self, examples=self.examples[:limit], labels=labels)


class Conditioning(NamedTuple):
    """What a model is conditioned on besides its data, per example (a pytree of arrays).

    The training loop batches it like class labels (``autoreg.train.train``'s ``train_labels``
    may be one); ``autoreg.models.functional.call_model`` unpacks it.
    """

    labels: Any  # (N,) int32 class ids, or None
    features: Any  # (N, frames, F) float32 local features (a vocoder's mel), or None
