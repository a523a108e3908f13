"""What the loop reports as it runs: the speed of each metrics line, and the progress bar's
latest train and test bits/dim."""

from __future__ import annotations

import time


class Throughput:
    """Training examples per second over the steps since the last reset.

    Args:
      batch_size: examples per step (the global batch).
    """

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.reset()

    def reset(self) -> None:
        """Start a new window now."""
        self.start, self.steps = time.perf_counter(), 0

    def add_step(self) -> None:
        """Count one more step in the window."""
        self.steps += 1

    def examples_per_sec(self) -> float:
        """The speed over the window so far."""
        return self.steps * self.batch_size / (time.perf_counter() - self.start)


def progress_postfix(bits: float | None, test_bits: float | None) -> dict:
    """The progress bar's postfix: the latest train and test bits/dim that are known."""
    postfix = {} if bits is None else {"bits/dim": f"{bits:.3f}"}
    if test_bits is not None:
        postfix["test"] = f"{test_bits:.3f}"
    return postfix
