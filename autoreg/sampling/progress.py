"""Progress of compiled sampling loops: positions reported from inside jit to the host.

A sampler is one compiled program, so the host cannot count its steps. Instead the loops call
``report(position)`` (a ``jax.debug.callback``) when they have finished every flat position
before ``position`` (the raster loop at the end of each row, the naive loops after each
position), and the innermost ``RowProgress`` on the host turns the reports into a progress bar
over rows, an estimate of the time left and, when the work will take long, one line saying how
long before most of it is done. With no listener a report costs one host call and does nothing.

Reports go to the innermost listener of the process (one sampling job at a time, as the CLI
and the demo run them).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import jax
from tqdm.auto import tqdm

__all__ = ["RowProgress", "report"]

LONG_WORK_SECONDS = 20.0  # work expected to take longer than this is announced once
_listeners: list[Callable[[int], None]] = []


def report(position) -> None:
    """Inside jit: the loop has finished every flat position before ``position``.

    Args:
      position: an int32 scalar (traced), a flat position of the data order.
    """
    jax.debug.callback(_deliver, position)


def _deliver(position) -> None:
    if _listeners:
        _listeners[-1](int(position))


class RowProgress:
    """A progress bar over the rows that the sampling loops run inside it finish.

    Use it as a context manager around one or more runs of a sampler over the same event
    shape; call ``next_run`` before each run after the first (each run reports positions from
    the start of its own data). The time left is measured from the reports themselves, after
    the first (which also waits for compilation). When the work is expected to take longer
    than ``LONG_WORK_SECONDS`` in all, one line says so (``announce``, by default printed above
    the bar), once, as soon as two rows have been timed.

    Args:
      positions: flat positions of one run's data (``prod(event_shape)``).
      per_row: flat positions per row (W * C for images and video; 1 for audio).
      runs: how many runs the work has (batches of ``autoreg.generate.in_batches``).
      desc: the bar's label.
      enabled: show the bar (the reports are followed and ``on_update`` called either way).
      on_update: called with ``(fraction done, text)`` after each report (the demo's bar).
      announce: called with the one-line estimate of long work (default: above the bar).
      unit: what a row is called ("row"; "sample" for audio, one position per row).
      delay: seconds before the bar shows (work that ends sooner shows none).

    Examples:
      >>> from autoreg.sampling.progress import RowProgress
      >>> with RowProgress(positions=8, per_row=4, enabled=False) as bar:
      ...     bar.update(4)  # what a report does: the first row of 2 is done
      ...     bar.fraction
      0.5
    """

    def __init__(
        self,
        positions: int,
        per_row: int,
        *,
        runs: int = 1,
        desc: str = "",
        enabled: bool = True,
        on_update: Callable[[float, str], None] | None = None,
        announce: Callable[[str], None] | None = None,
        unit: str = "row",
        delay: float = 1.0,
    ):
        self.per_row = max(1, int(per_row))
        self.rows_per_run = max(1, math.ceil(int(positions) / self.per_row))
        self.total = self.rows_per_run * max(1, int(runs))
        self.desc = desc
        self.unit = unit
        self.delay = delay
        self.enabled = enabled
        self.on_update = on_update
        self.announce = announce or (lambda line: tqdm.write(line))
        self.announced = False
        self.done = 0  # rows done, all runs together
        self._run = 0
        self._first: tuple[float, int] | None = None  # (time, rows done) at the first report
        self._lock = threading.Lock()
        self._bar = None

    @property
    def fraction(self) -> float:
        """The fraction of all rows done, in [0, 1]."""
        return min(1.0, self.done / self.total)

    def __enter__(self) -> RowProgress:
        self._bar = tqdm(
            total=self.total,
            desc=self.desc,
            unit=self.unit,
            disable=not self.enabled,
            leave=False,
            delay=self.delay,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
            + self.unit
            + "s [{elapsed}{postfix}]",
        )
        _listeners.append(self.update)
        return self

    def __exit__(self, *exc) -> None:
        _listeners.remove(self.update)
        self._bar.close()

    def next_run(self) -> None:
        """The next run starts: its reports count from the start of its own data."""
        with self._lock:
            self._run += 1
            self.done = max(self.done, self._run * self.rows_per_run)

    def update(self, position: int) -> None:
        """Take one report: every flat position before ``position`` of this run is done."""
        with self._lock:
            rows = min(self.rows_per_run, math.ceil(position / self.per_row))
            done = self._run * self.rows_per_run + rows
            if done <= self.done:
                return
            now = time.perf_counter()
            if self._first is None:
                self._first = (now, done)
            self._bar.update(done - self.done)
            self.done = done
            left = self.seconds_left(now)
            text = f"{self.desc}: {done}/{self.total} {self.unit}s"
            if left is not None:
                self._bar.set_postfix_str(f"about {left:.0f} s left", refresh=False)
                text += f", about {left:.0f} s left"
                if not self.announced and now - self._first[0] + left > LONG_WORK_SECONDS:
                    self.announced = True
                    self.announce(
                        f"{self.desc}: this will take about {format_seconds(left)} more "
                        f"({self.total} {self.unit}s at {self.seconds_per_row():.2g} s per "
                        f"{self.unit})"
                    )
        if self.on_update is not None:
            self.on_update(self.fraction, text)

    def seconds_per_row(self, now: float | None = None) -> float | None:
        """Seconds per row since the first report (None before two reports)."""
        if self._first is None or self.done <= self._first[1]:
            return None
        now = time.perf_counter() if now is None else now
        return (now - self._first[0]) / (self.done - self._first[1])

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds the remaining rows take at the rate since the first report (None before two
        reports)."""
        rate = self.seconds_per_row(now)
        return None if rate is None else rate * (self.total - self.done)


def format_seconds(seconds: float) -> str:
    """``"45 s"``, ``"3 min"`` or ``"1.5 h"``.

    Examples:
      >>> from autoreg.sampling.progress import format_seconds
      >>> format_seconds(45.2), format_seconds(200), format_seconds(5400)
      ('45 s', '3 min', '1.5 h')
    """
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
