"""Dataset-level evaluation: exact negative log-likelihood in nats and bits per dimension."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from tqdm.auto import tqdm

from autoreg.data.dataset import Dataset
from autoreg.errors import InputError
from autoreg.likelihood import log_prob_unchecked, nats_to_bits_per_dim
from autoreg.memory import evaluation_batch
from autoreg.modalities import VIDEO
from autoreg.validation import check_count, check_data, check_features, check_labels
from autoreg.video.motion import motion_evaluation

__all__ = ["Evaluation", "evaluate", "evaluate_arrays", "further_evaluation"]


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Result of ``evaluate``: the exact negative log-likelihood of a dataset.

    Attributes:
      bits_per_dim: mean negative log-likelihood per example divided by ``D * ln 2``.
      nats_per_example: mean negative log-likelihood per example in nats (per image: the unit
        of the PixelRNN paper, "Pixel Recurrent Neural Networks", for binarized MNIST).
      num_examples: N, the examples evaluated.
      dims_per_example: D = H * W * C (audio: T).

    Examples:
      >>> result = autoreg.Evaluation(2.0, 22.18, num_examples=10, dims_per_example=16)
      >>> result.as_dict()
      {'bits_per_dim': 2.0, 'nats_per_example': 22.18, 'num_examples': 10, 'dims_per_example': 16}
    """

    bits_per_dim: float  # mean NLL / (D ln 2)
    nats_per_example: float  # mean NLL per example (per image: the PixelRNN paper's unit)
    num_examples: int
    dims_per_example: int  # D = H * W * C (audio: T)

    def as_dict(self) -> dict:
        """The fields as a dict (JSON-ready).

        Returns:
          Field name -> value.
        """
        return dataclasses.asdict(self)


def evaluate(
    model,
    dataset: Dataset,
    *,
    batch_size: int = 64,
    limit: int | None = None,
    progress: bool = True,
) -> Evaluation:
    """Exact likelihood of a ``Dataset`` under ``model``, in batches.

    The model gets the dataset's class labels if it is class-conditional (they are ignored
    otherwise) and its features (bits per sample given them)::

        autoreg.evaluate(model, autoreg.data.load("mnist.npz", split="test")).bits_per_dim

    Args:
      model: a registry model.
      dataset: examples in 0..K-1 with the model's K (``autoreg.data.load``).
      batch_size: examples per forward pass (see ``evaluate_arrays``).
      limit: evaluate only the first ``limit`` examples (all when None).
      progress: show a progress bar.

    Returns:
      An ``Evaluation`` (bits per dim, nats per example, counts).

    Raises:
      InputError: a dataset with other levels than the model's, a non-positive ``limit``, or
        as for ``evaluate_arrays``.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> images = np.random.default_rng(0).integers(0, 4, (6, 4, 4, 1))
      >>> dataset = autoreg.data.Dataset(images, labels=None, levels=4, source="random")
      >>> result = autoreg.evaluate(model, dataset, limit=4, progress=False)
      >>> result.num_examples, result.dims_per_example, result.bits_per_dim > 0
      (4, 16, True)
    """
    dataset.check_levels(model)
    dataset = dataset.take(limit)
    labels = dataset.labels if model.num_classes else None
    return evaluate_arrays(
        model,
        dataset.examples,
        labels,
        features=dataset.features,
        batch_size=batch_size,
        progress=progress,
    )


def evaluate_arrays(
    model, data, labels=None, *, features=None, batch_size: int = 64, progress: bool = True
) -> Evaluation:
    """Exact test likelihood of the arrays ``data`` under ``model``, in batches (the loop under
    ``evaluate``, which takes a ``Dataset``).

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
      InputError: bad data or labels, no examples, a batch size that is not positive, or a
        non-finite result (a model with NaN or infinite parameters).
      autoreg.errors.MemoryBudgetError: (a ValueError) not even one example's forward pass fits
        in memory.

    Examples:
      >>> import math
      >>> from autoreg.evaluation import evaluate_arrays
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> data = np.random.default_rng(0).integers(0, 4, (4, 4, 4, 1))
      >>> result = evaluate_arrays(model, data, batch_size=4, progress=False)
      >>> math.isclose(result.bits_per_dim, autoreg.bits_per_dim(model, data), rel_tol=1e-6)
      True
    """
    data = check_data(model, data, what="data")  # validated once, not per batch
    labels = check_labels(model, labels, len(data))
    features = check_features(model, features, data.shape)
    n = len(data)
    if n == 0:
        raise InputError("no examples to evaluate")
    check_count(batch_size, "batch_size")
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
        raise InputError(
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


def further_evaluation(model, dataset, source, **options):
    """What ``autoreg eval`` measures beside the likelihood, for the kinds of data that call for
    more (``FURTHER``): a video model's tests of motion.

    Args:
      model: the evaluated model.
      dataset: the ``Dataset`` it was evaluated on.
      source: where the dataset came from (``--data``).
      **options: the options of that measurement (its modality's ``eval_options``).

    Returns:
      None for a kind of data with nothing further, else a report with ``name``,
      ``as_dict()``, ``lines()`` and ``figure(path)`` (e.g. a ``MotionReport``).
    """
    further = FURTHER.get(model.modality)
    return None if further is None else further(model, dataset, source, **options)


# Modality -> the measurement beside the likelihood that its data call for.
FURTHER = {VIDEO: motion_evaluation}
