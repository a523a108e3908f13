"""TensorBoard event files of a training run, written with tensorboardX.

A run writes its metrics lines (``metrics.jsonl``) and sample grids here too, so that
``tensorboard --logdir runs`` shows every run under ``runs/``::

    WORKDIR/tensorboard/events.out.tfevents.*   one file per (resumed) run of the work directory

Tags (``TAGS``): ``bits_per_dim/train``, ``bits_per_dim/test``, ``train/learning_rate``,
``train/examples_per_sec`` (scalars, at the steps of metrics.jsonl) and ``samples`` (the
sample grid PNGs, as images). A resume from the checkpoint of step S first drops the events
after S that the interrupted run wrote (``truncate_events``: every reader, TensorBoard's Rust
data server included, then sees each step once) and opens its writer with tensorboardX's
``purge_step`` besides.

tensorboardX is imported when the first event is written, not with ``autoreg``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from autoreg.atomic import atomic_write
from autoreg.workdir_files import open_own_file

# metrics.jsonl key -> TensorBoard tag (train and test bits/dim share one chart section).
TAGS = {
    "train_bits_per_dim": "bits_per_dim/train",
    "test_bits_per_dim": "bits_per_dim/test",
    "learning_rate": "train/learning_rate",
    "examples_per_sec": "train/examples_per_sec",
}
IMAGE_TAG = "samples"  # the sample grids
EVENT_FILES = "tfevents"  # in the name of every event file (TensorBoard's own rule)


class TensorBoardLog:
    """The event files of one training run in ``directory``, created at the first write.

    Nothing is created before the first record, so a run that fails before it logs anything
    leaves no directory behind. Every write is flushed at once; ``close`` (or leaving a
    ``with`` block) closes the file.

    Args:
      directory: the folder of the event files (``WORKDIR/tensorboard``).

    Examples:
      >>> from pathlib import Path
      >>> from autoreg.tensorboard_log import TensorBoardLog
      >>> with TensorBoardLog(Path("tb_run")) as events:
      ...     events.scalars({"step": 1, "train_bits_per_dim": 2.5, "learning_rate": 1e-3})
      >>> [p.name.split(".")[:3] for p in Path("tb_run").iterdir()]
      [['events', 'out', 'tfevents']]
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.purge_step = None  # the first step a resumed run writes, once truncated
        self.writer = None  # a tensorboardX SummaryWriter after the first write

    def __enter__(self) -> TensorBoardLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self):
        """The SummaryWriter, created (with the directory) at the first call."""
        if self.writer is None:
            from tensorboardX import SummaryWriter

            self.writer = SummaryWriter(str(self.directory), purge_step=self.purge_step)
        return self.writer

    def scalars(self, record: dict) -> None:
        """Write the numbers of a metrics record ``{"step": s, name: value, ...}`` at step s
        (tag ``TAGS[name]``, or ``name`` itself for a name not in ``TAGS``), and flush."""
        writer = self.open()
        for name, value in record.items():
            if name != "step":
                writer.add_scalar(TAGS.get(name, name), float(value), record["step"])
        writer.flush()

    def image(self, step: int, picture: np.ndarray) -> None:
        """Write ``picture``, (H, W, 3) or (H, W, 1) uint8, as the ``samples`` image of
        ``step``, and flush."""
        writer = self.open()
        picture = np.repeat(picture, 3, axis=-1) if picture.shape[-1] == 1 else picture
        writer.add_image(IMAGE_TAG, picture, step, dataformats="HWC")
        writer.flush()

    def truncate(self, step: int) -> None:
        """Before a resume from ``step``: drop the events after it (``truncate_events``), and
        have the writer purge them too (``purge_step``) for readers of older files."""
        if self.directory.is_dir():
            truncate_events(self.directory, step)
        self.purge_step = step + 1

    def close(self) -> None:
        """Flush and close the event file (if one was opened)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def read_records(data: bytes) -> list[bytes]:
    """The records of a TFRecord file's bytes (each: length as a little-endian uint64, its
    masked CRC32C, the data, the data's masked CRC32C); a record cut short by a kill ends it."""
    records, offset = [], 0
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        end = offset + 12 + length + 4
        if end > len(data):
            break
        records.append(data[offset + 12 : offset + 12 + length])
        offset = end
    return records


def record_bytes(data: bytes) -> bytes:
    """``data`` as one TFRecord record."""
    from tensorboardX.record_writer import masked_crc32c

    header = struct.pack("<Q", len(data))
    crcs = [struct.pack("<I", masked_crc32c(b)) for b in (header, data)]
    return header + crcs[0] + data + crcs[1]


def truncate_events(directory: Path, step: int) -> None:
    """Rewrite each event file in ``directory`` without its events after ``step`` (written by
    a run that was killed later), as ``Run.truncate_metrics`` does for metrics.jsonl."""
    from tensorboardX.proto.event_pb2 import Event

    for path in sorted(Path(directory).iterdir()):
        if EVENT_FILES not in path.name or path.name.startswith("."):
            continue
        with open(open_own_file(path, os.O_RDONLY), "rb") as f:
            data = f.read()
        kept = [r for r in read_records(data) if Event.FromString(r).step <= step]
        text = b"".join(record_bytes(r) for r in kept)
        if text != data:  # events dropped, or a last record cut short
            atomic_write(path, lambda temp, text=text: Path(temp).write_bytes(text))
