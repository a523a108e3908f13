"""``train`` and ``train_arrays``: check the request, set the run up in its work directory
(the lock, the signal handlers, the state to start from, the compiled step) and run its loop."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from flax import nnx
from jax.sharding import Mesh

from autoreg.data.dataset import Dataset
from autoreg.distributed import is_primary
from autoreg.train_config import TrainConfig
from autoreg.training.loop import TrainLoop
from autoreg.training.mesh import check_step_memory, data_mesh
from autoreg.training.resume import start_state
from autoreg.training.samples import sample_grid_writer
from autoreg.training.signals import StopSignals
from autoreg.training.state import LoopState, initial_state
from autoreg.training.step import make_optimizer, make_train_step
from autoreg.validation import check_training_inputs
from autoreg.workdir import Run
from autoreg.workdir_lock import locked


def train(
    model,
    train_set: Dataset,
    test_set: Dataset | None = None,
    *,
    workdir,
    config: TrainConfig = TrainConfig(),  # frozen, so one shared default is safe  # noqa: B008
    resume: bool = False,
    allow_changed_settings: bool = False,
    devices: list | None = None,
    progress: bool = True,
    write_samples: Callable | None = None,
):
    """Train ``model`` in place on a ``Dataset`` by maximum likelihood, with checkpoints.

    The model gets the datasets' class labels if it is class-conditional (they are ignored
    otherwise) and their features (a mel-conditioned WaveNet's log-mel frames). Sample grids
    go to ``workdir`` as ``config.sample_every`` says (``sample_grid_writer``).

    Args:
      model: a registry model (its current parameters are the starting point).
      train_set: the training ``Dataset`` (``autoreg.data.load``), with the model's levels.
      test_set: a ``Dataset`` for periodic test bits/dim, or None.
      workdir: directory for checkpoints, metrics, samples and TensorBoard events; one run at
        a time uses it.
      config: optimisation settings.
      resume: continue from the newest intact checkpoint in ``workdir`` (exactly).
      allow_changed_settings: resume even with other optimisation settings than the run had.
      devices: devices to train on (default: all; the batch is split across them).
      progress: show a progress bar (in process 0).
      write_samples: ``fn(model, step)`` called at sample steps instead of
        ``sample_grid_writer``; a path it returns is also that step's TensorBoard image.

    Returns:
      The trained model (EMA parameters if ``config.ema_decay``), also in ``model``.

    Raises:
      InputError: a dataset with other levels than the model's, a class-conditional model and
        a dataset without labels, or any input ``train_arrays`` refuses.
      TrainingError: as for ``train_arrays``.
      autoreg.errors.MemoryBudgetError: as for ``train_arrays``.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> images = np.random.default_rng(0).integers(0, 4, (8, 4, 4, 1))
      >>> train_set = autoreg.data.Dataset(images, labels=None, levels=4, source="random")
      >>> config = autoreg.TrainConfig(steps=2, batch_size=4)
      >>> trained = autoreg.train(
      ...     model, train_set, workdir="train_run", config=config, progress=False
      ... )
      >>> trained is model, autoreg.checkpoint.read_metadata("train_run")["step"]
      (True, 2)
    """
    for dataset in (train_set, test_set):
        if dataset is not None:
            dataset.check_levels(model)
    labels = (lambda d: d.labels) if model.num_classes else (lambda d: None)
    if write_samples is None:
        write_samples = sample_grid_writer(
            workdir, config.num_samples, config.seed, progress=progress
        )
    test = {}
    if test_set is not None:
        test = dict(test_x=test_set.examples, test_labels=labels(test_set))
        test.update(test_features=test_set.features)
    return train_arrays(
        model,
        train_set.examples,
        workdir,
        config,
        train_labels=labels(train_set),
        train_features=train_set.features,
        **test,
        resume=resume,
        allow_changed_settings=allow_changed_settings,
        devices=devices,
        progress=progress,
        write_samples=write_samples,
    )


def train_arrays(
    model,
    train_x: np.ndarray,
    workdir,
    config: TrainConfig = TrainConfig(),  # frozen, so one shared default is safe  # noqa: B008
    *,
    train_labels: np.ndarray | None = None,
    train_features: np.ndarray | None = None,
    test_x: np.ndarray | None = None,
    test_labels: np.ndarray | None = None,
    test_features: np.ndarray | None = None,
    resume: bool = False,
    allow_changed_settings: bool = False,
    devices: list | None = None,
    progress: bool = True,
    write_samples: Callable | None = None,
):
    """Train ``model`` in place on arrays by maximum likelihood, checkpointing in ``workdir``.

    The loop under ``train``, which takes ``Dataset``s. In a multi-process run every process
    calls it with the same arguments and its own copy of the data. SIGINT and SIGTERM stop the
    run at the end of the step under way, with a checkpoint of it (``Preempted``).

    Args:
      model: a registry model (its current parameters are the starting point).
      train_x: (N, *event) integer training data in 0..K-1.
      workdir: the work directory, as for ``train``.
      config: optimisation settings (``config.batch_size`` is the global batch).
      train_labels: (N,) class labels for class-conditional models, else None.
      train_features: (N, frames, F) local features of a locally conditioned model (a
        mel-conditioned WaveNet), else None.
      test_x: (M, *event) data for periodic test bits/dim, or None.
      test_labels: (M,) class labels of ``test_x`` for class-conditional models, else None.
      test_features: (M, frames, F) local features of ``test_x``, else None.
      resume: continue from the newest intact checkpoint in ``workdir`` (exactly).
      allow_changed_settings: resume even with other ``OPTIMISATION_FIELDS`` than the run had.
      devices: devices to train on (default: all; the batch is split across them).
      progress: show a progress bar (in process 0).
      write_samples: ``fn(model, step)`` called at sample steps, or None: no samples.

    Returns:
      The trained model (EMA parameters if ``config.ema_decay``), also in ``model``.

    Raises:
      InputError: bad inputs (``autoreg.validation.check_training_inputs``): a bad config
        field, data of the wrong dtype, shape or range, labels or features that do not fit.
      TrainingError: workdir in use (WorkdirInUse) or of another model, resume settings changed
        (ChangedSettings) or already done (NothingToTrain), batch larger than the data or not
        divisible by the devices, non-finite loss, stopped by a signal (Preempted).
      autoreg.errors.MemoryBudgetError: a step on this batch would not fit in
        ``autoreg.memory.memory_budget()`` (checked before anything is compiled or written).

    Examples:
      >>> from autoreg.training import train_arrays
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> train_x = np.random.default_rng(0).integers(0, 4, (8, 4, 4, 1))
      >>> config = autoreg.TrainConfig(steps=1, batch_size=4)
      >>> trained = train_arrays(model, train_x, "arrays_run", config, progress=False)
      >>> autoreg.checkpoint.read_metadata("arrays_run")["step"]
      1
    """
    check_training_inputs(
        model, config, train_x, train_labels, test_x, test_labels, train_features, test_features
    )
    mesh = data_mesh(config, len(train_x), devices)
    check_step_memory(model, config, train_x.shape[1:], mesh)  # before the work directory
    data = dict(train_x=train_x, train_labels=train_labels, train_features=train_features)
    data.update(test_x=test_x, test_labels=test_labels, test_features=test_features)
    run = Run(workdir, config.keep_checkpoints)
    with locked(run.workdir), StopSignals() as stop, run:  # run: closes the event file
        state, train_step = starting_point(
            run, model, config, mesh, train_x.ndim - 1, resume, allow_changed_settings
        )
        loop = TrainLoop(model, config, run, mesh, train_step, **data, write_samples=write_samples)
        state = loop.run_steps(state, progress and is_primary(), stop)
    nnx.update(model, nnx.state(state.local_model(), nnx.Param))
    return model


def starting_point(
    run: Run, model, config: TrainConfig, mesh: Mesh, event_ndim: int, resume: bool, allow: bool
) -> tuple[LoopState, Callable]:
    """The state a run starts from (step 0, or as checkpointed: ``start_state``) and its
    compiled step (``make_train_step``); ``allow``: resume with changed settings."""
    optimizer = make_optimizer(config)
    state = initial_state(model, optimizer, config, mesh)
    state = start_state(run, model, state, config, resume, allow)
    train_step = make_train_step(
        state.graphdef, state.rest, optimizer, event_ndim, config.ema_decay, config.compute_dtype
    )
    return state, train_step
