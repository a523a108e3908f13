"""Writing files so that a reader never sees one half-written, and checking first that we can."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from autoreg.errors import InputError


def check_writable(path, suffixes: tuple = (".png",)) -> Path:
    """The output file ``path``, checked before any work: its suffix, its folder, and that we
    may write there (``check_folder_writable``).

    Raises:
      InputError: an unsupported suffix, a missing or unwritable folder, or a path that is a
        folder.
    """
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(f"{path}: output must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise InputError(f"{path} is a folder; name a file")
    return check_folder_writable(path)


def check_folder_writable(path) -> Path:
    """``path``, once its folder is known to exist and to take new files.

    Tested by creating (and removing) a hidden file there, as ``atomic_write`` will, so that a
    read-only folder or file system fails before the work, not after it.

    Raises:
      InputError: the folder is missing or not writable.
    """
    path = Path(path)
    folder = path.parent
    if not folder.resolve().is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    reason = why_unwritable(folder, prefix=f".{path.name}.")
    if reason:
        raise InputError(f"{path}: cannot write in {folder} ({reason})")
    return path


def why_unwritable(folder, prefix: str = ".probe.") -> str | None:
    """Why no new file can be made in the existing ``folder`` (the OS's reason, such as
    "Read-only file system"), or None when one can: found by making and removing one."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=prefix)
    except OSError as error:
        return error.strerror or str(error)
    os.close(fd)
    os.unlink(probe)
    return None


def atomic_write(path, write) -> Path:
    """Call ``write(temporary_path)`` on a file beside ``path``, then rename it into place.

    The file gets the usual permissions (0666 less the umask), not ``mkstemp``'s private 0600.
    An OSError names ``path``, never the hidden temporary file, which is removed.
    """
    path = Path(path)
    temp = None
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
        os.close(fd)
        write(temp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except OSError as error:
        _remove(temp)
        raise type(error)(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        _remove(temp)
        raise
    return path


def _remove(temp) -> None:
    if temp is not None:
        Path(temp).unlink(missing_ok=True)
