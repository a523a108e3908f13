"""The reports that the reads and writes of a failed orbax call print, and filters that drop
them.

When an orbax restore or save fails, the reads and writes it abandons are reported on stderr
through ``sys.unraisablehook``, each a traceback that says nothing the error itself does not:
"Exception ignored in: <coroutine ...>" with a page of TensorStore spec when such a coroutine
is collected, and "Event loop is closed" when TensorStore completes one after its event loop
is gone. ``orbax_reports_dropped`` drops them while the library's orbax calls run (and, after
a failure, until the abandoned work has gone quiet), then puts the previous hook back. A
program whose failures must stay one line whatever comes later (the ``autoreg`` command) drops
them for its whole life with ``drop_orbax_reports``. Every other report goes through.

Nothing here loads JAX or orbax.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

QUIET_SECONDS = 0.3  # after a failed call: how long no report must come before restoring
MAX_WAIT_SECONDS = 5.0  # after a failed call: the longest wait for that quiet

_lock = threading.Lock()  # guards _users and _installed
_users = 0  # orbax_reports_dropped blocks under way, in any thread
_installed: Callable | None = None  # the hook they installed, while they run
_last_dropped = 0.0  # time.monotonic() of the last report dropped


def is_orbax_report(unraisable) -> bool:
    """True for the report of a read or write that a failed orbax call abandoned.

    Args:
      unraisable: what ``sys.unraisablehook`` is given (``exc_value``, ``object``, ...).

    Returns:
      Whether it is an orbax coroutine collected unfinished, or "Event loop is closed".
    """
    code = getattr(unraisable.object, "cr_code", None)
    from_orbax = code is not None and f"{os.sep}orbax{os.sep}" in code.co_filename
    return from_orbax or str(unraisable.exc_value) == "Event loop is closed"


def dropping(previous: Callable) -> Callable:
    """An unraisable hook that drops orbax's reports and hands every other to ``previous``."""

    def hook(unraisable) -> None:
        global _last_dropped
        if is_orbax_report(unraisable):
            _last_dropped = time.monotonic()
        else:
            previous(unraisable)

    hook.drops_orbax_reports = True
    hook.previous = previous
    return hook


def drops_orbax_reports(hook: Callable) -> bool:
    """True if ``hook`` already drops orbax's reports."""
    return getattr(hook, "drops_orbax_reports", False)


def wait_for_quiet(quiet: float = QUIET_SECONDS, limit: float = MAX_WAIT_SECONDS) -> None:
    """Return once no report has been dropped for ``quiet`` seconds (counted from the call),
    or after ``limit`` seconds: the reads and writes a failed call abandoned finish meanwhile."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if time.monotonic() - max(start, _last_dropped) >= quiet:
            return
        time.sleep(0.02)


@contextlib.contextmanager
def orbax_reports_dropped() -> Iterator[None]:
    """Drop orbax's reports while the block runs, and after a failure in it until they have
    gone quiet (``wait_for_quiet``); the previous hook comes back after the last such block
    (in any thread) ends, unless someone replaced the hook in between.

    Examples:
      >>> import sys
      >>> from autoreg.orbax_reports import drops_orbax_reports, orbax_reports_dropped
      >>> with orbax_reports_dropped():
      ...     drops_orbax_reports(sys.unraisablehook)
      True
    """
    global _users, _installed
    with _lock:
        if _users == 0 and not drops_orbax_reports(sys.unraisablehook):
            _installed = sys.unraisablehook = dropping(sys.unraisablehook)
        _users += 1
    try:
        yield
    except BaseException:
        wait_for_quiet()  # the abandoned reads and writes report as they finish
        raise
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _installed is not None:
                if sys.unraisablehook is _installed:
                    sys.unraisablehook = _installed.previous
                _installed = None


def drop_orbax_reports() -> None:
    """Drop orbax's reports from now on, for the rest of the process: for a program's entry
    point (the ``autoreg`` command's ``main``), never for a library call."""
    global _installed
    with _lock:
        if _installed is not None and sys.unraisablehook is _installed:
            _installed = None  # the blocks under way now leave it in place
        elif not drops_orbax_reports(sys.unraisablehook):
            sys.unraisablehook = dropping(sys.unraisablehook)
