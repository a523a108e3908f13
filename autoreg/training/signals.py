"""Stopping a run early: SIGINT and SIGTERM, and the time limit.

While ``StopSignals`` is entered, SIGINT and SIGTERM only record that a stop was asked for;
``stop_request`` then tells every process, at the end of a step, whether any of them received
one or the time limit has passed, so that all stop at the same step, with a checkpoint.
"""

from __future__ import annotations

import signal
import threading
import time

from autoreg.distributed import every_process

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
