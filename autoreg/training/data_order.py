"""Which examples each step trains on: a pure function of (seed, step), so that a resumed run
sees exactly the data order of one that never stopped."""

from __future__ import annotations

import functools

import numpy as np


def batch_indices(step: int, num_examples: int, batch_size: int, seed: int) -> np.ndarray:
    """Example indices of the batch at ``step``: a fresh permutation every epoch, a pure
    function of (seed, step), so a resumed run sees exactly the same data order.

    Args:
      step: the optimiser steps taken before this batch.
      num_examples: the examples of the training data.
      batch_size: the global batch.
      seed: the seed of the data order (``TrainConfig.seed``).

    Returns:
      (batch_size,) indices into the training data.
    """
    per_epoch = num_examples // batch_size
    epoch, index = divmod(step, per_epoch)
    order = epoch_order(seed, epoch, num_examples)
    return order[index * batch_size : (index + 1) * batch_size]


@functools.lru_cache(maxsize=2)
def epoch_order(seed: int, epoch: int, num_examples: int) -> np.ndarray:
    """The (read-only) permutation of epoch ``epoch``, drawn once per epoch, not per step."""
    order = np.random.default_rng([seed, epoch]).permutation(num_examples)
    order.flags.writeable = False
    return order
