"""Training writes only its own files in a work directory, never through a symbolic link.

The work directory must be a writable directory, and each entry that training writes there
(``train.lock``, ``metrics.jsonl``, ``samples_<step>.png``, ``checkpoints``, ``damaged`` and
``tensorboard``, and every entry in those folders) a real file or directory, not a symbolic
link, which would send a write elsewhere: ``check_workdir`` checks this before training starts,
and ``open_own_file`` opens each file without following links (``O_NOFOLLOW``) besides.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from autoreg.atomic import why_unwritable
from autoreg.errors import TrainingError

OWN_FILES = ("train.lock", "metrics.jsonl")  # besides samples_<step>.png
OWN_FOLDERS = ("checkpoints", "damaged", "tensorboard")  # each entry in them is checked too


def linked(path) -> TrainingError:
    """The error for a symbolic link where training would write a file of its own."""
    return TrainingError(
        f"{path} is a symbolic link; training writes only its own files in a work directory "
        "(move the link away or use another --workdir)"
    )


def open_own_file(path: Path, flags: int) -> int:
    """``os.open(path, flags)`` for a file of the work directory, never through a link.

    Raises:
      TrainingError: ``path`` is a symbolic link.
      OSError: as ``os.open`` does.
    """
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise linked(path) from None
        raise


def check_workdir(workdir: Path) -> None:
    """Check, creating nothing, that training may write in ``workdir``: a directory (or one
    that can be created) that takes new files, none of whose files and folders that training
    writes (``OWN_FILES``, ``samples_<step>.png``, ``OWN_FOLDERS`` and every entry in them) is
    a symbolic link.

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
    own = {*OWN_FILES, *OWN_FOLDERS}
    for entry in sorted(os.scandir(workdir), key=lambda e: e.name):
        is_samples = entry.name.startswith("samples_") and entry.name.endswith(".png")
        if not (entry.name in own or is_samples):
            continue
        if entry.is_symlink():
            raise linked(entry.path)
        if entry.name in OWN_FOLDERS and entry.is_dir():
            for inner in sorted(os.scandir(entry.path), key=lambda e: e.name):
                if inner.is_symlink():
                    raise linked(inner.path)
