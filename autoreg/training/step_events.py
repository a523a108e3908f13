"""What is due after a training step besides the step itself: a metrics line, a test
evaluation, a sample grid, a checkpoint."""

from __future__ import annotations

from typing import NamedTuple

from autoreg.train_config import TrainConfig


class StepEvents(NamedTuple):
    """What is due after a training step, besides the step itself."""

    log: bool  # a line of train metrics
    test: bool  # a test bits/dim evaluation
    sample: bool  # a sample grid
    save: bool  # a checkpoint


def step_events(config: TrainConfig, step: int, last_step: int, sampling: bool) -> StepEvents:
    """The events due after ``step`` steps; the last step logs, tests, samples and saves.

    Args:
      config: the run's settings (``log_every``, ``eval_every``, ``sample_every``,
        ``checkpoint_every``).
      step: the optimiser steps taken, this one included.
      last_step: the step the run ends at (``config.steps``, or earlier when stopped).
      sampling: whether the run writes sample grids at all.

    Returns:
      The events due.
    """
    last = step == last_step
    return StepEvents(
        log=step % config.log_every == 0 or last,
        test=bool(config.eval_every and step % config.eval_every == 0) or last,
        sample=sampling
        and (
            (config.sample_every > 0 and step % config.sample_every == 0)
            or (config.sample_every >= 0 and last)
        ),
        save=step % config.checkpoint_every == 0 or last,
    )
