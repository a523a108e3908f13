"""One training run at a time in a work directory: the lock on ``WORKDIR/train.lock``.

``WorkdirLock`` is an ``fcntl.flock`` on ``train.lock``, which the OS releases when its
process ends, however it ends (SIGKILL included), so a lock left behind never blocks the next
run; the file records the pid, host and start time of the run that holds it. In a
multi-process run process 0 alone takes the lock, and every process learns whether it did.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from autoreg.distributed import agree, is_primary
from autoreg.errors import TrainingError
from autoreg.workdir_files import check_workdir, open_own_file


class WorkdirInUse(TrainingError):
    """Another training run holds the work directory's lock (``WORKDIR/train.lock``).

    The message names the process that holds it. The lock goes with that process, however it
    ends, so the work directory is free again once the other run has stopped.

    Examples:
      >>> from pathlib import Path
      >>> from autoreg.training import WorkdirInUse, train_arrays
      >>> from autoreg.workdir_lock import locked
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> train_x = np.zeros((4, 4, 4, 1), np.int32)
      >>> with locked(Path("busy_run")):  # as another run training there holds it
      ...     train_arrays(model, train_x, "busy_run", autoreg.TrainConfig(batch_size=4))
      Traceback (most recent call last):
      ...
      autoreg.workdir_lock.WorkdirInUse: ...busy_run is in use by another training run (...);
      wait for it to end or use another --workdir
    """


class WorkdirLock:
    """An exclusive lock on a work directory for as long as one training run uses it.

    Args:
      workdir: the work directory (created by ``acquire`` if it does not exist).
    """

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.path = workdir / "train.lock"
        self.fd = None
        self.created = False  # the work directory did not exist before the lock

    def acquire(self) -> None:
        """Take the lock.

        Raises:
          WorkdirInUse: another run holds it (the message names that process).
          TrainingError: training cannot write in the work directory (``check_workdir``).
        """
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
    """Refuse at once a work directory that ``train`` would refuse, creating nothing: for a
    caller with work to do before ``train`` takes the lock.

    Raises:
      WorkdirInUse: another run holds the lock of ``workdir``.
      TrainingError: training cannot write there (``check_workdir``).
    """
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
    """Hold the lock of ``workdir`` (process 0 takes it; every process learns whether it did).

    Raises:
      WorkdirInUse: another run holds it.
      TrainingError: training cannot write in ``workdir`` (``check_workdir``).
    """
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
