"""The one container every data source returns."""

from __future__ import annotations

import dataclasses

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
