"""The files of a training work directory: its lock, checkpoints and metrics.

::

    WORKDIR/train.lock            held (flock) by the run training in WORKDIR, records its pid
    WORKDIR/checkpoints/<step>/   orbax checkpoints (params + metadata + train_state)
    WORKDIR/damaged/<step>/       checkpoints found damaged on resume, set aside
    WORKDIR/metrics.jsonl         one JSON object per log line
    WORKDIR/tensorboard/          TensorBoard event files of the same lines and sample grids

Training writes only its own files: the work directory must be a writable directory, and each
of the entries above (and ``samples_<step>.png``, every checkpoint and every event file) a real
file or directory, not a symbolic link, which would send a write elsewhere; this is checked
before training starts, and files are opened without following links (``O_NOFOLLOW``) besides.
A checkpoint that cannot be written (a full disk) is an OSError that leaves no partial
directory behind.

Only one run trains in a work directory at a time: ``WorkdirLock`` is an ``fcntl.flock`` on
``train.lock``, which the OS releases when its process ends, however it ends (SIGKILL
included), so a lock left behind never blocks the next run. In a multi-process run process 0
alone takes the lock and writes metrics (and TensorBoard events); every process calls ``save``
(orbax writes each checkpoint once, from all of them).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

import numpy as np
import orbax.checkpoint as ocp
from PIL import Image

from autoreg.atomic import atomic_write, why_unwritable
from autoreg.checkpoint import remove_partial, restore_items, save_failure
from autoreg.checkpoint_checks import (
    DamagedCheckpointError,
    check_files,
    checksums,
    drop_orbax_unraisable_reports,
    read_json,
)
from autoreg.distributed import agree, barrier, is_primary
from autoreg.errors import TrainingError
from autoreg.tensorboard_log import TensorBoardLog

log = logging.getLogger(__name__)


class WorkdirInUse(TrainingError):
    """Another training run holds the work directory's lock (``WORKDIR/train.lock``).

    The message names the process that holds it. The lock goes with that process, however it
    ends, so the work directory is free again once the other run has stopped.

    Examples:
      >>> from pathlib import Path
      >>> from autoreg.training import WorkdirInUse, train_arrays
      >>> from autoreg.workdir import locked
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> train_x = np.zeros((4, 4, 4, 1), np.int32)
      >>> with locked(Path("busy_run")):  # as another run training there holds it
      ...     train_arrays(model, train_x, "busy_run", autoreg.TrainConfig(batch_size=4))
      Traceback (most recent call last):
      ...
      autoreg.workdir.WorkdirInUse: ...busy_run is in use by another training run (...); wait
      for it to end or use another --workdir
    """


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


def linked(path) -> TrainingError:
    """The error for a symbolic link where training would write a file of its own."""
    return TrainingError(
        f"{path} is a symbolic link; training writes only its own files in a work directory "
        "(move the link away or use another --workdir)"
    )


def open_own_file(path: Path, flags: int) -> int:
    """``os.open(path, flags)`` for a file of the work directory, never through a link."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise linked(path) from None
        raise


def check_workdir(workdir: Path) -> None:
    """Check, creating nothing, that training may write in ``workdir``: a directory (or one
    that can be created) that takes new files, none of whose files and folders that training
    writes (``train.lock``, ``metrics.jsonl``, ``samples_<step>.png``, ``checkpoints``,
    ``damaged`` and ``tensorboard`` and every entry in them) is a symbolic link.

    Raises:
      TrainingError: naming the path that is not a directory, not writable, or a link.
    """
    existing = workdir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise TrainingError(f"{existing} is not a directory; name a directory as --workdir")
    reason = why_unwritable(existing, prefix=".train.lock.")
    if reason and existing != workdir:
        raise TrainingError(
            f"cannot create the work directory {workdir}: {existing} takes no new files ({reason})"
        )
    if reason:
        raise TrainingError(f"the work directory {workdir} is not writable: {reason}")
    if existing != workdir:
        return
    folders = ("checkpoints", "damaged", "tensorboard")  # each entry in them is checked too
    own = {"train.lock", "metrics.jsonl", *folders}
    for entry in sorted(os.scandir(workdir), key=lambda e: e.name):
        is_samples = entry.name.startswith("samples_") and entry.name.endswith(".png")
        if not (entry.name in own or is_samples):
            continue
        if entry.is_symlink():
            raise linked(entry.path)
        if entry.name in folders and entry.is_dir():
            for inner in sorted(os.scandir(entry.path), key=lambda e: e.name):
                if inner.is_symlink():
                    raise linked(inner.path)


class WorkdirLock:
    """An exclusive lock on a work directory for as long as one training run uses it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.path = workdir / "train.lock"
        self.fd = None
        self.created = False  # the work directory did not exist before the lock

    def acquire(self) -> None:
        """Take the lock, or raise WorkdirInUse naming the process that holds it (a
        TrainingError if training cannot write in the work directory: ``check_workdir``)."""
        check_workdir(self.workdir)
        self.created = not self.workdir.exists()
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TrainingError(
                f"cannot create the work directory {self.workdir}: {error.strerror}"
            ) from None
        fd = open_own_file(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace")
            os.close(fd)
            raise WorkdirInUse(
                f"{self.workdir} is in use by another training run ({describe_holder(holder)}); "
                "wait for it to end or use another --workdir"
            ) from None
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        self.fd = fd

    def release(self) -> None:
        """Let go of the lock; remove a work directory it created if nothing else is in it."""
        if self.fd is None:
            return
        if self.created and [p.name for p in self.workdir.iterdir()] == [self.path.name]:
            self.path.unlink()
            self.workdir.rmdir()
        os.close(self.fd)  # closing the file releases the flock
        self.fd = None


def describe_holder(record: str) -> str:
    """'pid 123 on host, started 2025-01-01 12:00:00' from a lock file's JSON record."""
    try:
        holder = json.loads(record)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder["started"]))
        return f"pid {holder['pid']} on {holder['host']}, started {started}"
    except (ValueError, KeyError, TypeError, OverflowError):
        return "a process that has not yet recorded its pid"


def check_not_in_use(workdir) -> None:
    """WorkdirInUse at once if another run holds the lock of ``workdir``, a TrainingError if
    training cannot write there (``check_workdir``); creates nothing. For a caller with work to
    do before ``train`` takes the lock."""
    workdir = Path(workdir).absolute()
    refused = None
    if is_primary():
        try:
            check_workdir(workdir)
            if os.path.lexists(workdir / "train.lock"):
                lock = WorkdirLock(workdir)
                try:
                    lock.acquire()
                finally:
                    lock.release()
        except TrainingError as error:
            refused = error
    if not agree(refused is None):
        raise refused or WorkdirInUse(f"{workdir} is in use: process 0 could not lock it")


@contextlib.contextmanager
def locked(workdir: Path):
    """Hold the lock of ``workdir`` (process 0 takes it; every process learns whether it did)."""
    lock, refused = WorkdirLock(workdir), None
    if is_primary():
        try:
            lock.acquire()
        except WorkdirInUse as error:
            refused = error
    if not agree(refused is None):
        raise refused or WorkdirInUse(f"{workdir} is in use: process 0 could not lock it")
    try:
        yield
    finally:
        lock.release()


class Run:
    """Files of a work directory: checkpoints, metrics, samples, TensorBoard events.

    ``close`` (or leaving a ``with`` block) closes the event file.
    """

    def __init__(self, workdir, keep: int):
        self.workdir = Path(workdir).absolute()
        self.checkpoint_dir = self.workdir / "checkpoints"
        self.metrics_file = self.workdir / "metrics.jsonl"
        self.tensorboard = TensorBoardLog(self.workdir / "tensorboard")  # creates nothing yet
        self.manager = ocp.CheckpointManager(
            self.checkpoint_dir,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep, create=False, enable_async_checkpointing=False
            ),
            item_names=("params", "metadata", "train_state"),
        )

    def steps(self) -> list[int]:
        """The steps checkpointed here, newest first."""
        if not self.checkpoint_dir.is_dir():
            return []
        self.manager.reload()
        return sorted(self.manager.all_steps(), reverse=True)

    def latest_step(self) -> int | None:
        """The newest checkpointed step (None before the first checkpoint)."""
        return next(iter(self.steps()), None)

    def metadata(self, step: int) -> dict:
        """The JSON record of the checkpoint of ``step``; DamagedCheckpointError if unreadable (or
        if any file of the checkpoint is a link or too large: ``check_files``)."""
        check_files(self.checkpoint_dir / str(step))
        metadata = read_json(self.checkpoint_dir / str(step) / "metadata" / "metadata")
        if not isinstance(metadata, dict):
            raise DamagedCheckpointError(
                f"{self.checkpoint_dir / str(step)}: metadata is not a record"
            )
        return metadata

    def save(self, step: int, params, train_state, metadata: dict) -> None:
        """Checkpoint ``step``: the exported ``params``, the resume state and ``metadata``, with
        the CRC32 of every array (a collective in a multi-process run).

        Raises:
          OSError: the checkpoint could not be written (a full disk); orbax's temporary
            directory is removed and the earlier checkpoints are kept.
        """
        recorded = {"params": checksums(params), "train_state": checksums(train_state)}
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        drop_orbax_unraisable_reports()  # those of the writes a failed save abandons
        try:
            self.manager.save(
                step,
                args=ocp.args.Composite(
                    params=ocp.args.StandardSave(params),
                    metadata=ocp.args.JsonSave({**metadata, "checksums": recorded}),
                    train_state=ocp.args.StandardSave(train_state),
                ),
            )
            self.manager.wait_until_finished()
        except Exception as error:  # orbax and TensorStore raise many types for a failed write
            with contextlib.suppress(Exception):  # let the writes still under way end first
                self.manager.wait_until_finished()
            if is_primary():
                remove_partial(self.checkpoint_dir / str(step))
            raise save_failure(self.checkpoint_dir / str(step), error) from None

    def restore(self, step: int, targets: dict, metadata: dict) -> dict:
        """The items of the checkpoint of ``step`` that ``targets`` names, in the structures
        (and shardings) of their targets; DamagedCheckpointError if one cannot be read as
        written."""
        return restore_items(self.checkpoint_dir / str(step), targets, metadata)

    def set_aside(self, step: int) -> Path:
        """Move the (damaged) checkpoint of ``step`` to ``WORKDIR/damaged/``; returns where."""
        target = self.workdir / "damaged" / str(step)
        suffix = 1
        while target.exists():
            target, suffix = self.workdir / "damaged" / f"{step}.{suffix}", suffix + 1
        if is_primary():
            target.parent.mkdir(exist_ok=True)
            os.replace(self.checkpoint_dir / str(step), target)
        barrier(f"set aside {step}")
        self.manager.reload()  # else the manager, still listing the step, deletes its next save
        return target

    def log(self, record: dict) -> None:
        """Append ``record`` to metrics.jsonl and write it as TensorBoard scalars (process 0
        only)."""
        if is_primary():
            fd = open_own_file(self.metrics_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            with open(fd, "a") as f:
                f.write(json.dumps(record) + "\n")
            self.tensorboard.scalars(record)

    def log_picture(self, step: int, path) -> None:
        """Write the PNG at ``path`` (a sample grid) as the TensorBoard image of ``step``
        (process 0 only)."""
        if is_primary():
            with Image.open(path) as picture:
                pixels = np.asarray(picture.convert("RGB"))  # (H, W, 3) uint8
            self.tensorboard.image(step, pixels)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the TensorBoard event file."""
        self.tensorboard.close()

    def truncate_metrics(self, step: int) -> None:
        """Drop metric lines and TensorBoard events written after ``step`` (by a run that was
        killed later), and a last line cut short by a kill. A TrainingError naming the file and
        line for any other line that is not a JSON record."""
        if not is_primary():
            return
        self.tensorboard.truncate(step)
        if not os.path.lexists(self.metrics_file):
            return
        with open(open_own_file(self.metrics_file, os.O_RDONLY), "rb") as f:
            text = f.read()
        lines = text.split(b"\n")
        kept = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
                record_step = record["step"]
            except (ValueError, KeyError, TypeError) as error:
                if number == len(lines) and not text.endswith(b"\n"):
                    log.warning(f"dropped line {number} of {self.metrics_file}, cut short")
                    break  # the last line, cut short by a kill while it was written
                raise TrainingError(
                    f"{self.metrics_file} is damaged at line {number} ({error}); repair it or "
                    "move it away to resume"
                ) from None
            if record_step <= step:
                kept.append(line.decode("utf-8"))
        kept_text = "".join(line + "\n" for line in kept)
        atomic_write(self.metrics_file, lambda temp: Path(temp).write_text(kept_text))
