"""``TrainConfig``, the settings of a training run, in a module that loads no JAX (``autoreg
train --help`` shows their defaults); ``autoreg`` and ``autoreg.training`` export it."""

from __future__ import annotations

import dataclasses

from autoreg.rules import (
    FRACTION,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    SEED,
    int_at_least,
    one_of,
)

COMPUTE_DTYPES = ("float32", "bfloat16")  # the dtypes a forward and backward pass may take


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation and bookkeeping settings of a training run.

    Attributes:
      steps: total optimiser steps.
      batch_size: the global batch (split across devices and processes).
      learning_rate: peak Adam learning rate.
      warmup_steps: steps of linear warm-up, followed by a cosine decay to 1% of the peak.
      grad_clip: global gradient-norm clip (0: off).
      ema_decay: decay of an exponential moving average of the parameters, which is then what
        is evaluated, sampled and exported (0: off; e.g. 0.999).
      seed: seed of the data order (and of the sample grids).
      checkpoint_every: steps between checkpoints (and one at the end).
      eval_every: steps between test evaluations (0: only at the end).
      eval_examples: test examples per evaluation.
      sample_every: steps between sample grids (0: only at the end; -1: never).
      num_samples: samples per grid.
      log_every: steps between metric lines.
      keep_checkpoints: how many recent checkpoints to keep.
      time_limit: stop, with a checkpoint, after this many seconds (0: no limit).
      compute_dtype: dtype of the forward and backward pass: ``"float32"``, or ``"bfloat16"``
        (mixed precision: the parameters, gradients and optimiser state stay float32; the loss
        is taken in float32).

    Raises:
      InputError: a field that breaks its rule (``FIELD_RULES``), naming it.

    Examples:
      >>> config = autoreg.TrainConfig(steps=100, batch_size=16, ema_decay=0.999)
      >>> config.learning_rate, config.compute_dtype
      (0.001, 'float32')
      >>> autoreg.TrainConfig(batch_size=0)
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: batch_size must be a positive integer, got 0
    """

    steps: int = 10_000  # total optimiser steps
    batch_size: int = 32  # global batch (split across devices)
    learning_rate: float = 1e-3  # peak Adam learning rate
    warmup_steps: int = 100  # linear warm-up, then cosine decay to 1% of the peak
    grad_clip: float = 1.0  # global gradient-norm clip (0: off)
    ema_decay: float = 0.0  # EMA of parameters for eval/export (0: off, e.g. 0.999)
    seed: int = 0  # data order and sampling seed
    checkpoint_every: int = 500  # steps between checkpoints (and one at the end)
    eval_every: int = 500  # steps between test evaluations (0: only at the end)
    eval_examples: int = 1000  # test examples per evaluation
    sample_every: int = 0  # steps between sample grids (0: only at the end; -1: never)
    num_samples: int = 16  # samples per grid
    log_every: int = 20  # steps between metric lines
    keep_checkpoints: int = 2  # how many recent checkpoints to keep
    time_limit: float = 0.0  # stop (with a checkpoint) after this many seconds (0: no limit)
    # dtype of the forward and backward pass: "float32", or "bfloat16" (mixed precision: the
    # parameters, gradients and optimiser state stay float32; the loss is taken in float32)
    compute_dtype: str = "float32"

    def __post_init__(self):
        for field, rule in FIELD_RULES.items():
            rule.check(getattr(self, field), field)


# The rule of every field, the one check of a TrainConfig: its constructor and the CLI's
# options apply it (``autoreg.rules``).
FIELD_RULES = {
    "steps": POSITIVE_INT,
    "batch_size": POSITIVE_INT,
    "learning_rate": POSITIVE_NUMBER,
    "warmup_steps": NON_NEGATIVE_INT,
    "grad_clip": NON_NEGATIVE_NUMBER,
    "ema_decay": FRACTION,
    "seed": SEED,
    "checkpoint_every": POSITIVE_INT,
    "eval_every": NON_NEGATIVE_INT,
    "eval_examples": POSITIVE_INT,
    "sample_every": int_at_least(-1),
    "num_samples": POSITIVE_INT,
    "log_every": POSITIVE_INT,
    "keep_checkpoints": POSITIVE_INT,
    "time_limit": NON_NEGATIVE_NUMBER,
    "compute_dtype": one_of(COMPUTE_DTYPES),
}
