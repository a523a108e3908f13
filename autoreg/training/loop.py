"""The training loop of a run once set up: each step, and the metrics, test evaluations,
sample grids and checkpoints that fall due after it.

Each loss is read one step late, while the next step runs, except where something is logged
or saved, so that nothing is logged or saved after a bad loss. A stop signal or the time limit
ends the run at the end of the step under way, with a checkpoint of that step.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import jax
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from autoreg.checkpoint import model_metadata, param_tree
from autoreg.distributed import is_primary
from autoreg.errors import Preempted, TrainingError
from autoreg.evaluation import evaluate_arrays
from autoreg.likelihood import nats_to_bits_per_dim
from autoreg.train_config import TrainConfig
from autoreg.training.data_order import batch_indices
from autoreg.training.mesh import shard_batch
from autoreg.training.progress import Throughput, progress_postfix
from autoreg.training.signals import StopSignals, stop_request
from autoreg.training.state import LoopState, train_state
from autoreg.training.step import learning_rate_schedule
from autoreg.training.step_events import StepEvents, step_events
from autoreg.workdir import Run


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
