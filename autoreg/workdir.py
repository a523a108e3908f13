"""The files of a training work directory: checkpoints, metrics, sample grids and TensorBoard
events (``Run``).

::

    WORKDIR/train.lock            held (flock) by the run training in WORKDIR, records its pid
    WORKDIR/checkpoints/<step>/   orbax checkpoints (params + metadata + train_state)
    WORKDIR/damaged/<step>/       checkpoints found damaged on resume, set aside
    WORKDIR/metrics.jsonl         one JSON object per log line
    WORKDIR/tensorboard/          TensorBoard event files of the same lines and sample grids

Training writes only its own files there, never through a symbolic link
(``autoreg.workdir_files``), and one run at a time (``autoreg.workdir_lock``; both modules'
names are importable from here too). A checkpoint that cannot be written (a full disk) is an
OSError that leaves no partial directory behind. In a multi-process run process 0 alone
writes metrics (and TensorBoard events); every process calls ``save`` (orbax writes each
checkpoint once, from all of them).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import orbax.checkpoint as ocp
from PIL import Image

from autoreg.atomic import atomic_write
from autoreg.checkpoint import remove_partial, restore_items, save_failure
from autoreg.checkpoint_checks import DamagedCheckpointError, check_files, checksums, read_json
from autoreg.distributed import barrier, is_primary
from autoreg.errors import TrainingError
from autoreg.orbax_reports import orbax_reports_dropped
from autoreg.tensorboard_log import TensorBoardLog
from autoreg.workdir_files import check_workdir, linked, open_own_file
from autoreg.workdir_lock import WorkdirInUse, WorkdirLock, check_not_in_use, locked

__all__ = [
    "Run",
    "WorkdirInUse",
    "WorkdirLock",
    "check_not_in_use",
    "check_workdir",
    "linked",
    "locked",
    "open_own_file",
]

log = logging.getLogger(__name__)


class Run:
    """Files of a work directory: checkpoints, metrics, samples, TensorBoard events.

    ``close`` (or leaving a ``with`` block) closes the event file.

    Args:
      workdir: the work directory.
      keep: how many recent checkpoints to keep (``TrainConfig.keep_checkpoints``).
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
        with orbax_reports_dropped():  # those of the writes a failed save abandons
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
