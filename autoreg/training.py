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
any moment leaves only complete checkpoints.

Several processes (``autoreg.distributed``) train as one: the batch of each step is the same
global batch, split over every process's devices, each process reading only its own rows.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm.auto import tqdm

from autoreg.checkpoint import model_metadata, param_tree
from autoreg.checkpoint_checks import DamagedCheckpointError
from autoreg.data.dataset import Dataset
from autoreg.distributed import (
    agree,
    every_process,
    is_primary,
    local_copy,
    maybe_initialize_distributed,
)
from autoreg.errors import Preempted
from autoreg.likelihood import log_prob_from_logits, nats_to_bits_per_dim
from autoreg.memory import check_training
from autoreg.models.functional import call_model
from autoreg.train_config import TrainConfig
from autoreg.validation import check_training_inputs
from autoreg.workdir import (
    ChangedSettings,
    NothingToTrain,
    Run,
    TrainingError,
    WorkdirInUse,
    describe_changes,
    differences,
    locked,
)

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


def cast_floats(tree, dtype):
    """``tree`` with its floating-point arrays cast to ``dtype`` (integers left alone)."""
    return jax.tree.map(
        lambda a: a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree
    )


def learning_rate_schedule(config: TrainConfig) -> optax.Schedule:
    """The learning rate of the update at step t (0-based): a linear warm-up from 0, then a
    cosine decay to 1% of the peak."""
    return optax.warmup_cosine_decay_schedule(
        0.0,
        config.learning_rate,
        min(config.warmup_steps, config.steps),
        max(config.steps, config.warmup_steps + 1),
        end_value=config.learning_rate * 0.01,
    )


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """Adam with linear warm-up, cosine decay and global-norm clipping."""
    parts = [optax.clip_by_global_norm(config.grad_clip)] if config.grad_clip > 0 else []
    return optax.chain(*parts, optax.adam(learning_rate_schedule(config)))


def batch_indices(step: int, num_examples: int, batch_size: int, seed: int) -> np.ndarray:
    """Example indices of the batch at ``step``: a fresh permutation every epoch, a pure
    function of (seed, step), so a resumed run sees exactly the same data order."""
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


def make_train_step(
    graphdef,
    rest,
    optimizer,
    event_ndim: int,
    ema_decay: float,
    compute_dtype: str = "float32",
) -> Callable:
    """A jit-compiled step ``(params, opt_state, ema, x, labels, features=None) -> (..., loss)``
    that donates its state buffers. ``loss`` is the mean negative log-likelihood in nats per
    dimension.

    With ``compute_dtype="bfloat16"`` the step runs the network on bfloat16 copies of the
    parameters (and of its constant buffers); the gradients reach the float32 parameters through
    the cast, and the logits are cast back to float32 before the log-softmax.
    """
    dtype = jnp.dtype(compute_dtype)

    def loss_fn(params, x, labels, features):
        if dtype != jnp.float32:
            params, constants = cast_floats(params, dtype), cast_floats(rest, dtype)
        else:
            constants = rest
        model = nnx.merge(graphdef, params, constants)
        logits = call_model(model, x, labels, features).astype(jnp.float32)
        dims = math.prod(x.shape[1:])
        return -log_prob_from_logits(logits, x, event_ndim).mean() / dims

    def step(params, opt_state, ema, x, labels, features=None):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, labels, features)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if ema_decay:
            # Warm-up of the decay, min(decay, (1 + t) / (10 + t)) at step t, so that the
            # average forgets the random initialisation in short runs too.
            _, count = optax.tree_utils.tree_get_all_with_path(opt_state, "count")[0]
            t = count.astype(jnp.float32)  # optimiser steps taken, this one included
            decay = jnp.minimum(ema_decay, (1.0 + t) / (10.0 + t))
            ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)
        return params, opt_state, ema, loss

    return jax.jit(step, donate_argnums=(0, 1, 2))


def train_state(params, opt_state, ema) -> dict:
    """What a resume needs beyond the exported model: raw parameters, optimiser state, EMA."""
    state = {"params": params, "opt_state": opt_state}
    return state if ema is None else {**state, "ema": ema}


def shard_batch(mesh: Mesh, data: np.ndarray, index: np.ndarray, dtype=None) -> jax.Array:
    """The global batch ``data[index]`` split over the mesh's data axis: each process reads
    only the rows that its own devices hold."""
    sharding = NamedSharding(mesh, P("data"))

    def rows(block: tuple) -> np.ndarray:  # the index of one device's block of the batch
        part = data[index[block[0]]]
        return part if dtype is None else part.astype(dtype)

    return jax.make_array_from_callback((len(index), *data.shape[1:]), sharding, rows)


def check_step_memory(model, config: TrainConfig, event_shape: tuple, mesh: Mesh) -> None:
    """Refuse a training step of ``model`` on ``config.batch_size`` examples split over ``mesh``
    that would not fit in this process's memory budget (``autoreg.memory.check_training``).

    CPU devices share the host's memory, so this process's whole part of the batch counts;
    an accelerator holds its own part of the batch and a copy of the state.

    Raises:
      autoreg.errors.MemoryBudgetError: it does not fit; the message names a batch that does.
    """
    devices = list(mesh.devices.flat)
    local = [d for d in devices if d.process_index == jax.process_index()]
    per_device = config.batch_size // len(devices)
    check_training(
        model,
        per_device * len(local),
        tuple(event_shape),
        devices=len(local),
        shared=local[0].platform == "cpu",
        ema=bool(config.ema_decay),
        compute_bytes=jnp.dtype(config.compute_dtype).itemsize,
        device=local[0],
    )


def data_mesh(config: TrainConfig, num_examples: int, devices: list | None) -> Mesh:
    """The 1-D ``("data",)`` mesh over ``devices`` (default: all) that each batch is split over.

    Raises:
      TrainingError: a batch larger than the data, or one that does not split over the devices.
    """
    if config.batch_size > num_examples:
        raise TrainingError(
            f"batch size {config.batch_size} is larger than the dataset ({num_examples} examples)"
        )
    devices = devices or jax.devices()
    if config.batch_size % len(devices):
        raise TrainingError(
            f"batch size {config.batch_size} must be divisible by the {len(devices)} devices"
        )
    return Mesh(np.array(devices), ("data",))


@dataclasses.dataclass
class LoopState:
    """What the training loop carries from step to step."""

    graphdef: nnx.GraphDef  # the model's structure
    rest: nnx.State  # its non-parameter state, constant during training
    params: nnx.State  # trainable parameters, replicated over the mesh
    opt_state: optax.OptState  # optimiser state, replicated
    ema: nnx.State | None  # EMA of the parameters (None when config.ema_decay is 0)
    step: int  # optimiser steps taken

    def current_model(self):
        """The model to evaluate, sample and export: EMA parameters if kept, else the raw ones."""
        return nnx.merge(self.graphdef, self.params if self.ema is None else self.ema, self.rest)

    def local_model(self):
        """``current_model`` on this process's own copy of the parameters: what evaluation and
        sampling use, in process 0 alone."""
        params = local_copy(self.params if self.ema is None else self.ema)
        return nnx.merge(self.graphdef, params, self.rest)


def initial_state(model, optimizer, config: TrainConfig, mesh: Mesh) -> LoopState:
    """Step 0: the model's parameters (copied), a fresh optimiser state and EMA, replicated."""
    replicated = NamedSharding(mesh, P())
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    # Copies: the step donates its inputs, and the caller's model must stay usable.
    params = jax.tree.map(jnp.copy, jax.device_put(params, replicated))
    opt_state = jax.device_put(optimizer.init(params), replicated)
    ema = jax.tree.map(jnp.copy, params) if config.ema_decay else None
    return LoopState(graphdef, rest, params, opt_state, ema, step=0)


def start_state(run: Run, model, state: LoopState, config, resume: bool, allow_changes: bool):
    """``state`` at step 0 for a fresh run, or as checkpointed at the newest intact step.

    A damaged checkpoint is set aside (``WORKDIR/damaged/``) with a warning and the next
    older one tried. Raises TrainingError when the work directory holds another model, when
    a fresh run finds checkpoints or a resume none (or none intact), and ChangedSettings or
    NothingToTrain (both TrainingErrors) as their names say.
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


class StepEvents(NamedTuple):
    """What is due after a training step, besides the step itself."""

    log: bool  # a line of train metrics
    test: bool  # a test bits/dim evaluation
    sample: bool  # a sample grid
    save: bool  # a checkpoint


def step_events(config: TrainConfig, step: int, last_step: int, sampling: bool) -> StepEvents:
    """The events due after ``step`` steps; the last step logs, tests, samples and saves."""
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


class Throughput:
    """Training examples per second over the steps since the last reset."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.reset()

    def reset(self) -> None:
        """Start a new window now."""
        self.start, self.steps = time.perf_counter(), 0

    def add_step(self) -> None:
        """Count one more step in the window."""
        self.steps += 1

    def examples_per_sec(self) -> float:
        """The speed over the window so far."""
        return self.steps * self.batch_size / (time.perf_counter() - self.start)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and what SLURM, Kubernetes, docker send


class StopSignals:
    """While entered, SIGINT and SIGTERM only record that a stop was asked for: the loop then
    stops at the end of its step, with a checkpoint. Later signals change nothing (a second
    Ctrl-C does not interrupt the checkpoint being written). The previous handlers come back on
    exit. Outside the main thread (where Python cannot set handlers) nothing is installed."""

    def __init__(self):
        self.signum = 0  # the first signal received, 0 while none
        self.previous = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self.previous[signum] = signal.signal(signum, self.record)
        return self

    def record(self, signum, frame) -> None:
        """The handler: remember the first signal."""
        self.signum = self.signum or signum

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self.previous = {}


def stop_request(signum: int, started: float, limit: float) -> tuple[int, bool]:
    """Whether to stop after this step, the same in every process (one collective).

    Args:
      signum: the stop signal this process received (0: none).
      started: ``time.monotonic()`` at the start of training.
      limit: the time limit in seconds (0: none).

    Returns:
      (a signal some process received, or 0; whether ``limit`` seconds have passed by process
      0's clock).
    """
    late = bool(limit) and time.monotonic() - started > limit
    values = every_process((signum, int(late)))  # (processes, 2)
    return int(values[:, 0].max()), bool(values[0, 1])


def progress_postfix(bits: float | None, test_bits: float | None) -> dict:
    """The progress bar's postfix: the latest train and test bits/dim that are known."""
    postfix = {} if bits is None else {"bits/dim": f"{bits:.3f}"}
    if test_bits is not None:
        postfix["test"] = f"{test_bits:.3f}"
    return postfix


@dataclasses.dataclass
class TrainLoop:
    """A training run once set up: its data, its step, and where it writes."""

    model: object  # the caller's model (named in the checkpoint metadata)
    config: TrainConfig
    run: Run  # the work directory
    mesh: Mesh  # the devices the batch is split over
    train_step: Callable  # from make_train_step
    train_x: np.ndarray  # (N, *event) integers in 0..K-1
    train_labels: np.ndarray | None  # (N,) class labels, or None
    train_features: np.ndarray | None  # (N, frames, F) local features, or None
    test_x: np.ndarray | None  # (M, *event) test data, or None
    test_labels: np.ndarray | None  # (M,) test labels, or None
    test_features: np.ndarray | None  # (M, frames, F) test features, or None
    write_samples: Callable | None  # fn(model, step) -> PNG path or None, at sample steps

    def take_step(self, state: LoopState) -> jax.Array:
        """Train on the batch of ``state.step`` and advance ``state``; returns the loss (on the
        device, not yet read)."""
        index = batch_indices(
            state.step, len(self.train_x), self.config.batch_size, self.config.seed
        )
        x = shard_batch(self.mesh, self.train_x, index, np.int32)  # (B, *event)
        labels, features = (  # (B,) and (B, frames, F), or None
            None if a is None else shard_batch(self.mesh, a, index)
            for a in (self.train_labels, self.train_features)
        )
        state.params, state.opt_state, state.ema, loss = self.train_step(
            state.params, state.opt_state, state.ema, x, labels, features
        )
        state.step += 1
        return loss

    def read_bits(self, bar, at_step: int, loss) -> float:
        """The train bits/dim of step ``at_step`` from its loss; a TrainingError (after closing
        the progress bar) if the loss is not finite."""
        loss = float(loss)
        if not math.isfinite(loss):
            bar.close()
            last = self.run.latest_step()
            kept = f"the last good checkpoint (step {last}) is kept" if last else "nothing saved"
            raise TrainingError(f"loss became {loss} at step {at_step}; stopped, {kept}")
        return nats_to_bits_per_dim(loss, 1)

    def log_train(self, step: int, bits: float, speed: Throughput) -> None:
        """Write the metrics line of ``step`` (its update's learning rate included) and start a
        new speed window."""
        rate = float(learning_rate_schedule(self.config)(step - 1))  # step counts from 1
        record = {"step": step, "train_bits_per_dim": bits, "learning_rate": rate}
        self.run.log({**record, "examples_per_sec": speed.examples_per_sec()})
        speed.reset()

    def log_test_bits(self, state: LoopState) -> float | None:
        """Evaluate and log the test bits/dim of the current model (None without test data, and
        in every process but process 0)."""
        from autoreg.evaluation import evaluate_arrays  # it imports nothing from here

        if self.test_x is None or not is_primary():
            return None
        n = min(self.config.eval_examples, len(self.test_x))
        labels, features = (
            None if a is None else a[:n] for a in (self.test_labels, self.test_features)
        )
        result = evaluate_arrays(
            state.local_model(), self.test_x[:n], labels, features=features, progress=False
        )
        self.run.log({"step": state.step, "test_bits_per_dim": result.bits_per_dim})
        return result.bits_per_dim

    def save(self, state: LoopState) -> None:
        """Checkpoint ``state``: the exported model, its metadata and the resume state."""
        extra = {"step": state.step, "train": dataclasses.asdict(self.config)}
        metadata = model_metadata(self.model, extra)
        resume = train_state(state.params, state.opt_state, state.ema)
        self.run.save(state.step, param_tree(state.current_model()), resume, metadata)

    def run_steps(
        self, state: LoopState, progress: bool, stop: StopSignals | None = None
    ) -> LoopState:
        """Train from ``state`` to ``config.steps`` (or the time limit), doing what each step
        makes due. Each loss is read one step late, while the next step runs, except where
        something is logged or saved: nothing is logged or saved after a bad loss.

        Raises:
          Preempted: ``stop`` recorded a signal (in any process): the step under way was
            finished, logged and checkpointed first.
          TrainingError: a non-finite loss.
        """
        config = self.config
        bar = tqdm(
            total=config.steps, initial=state.step, desc="train", unit="step", disable=not progress
        )
        speed, bits, last_test = Throughput(config.batch_size), None, None
        started = time.monotonic()
        last_step = config.steps
        unread = None  # (step, loss on the device) of the step before, read one step late
        while state.step < last_step:
            loss = self.take_step(state)
            speed.add_step()
            if unread is not None:  # the previous step's loss, read while this step runs
                bits = self.read_bits(bar, *unread)
            unread = (state.step, loss)
            signalled, late = stop_request(stop.signum if stop else 0, started, config.time_limit)
            signalled = signalled if state.step < config.steps else 0  # done anyway
            if late or signalled:
                last_step = state.step  # finish this step as the last one
            due = step_events(config, state.step, last_step, self.write_samples is not None)
            if signalled:  # be quick: the checkpoint and the metrics line, no evaluation
                due = StepEvents(log=True, test=False, sample=False, save=True)
            if any(due):
                bits, unread = self.read_bits(bar, *unread), None
            if due.log:
                self.log_train(state.step, bits, speed)
            if due.test:
                last_test = self.log_test_bits(state)
            if due.sample and is_primary():
                picture = self.write_samples(state.local_model(), state.step)
                if picture is not None:  # the PNG written: also a TensorBoard image
                    self.run.log_picture(state.step, picture)
            if due.save:
                self.save(state)
            bar.set_postfix(progress_postfix(bits, last_test))
            bar.update(1)
            if signalled:
                bar.close()
                raise Preempted(signalled, state.step, self.run.workdir)
        bar.close()
        return state


MAX_VIDEO_SAMPLES = 4  # video models: clips in each samples_<step>.gif


def sample_grid_writer(workdir, num_samples: int, seed: int, *, progress: bool = True) -> Callable:
    """The ``write_samples`` that ``train`` uses unless given another: ``fn(model, step)``
    that writes a grid of ``num_samples`` samples of an image model to
    ``workdir/samples_<step>.png`` and returns its path (class labels cycling for a
    class-conditional model); a video model's are an animated GIF ``samples_<step>.gif`` of at
    most ``MAX_VIDEO_SAMPLES`` clips side by side (returned as None: TensorBoard shows images
    only); audio models write nothing and return None.

    Args:
      workdir: the run's work directory.
      num_samples: images per grid.
      seed: the sampling key of step ``s`` is ``seed + s`` (modulo the largest seed).
      progress: show a progress bar while sampling takes over a second.

    Returns:
      The writer.
    """
    from pathlib import Path

    from autoreg.generate import sample
    from autoreg.image_io import save_grid
    from autoreg.validation import MAX_SEED

    def write_samples(current, step) -> Path | None:
        if current.kind == "audio":
            return None
        key = (seed + step) % (MAX_SEED + 1)
        if current.kind == "video":
            from autoreg.video.gif import write_samples_gif

            clips = sample(current, key, min(num_samples, MAX_VIDEO_SAMPLES), progress=progress)
            write_samples_gif(Path(workdir) / f"samples_{step}.gif", clips, current.levels)
            return None
        labels = np.arange(num_samples) % current.num_classes if current.num_classes else None
        samples = sample(current, key, num_samples, labels=labels, progress=progress)
        path = Path(workdir) / f"samples_{step}.png"
        return save_grid(np.asarray(samples), current.levels, path)

    return write_samples


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
    otherwise) and their features (a mel-conditioned WaveNet's log-mel frames)::

        train_set = autoreg.data.load("mnist.npz", split="train")
        test_set = autoreg.data.load("mnist.npz", split="test")
        autoreg.train(model, train_set, test_set, workdir="runs/x", config=TrainConfig(steps=100))

    Sample grids go to ``workdir`` as ``config.sample_every`` says (every that many steps and
    at the end; 0: at the end only; -1: never), written by ``sample_grid_writer``: an image
    model's ``config.num_samples`` samples as ``samples_<step>.png``, a video model's as
    ``samples_<step>.gif``, none for an audio model.

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
      write_samples: ``fn(model, step)`` called at sample steps instead of the default, or
        None for the default: ``sample_grid_writer(workdir, config.num_samples,
        config.seed)``; a path it returns is read back as a PNG and also written as the
        TensorBoard image ``samples`` of that step.

    Returns:
      The trained model (EMA parameters if ``config.ema_decay``), also in ``model``.

    Raises:
      InputError: a dataset with other levels than the model's, a class-conditional model and
        a dataset without labels, or any input ``train_arrays`` refuses.
      TrainingError: as for ``train_arrays``.
      autoreg.errors.MemoryBudgetError: as for ``train_arrays``.

    Examples:
      >>> import json
      >>> from pathlib import Path
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> images = np.random.default_rng(0).integers(0, 4, (8, 4, 4, 1))
      >>> train_set = autoreg.data.Dataset(images, labels=None, levels=4, source="random")
      >>> test_set = autoreg.data.Dataset(images[:4], labels=None, levels=4, source="random")
      >>> config = autoreg.TrainConfig(steps=2, batch_size=4)
      >>> trained = autoreg.train(
      ...     model, train_set, test_set, workdir="train_run", config=config, progress=False
      ... )
      >>> trained is model, sorted(p.name for p in Path("train_run/checkpoints").iterdir())
      (True, ['2'])
      >>> sorted(p.name for p in Path("train_run").glob("samples_*"))  # sample_every=0: the end
      ['samples_2.png']
      >>> for line in Path("train_run/metrics.jsonl").read_text().splitlines():
      ...     print(sorted(json.loads(line)))
      ['examples_per_sec', 'learning_rate', 'step', 'train_bits_per_dim']
      ['step', 'test_bits_per_dim']
      >>> autoreg.train(model, train_set, workdir="train_run", config=config, resume=True)
      Traceback (most recent call last):
      ...
      autoreg.workdir.NothingToTrain: ...train_run is already at step 2, at the 2 steps asked
      for: nothing to train (ask for more steps to continue)
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
        test = dict(
            test_x=test_set.examples,
            test_labels=labels(test_set),
            test_features=test_set.features,
        )
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

    The loop under ``train``, which takes ``Dataset``s.

    In a multi-process run (``autoreg.distributed``) every process calls this with the same
    arguments and its own copy of the data; ``config.batch_size`` is the global batch.

    Args:
      model: a registry model (its current parameters are the starting point).
      train_x: (N, *event) integer training data in 0..K-1.
      workdir: directory for checkpoints, metrics, samples and TensorBoard events; one run at
        a time uses it.
      config: optimisation settings.
      train_labels: (N,) class labels for class-conditional models, else None.
      train_features: (N, frames, F) local features of a locally conditioned model (a
        mel-conditioned WaveNet), else None.
      test_x: (M, *event) data for periodic test bits/dim, or None.
      test_labels: (M,) class labels of ``test_x`` for class-conditional models, else None.
      test_features: (M, frames, F) local features of ``test_x``, else None.
      resume: continue from the newest intact checkpoint in ``workdir`` (exactly).
      allow_changed_settings: resume even with other optimisation settings than the run had
        (``OPTIMISATION_FIELDS``: batch size, learning rate, warm-up, clip, EMA decay, seed).
      devices: devices to train on (default: all; the batch is split across them).
      progress: show a progress bar (in process 0).
      write_samples: ``fn(model, step)`` called at sample steps (e.g. to write a PNG grid:
        ``sample_grid_writer``, which ``train`` passes by default), or None: no samples; a
        path it returns is read back as a PNG and also written as the TensorBoard image
        ``samples`` of that step.

    Returns:
      The trained model (EMA parameters if ``config.ema_decay``), also in ``model``.

    SIGINT and SIGTERM (in the main thread) stop the run at the end of the step under way,
    with a checkpoint of that step, by raising ``Preempted``; the handlers before the call are
    restored after it.

    Raises:
      InputError: bad inputs (``autoreg.validation.check_training_inputs``): a bad config
        field, data of the wrong dtype, shape or range, labels or features that do not fit
        the model or the data.
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
    run = Run(workdir, config.keep_checkpoints)
    with locked(run.workdir), StopSignals() as stop, run:  # run: closes the event file
        optimizer = make_optimizer(config)
        state = initial_state(model, optimizer, config, mesh)
        state = start_state(run, model, state, config, resume, allow_changed_settings)
        train_step = make_train_step(
            state.graphdef,
            state.rest,
            optimizer,
            train_x.ndim - 1,
            config.ema_decay,
            config.compute_dtype,
        )
        loop = TrainLoop(
            model,
            config,
            run,
            mesh,
            train_step,
            train_x=train_x,
            train_labels=train_labels,
            train_features=train_features,
            test_x=test_x,
            test_labels=test_labels,
            test_features=test_features,
            write_samples=write_samples,
        )
        state = loop.run_steps(state, progress and is_primary(), stop)
    nnx.update(model, nnx.state(state.local_model(), nnx.Param))
    return model
