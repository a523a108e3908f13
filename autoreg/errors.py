"""The errors autoreg raises on purpose: one class per kind of cause, each with its exit status.

Everything the library refuses on purpose is an ``AutoregError``; the command line prints one
line for it and exits with the class's ``exit_status``. Anything else that escapes (a bug, an
unexpected failure inside JAX or XLA) is not one of these: the command line prints its traceback
and asks for a report, with status 70 (``INTERNAL_ERROR``), so that nobody mistakes it for bad
input.

- ``InputError`` (a ``ValueError``, as the library raised before): bad data, options, files or
  configs; ``InputTypeError`` (also a ``TypeError``) for a value of the wrong type.
- ``ResourceError``: a request that does not fit the memory budget (``MemoryBudgetError``,
  also a ``ValueError``); found before any work starts.
- ``DamagedCheckpointError`` (a ``ValueError``): a checkpoint that is damaged or not what it
  claims.
- ``TrainingError`` (an ``InputError``): a training run that cannot start as asked (a work
  directory in use, changed settings, nothing left to train).
- ``Preempted``: training stopped by SIGINT or SIGTERM, with a checkpoint. Not a
  ``ValueError``: a caller's ``except ValueError`` must not swallow a signal.

Examples:
    >>> from autoreg.errors import InputError, Preempted
    >>> issubclass(InputError, ValueError), issubclass(Preempted, ValueError)
    (True, False)
    >>> autoreg.create_model("pixelcnnn")
    Traceback (most recent call last):
    ...
    autoreg.errors.InputError: unknown model 'pixelcnnn'; known models: diagonal_bilstm, ...
"""

from __future__ import annotations

import signal

__all__ = [
    "INTERNAL_ERROR",
    "AutoregError",
    "DamagedCheckpointError",
    "InputError",
    "InputTypeError",
    "MemoryBudgetError",
    "Preempted",
    "ResourceError",
    "TrainingError",
]

INTERNAL_ERROR = 70  # exit status of anything that is not an AutoregError (EX_SOFTWARE)


class AutoregError(Exception):
    """Something autoreg refuses or stops on purpose; one line tells the user why.

    Attributes:
      exit_status: the command line's exit status for it.
    """

    exit_status = 1


class InputError(AutoregError, ValueError):
    """Bad data, options, files or configs, found before the work they would spoil."""

    exit_status = 2


class InputTypeError(InputError, TypeError):
    """An input of the wrong type (a float where a count goes, a string where an array does)."""


class ResourceError(AutoregError):
    """A request that does not fit what the machine can give it (memory, disk)."""

    exit_status = 2


class MemoryBudgetError(ResourceError, ValueError):
    """A request that needs more memory than ``autoreg.memory.memory_budget()`` allows,
    refused before anything is allocated (also a ``ValueError``).

    Its message says what the request needs, the limit and where the limit comes from, and,
    where there is one, what to do instead.

    Examples:
      >>> from autoreg.errors import MemoryBudgetError
      >>> from autoreg.memory import check_fits
      >>> try:
      ...     check_fits("sampling 16 images", 2**40, budget=2**30)
      ... except MemoryBudgetError as error:
      ...     print(error)
      sampling 16 images needs 1.00 TiB, more than the memory limit of 1.00 GiB (...)
    """


class DamagedCheckpointError(AutoregError, ValueError):
    """A checkpoint whose files cannot be read back as they were written: missing, a link, not
    a regular file, too large, or an array whose CRC32 or values are not what was saved."""

    exit_status = 2


class TrainingError(InputError):
    """Training cannot start or continue (bad workdir, non-finite loss, ...).

    The base class of the errors of ``autoreg.train`` and ``autoreg.training.train_arrays``
    (an ``InputError``, so a ``ValueError``).

    Examples:
      >>> from autoreg.errors import TrainingError
      >>> from autoreg.training import train_arrays
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> config = autoreg.TrainConfig(batch_size=4)
      >>> try:
      ...     train_arrays(model, np.zeros((2, 4, 4, 1), np.int32), "small_run", config)
      ... except TrainingError as error:
      ...     print(error)
      batch size 4 is larger than the dataset (2 examples)
    """


class Preempted(AutoregError):
    """Training stopped by a signal at the end of a step, after checkpointing that step.

    ``autoreg.train`` and ``autoreg.training.train_arrays`` raise it on SIGINT or SIGTERM;
    ``resume=True`` continues. Not a ``ValueError``: a caller's ``except ValueError`` must not
    swallow a signal.

    Args:
      signum: the signal received.
      step: the step checkpointed.
      workdir: the run's work directory.

    Attributes:
      signum: the signal received.
      step: the step checkpointed.
      workdir: the run's work directory.
      exit_status: 128 + the signal's number, as a shell reports a process the signal ended.

    Examples:
      >>> import signal
      >>> from autoreg.errors import Preempted
      >>> stop = Preempted(signal.SIGTERM, 500, "runs/mnist")
      >>> print(stop)
      stopped by SIGTERM at step 500; checkpoint saved in runs/mnist, continue with resume=True
      >>> stop.exit_status
      143
    """

    def __init__(self, signum: int, step: int, workdir):
        self.signum, self.step, self.workdir = int(signum), int(step), workdir
        self.exit_status = 128 + self.signum
        super().__init__(
            f"stopped by {signal.Signals(self.signum).name} at step {self.step}; checkpoint "
            f"saved in {workdir}, continue with resume=True"
        )
