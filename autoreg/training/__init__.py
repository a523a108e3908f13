"""Training: a jit-compiled, data-parallel optax step and a crash-safe loop with orbax checkpoints.

A training run lives in a work directory (``autoreg.workdir``)::

    WORKDIR/checkpoints/<step>/   orbax checkpoints (params + metadata + train_state); each step
                                  directory is also a plain model checkpoint for load_checkpoint
    WORKDIR/metrics.jsonl         one JSON object per log line (loss, test bits/dim, learning
                                  rate, speed)
    WORKDIR/samples_<step>.png    sample grids (image models; video models: samples_<step>.gif)
    WORKDIR/tensorboard/          the same metrics and grids as TensorBoard event files
                                  (``autoreg.tensorboard_log``): tensorboard --logdir WORKDIR

One run at a time trains in a work directory (it holds ``WORKDIR/train.lock``). Resuming is
exact: the data order is a function of (seed, step), the optimiser state, EMA and step are
restored, and nothing else is random; a resume with other optimisation settings is refused
unless asked for, and one whose newest checkpoint is damaged continues from the newest intact
one. orbax finalises a checkpoint by renaming its temporary directory, so a process killed at
any moment leaves only complete checkpoints. Several processes (``autoreg.distributed``) train
as one: the batch of each step is the same global batch, split over every process's devices,
each process reading only its own rows.

The modules, in the order a run uses them:

- ``api``: ``train`` and ``train_arrays``, which check the request and set the run up;
- ``mesh``: the devices a batch is split over, and whether a step fits in memory;
- ``step``: the loss, the optimiser and the jit-compiled step;
- ``state``: what the loop carries from step to step (``LoopState``);
- ``resume``: which checkpoint a resume continues from, and what it must agree with;
- ``loop``: the steps, and what falls due after each (``step_events``): metrics lines
  (``progress``), test evaluations, sample grids (``samples``) and checkpoints;
- ``data_order``: which examples each step trains on;
- ``signals``: stopping early on SIGINT, SIGTERM or the time limit.
"""

# Besides the names of __all__, the building blocks that callers use are importable from here
# (a redundant "as" marks a re-export); the rest of each module is imported from the module.
from autoreg.distributed import maybe_initialize_distributed
from autoreg.errors import Preempted, TrainingError
from autoreg.train_config import TrainConfig
from autoreg.training.api import train, train_arrays
from autoreg.training.data_order import batch_indices as batch_indices
from autoreg.training.data_order import epoch_order as epoch_order
from autoreg.training.resume import OPTIMISATION_FIELDS as OPTIMISATION_FIELDS
from autoreg.training.resume import ChangedSettings, NothingToTrain
from autoreg.training.resume import describe_changes as describe_changes
from autoreg.training.samples import sample_grid_writer as sample_grid_writer
from autoreg.training.step import learning_rate_schedule as learning_rate_schedule
from autoreg.training.step import make_optimizer as make_optimizer
from autoreg.training.step import make_train_step as make_train_step
from autoreg.workdir_lock import WorkdirInUse

__all__ = [
    "ChangedSettings",
    "NothingToTrain",
    "Preempted",
    "TrainConfig",
    "TrainingError",
    "WorkdirInUse",
    "maybe_initialize_distributed",
    "train",
    "train_arrays",
]
