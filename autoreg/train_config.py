"""``TrainConfig``, the settings of a training run, in a module that loads no JAX (``autoreg
train --help`` shows their defaults); ``autoreg`` and ``autoreg.training`` export it."""

from __future__ import annotations

import dataclasses

from autoreg.errors import InputError

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
      InputError: an unknown ``compute_dtype``, a count that must be positive and is not, a
        learning rate that is not positive, or an ``ema_decay`` outside [0, 1) (the other
        fields are checked when training starts).

    Examples:
      >>> config = autoreg.TrainConfig(steps=100, batch_size=16, ema_decay=0.999)
      >>> config.learning_rate, config.compute_dtype
      (0.001, 'float32')
      >>> autoreg.TrainConfig(batch_size=0)
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: batch_size must be positive, got 0
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
        if self.compute_dtype not in COMPUTE_DTYPES:
            raise InputError(
                f"compute_dtype must be one of {', '.join(COMPUTE_DTYPES)}, "
                f"got {self.compute_dtype!r}"
            )
        for name in ("steps", "batch_size", "checkpoint_every", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise InputError(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InputError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
