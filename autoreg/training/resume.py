"""Resuming: which checkpoint a run continues from, what it must agree with, and the state it
continues with.

A resume continues from the newest intact checkpoint of the work directory; one that is
damaged is set aside (``WORKDIR/damaged/``) with a warning and the next older one tried. The
checkpoint must hold the same model and config, and the same optimisation settings
(``OPTIMISATION_FIELDS``) unless the caller allows a change; its parameters, optimiser state,
EMA and step are restored exactly.
"""

from __future__ import annotations

import dataclasses
import logging

import jax
import jax.numpy as jnp
import numpy as np

from autoreg.checkpoint import model_metadata, param_tree
from autoreg.checkpoint_checks import DamagedCheckpointError
from autoreg.distributed import agree
from autoreg.errors import TrainingError
from autoreg.train_config import TrainConfig
from autoreg.training.state import LoopState, train_state
from autoreg.training.step import make_optimizer
from autoreg.workdir import Run

log = logging.getLogger(__name__)

# TrainConfig fields a resumed run must keep unless the caller allows a change: they change
# what is trained. The others (steps, and bookkeeping) may change on every resume.
OPTIMISATION_FIELDS = (
    "batch_size",
    "learning_rate",
    "warmup_steps",
    "grad_clip",
    "ema_decay",
    "seed",
)


class ChangedSettings(TrainingError):
    """A resume asked for other optimisation settings than the run was trained with.

    ``allow_changed_settings=True`` continues with the new settings.

    Args:
      workdir: the run's work directory.
      changes: ``[(field, saved value, new value)]``.

    Attributes:
      changes: ``[(field, saved value, new value)]`` of the ``TrainConfig`` fields that differ.

    Examples:
      >>> from autoreg.training import ChangedSettings
      >>> error = ChangedSettings("runs/mnist", [("learning_rate", 0.001, 0.01)])
      >>> error.changes
      [('learning_rate', 0.001, 0.01)]
      >>> print(error)
      runs/mnist was trained with other settings: learning_rate 0.001 -> 0.01; pass
      allow_changed_settings=True to continue with the new ones
    """

    def __init__(self, workdir, changes: list):
        self.changes = changes  # [(field, saved value, new value)]
        super().__init__(
            f"{workdir} was trained with other settings: {describe_changes(changes)}; pass "
            "allow_changed_settings=True to continue with the new ones"
        )


class NothingToTrain(TrainingError):
    """A resume whose checkpoint is already at (or past) the requested number of steps.

    Args:
      workdir: the run's work directory.
      step: the step of its newest checkpoint.
      steps: the steps asked for (``TrainConfig.steps``).

    Attributes:
      step: the step of the newest checkpoint.
      steps: the steps asked for.

    Examples:
      >>> from autoreg.training import NothingToTrain
      >>> error = NothingToTrain("runs/mnist", 1000, 500)
      >>> error.step, error.steps
      (1000, 500)
      >>> print(error)
      runs/mnist is already at step 1000, past the 500 steps asked for: nothing to train (ask
      for more steps to continue)
    """

    def __init__(self, workdir, step: int, steps: int):
        self.step, self.steps = step, steps
        past = "past" if step > steps else "at"
        super().__init__(
            f"{workdir} is already at step {step}, {past} the {steps} steps asked for: nothing "
            "to train (ask for more steps to continue)"
        )


def describe_changes(changes: list) -> str:
    """'learning_rate 0.001 -> 0.002, seed 0 -> 1'."""
    return ", ".join(f"{name} {saved!r} -> {new!r}" for name, saved, new in changes)


def differences(saved: dict, wanted: dict, names) -> list:
    """[(name, saved value, wanted value)] of the ``names`` whose values differ."""
    return [(n, saved.get(n), wanted.get(n)) for n in names if saved.get(n) != wanted.get(n)]


def start_state(run: Run, model, state: LoopState, config, resume: bool, allow_changes: bool):
    """``state`` at step 0 for a fresh run, or as checkpointed at the newest intact step.

    A damaged checkpoint is set aside (``WORKDIR/damaged/``) with a warning and the next
    older one tried.

    Raises:
      TrainingError: the work directory holds another model, a fresh run finds checkpoints or
        a resume none (or none intact); ``ChangedSettings`` and ``NothingToTrain`` (both
        TrainingErrors) as their names say.
    """
    steps = run.steps()
    if not steps:
        if resume:
            raise TrainingError(f"--resume: no checkpoint in {run.workdir} to resume from")
        return state
    if not resume:
        raise TrainingError(
            f"{run.workdir} already holds checkpoints (step {steps[0]}); pass --resume to "
            "continue or use a new --workdir"
        )
    for step in steps:
        try:
            saved = run.metadata(step)
            saved_config = check_resumable(run, saved, model, config, allow_changes)
            restored = run.restore(step, resume_targets(state, saved_config), saved)
            damage = None
        except DamagedCheckpointError as error:
            damage = error
        if agree(damage is None):
            if step >= config.steps:
                raise NothingToTrain(run.workdir, step, config.steps)
            run.truncate_metrics(step)
            return carried_over(state, restored, step, config)
        where = run.set_aside(step)
        reason = damage or "damaged as another process read it"
        log.warning(f"checkpoint of step {step} moved to {where}, trying an older one: {reason}")
    raise TrainingError(f"--resume: no intact checkpoint in {run.checkpoint_dir}")


def check_resumable(run: Run, saved: dict, model, config, allow_changes: bool):
    """The TrainConfig that the checkpoint ``saved`` was trained with; a TrainingError if it
    holds another model, ChangedSettings if its optimisation settings differ from ``config``
    (unless ``allow_changes``)."""
    wanted = model_metadata(model)
    if saved.get("model") != wanted["model"] or saved.get("config") != wanted["config"]:
        changes = differences(saved.get("config") or {}, wanted["config"], wanted["config"])
        what = changes and f": {describe_changes(changes)}" or f" ({saved.get('model')})"
        raise TrainingError(
            f"{run.workdir} holds a checkpoint of another model or config{what}; resume with "
            "the same model options or use a new --workdir"
        )
    try:
        fields = {f.name for f in dataclasses.fields(TrainConfig)}
        saved_config = TrainConfig(**{k: v for k, v in saved["train"].items() if k in fields})
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise DamagedCheckpointError(
            f"{run.workdir}: unreadable training settings ({error})"
        ) from None
    changes = differences(
        dataclasses.asdict(saved_config), dataclasses.asdict(config), OPTIMISATION_FIELDS
    )
    if changes and not allow_changes:
        raise ChangedSettings(run.workdir, changes)
    return saved_config


def resume_targets(state: LoopState, saved: TrainConfig) -> dict:
    """The trees to restore into: the exported parameters (read to check them) and the resume
    state as the run with the ``saved`` settings wrote it."""
    opt_state = jax.eval_shape(make_optimizer(saved).init, state.params)
    ema = state.params if saved.ema_decay else None
    return {
        "params": param_tree(state.current_model()),
        "train_state": train_state(state.params, with_shardings(opt_state, state), ema),
    }


def with_shardings(abstract, state: LoopState):
    """``abstract`` (ShapeDtypeStructs) replicated like the parameters of ``state``."""
    sharding = jax.tree.leaves(state.params)[0].sharding
    return jax.tree.map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sharding), abstract
    )


def carried_over(state: LoopState, restored: dict, step: int, config: TrainConfig) -> LoopState:
    """``state`` with the restored parameters, optimiser state and EMA of ``step``, carried over
    to the optimiser that ``config`` describes (the same state under other settings)."""
    resumed = restored["train_state"]
    leaves = jax.tree.leaves(resumed["opt_state"])
    fresh = state.opt_state
    if [np.shape(x) for x in leaves] != [np.shape(x) for x in jax.tree.leaves(fresh)]:
        raise TrainingError(f"the optimiser state of step {step} does not fit the new settings")
    ema = resumed.get("ema", resumed["params"]) if config.ema_decay else None
    return dataclasses.replace(
        state,
        params=resumed["params"],
        opt_state=jax.tree.unflatten(jax.tree.structure(fresh), leaves),
        ema=None if ema is None else jax.tree.map(jnp.copy, ema),
        step=step,
    )
