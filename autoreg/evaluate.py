"""Dataset-level evaluation: exact negative log-likelihood in nats and bits per dimension."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from tqdm.auto import tqdm

from autoreg.likelihood import log_prob_unchecked, nats_to_bits_per_dim
from autoreg.memory import evaluation_batch
from autoreg.validation import check_data, check_features, check_labels


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Result of ``evaluate``."""

    bits_per_dim: float  # mean NLL / (D ln 2)
    nats_per_example: float  # mean NLL per example (per image: the PixelRNN paper's unit)
    num_examples: int
    dims_per_example: int  # D = H * W * C (audio: T)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def evaluate(
    model, data, labels=None, *, features=None, batch_size: int = 64, progress: bool = True
) -> Evaluation:
    """Exact test likelihood of ``data`` under ``model``, in batches.

    Args:
      model: a registry model.
      data: (N, *event) integers in 0..K-1.
      labels: (N,) class labels for conditional models.
      features: (N, frames, F) local features for a locally conditioned model (bits per
        sample given them), else None.
      batch_size: examples per forward pass (fewer when that many would not fit in
        ``autoreg.memory.memory_budget()``). The last batch is padded to this size, so one
        compiled program serves the whole dataset.
      progress: show a progress bar.

    Returns:
      An ``Evaluation`` (bits per dim, nats per example, counts).

    Raises:
      ValueError: bad data or labels, a non-finite result (a model with NaN or infinite
        parameters), or ``MemoryBudgetError`` when not even one example's forward pass fits in
        memory.
    """
    data = check_data(model, data, what="data")  # validated once, not per batch
    labels = check_labels(model, labels, len(data))
    features = check_features(model, features, data.shape)
    n = len(data)
    if n == 0:
        raise ValueError("no examples to evaluate")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    batch_size = min(n, evaluation_batch(model, n, data.shape[1:], batch_size))
    total = 0.0
    bar = tqdm(total=n, desc="eval", unit="ex", disable=not progress, leave=False)
    for start in range(0, n, batch_size):
        batch, batch_labels, batch_features = (
            None if a is None else padded_batch(a, start, batch_size)
            for a in (data, labels, features)
        )
        real = min(batch_size, n - start)
        log_p = log_prob_unchecked(model, batch, batch_labels, batch_features)
        total += float(-np.asarray(log_p, np.float64)[:real].sum())
        bar.update(real)
        bar.set_postfix(
            bits_per_dim=f"{nats_to_bits_per_dim(total / (start + real), _dims(data)):.4f}"
        )
    bar.close()
    nats = total / n
    if not math.isfinite(nats):
        raise ValueError(
            f"bits/dim is {nats_to_bits_per_dim(nats, _dims(data))}: the model gives non-finite "
            "log-likelihoods (are its parameters finite?)"
        )
    return Evaluation(nats_to_bits_per_dim(nats, _dims(data)), nats, n, _dims(data))


def padded_batch(array: np.ndarray, start: int, batch_size: int) -> np.ndarray:
    """Rows ``start .. start + batch_size`` of ``array``, padded with its first row to the
    compiled batch size (the padding is dropped from the results)."""
    batch = array[start : start + batch_size]
    if len(batch) < batch_size:
        batch = np.concatenate([batch, np.repeat(batch[:1], batch_size - len(batch), axis=0)])
    return batch


def _dims(data: np.ndarray) -> int:
    return math.prod(data.shape[1:])
