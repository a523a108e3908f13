"""Typed errors: each class of ``autoreg.errors`` is one line and its exit status on the command
line, a signal is not a ``ValueError``, and anything else (a bug) keeps its traceback, exit 70."""

import signal

import numpy as np
import pytest

import autoreg
from autoreg.cli import main
from autoreg.errors import (
    INTERNAL_ERROR,
    DamagedCheckpointError,
    InputError,
    InputTypeError,
    MemoryBudgetError,
    Preempted,
    TrainingError,
)
from autoreg.optional import MissingExtraError


def run_raising(monkeypatch, capsys, error: BaseException):
    """(exit status, stderr) of ``autoreg sample`` whose work raises ``error``."""
    from autoreg.cli import sample

    def run_sample(args):
        raise error

    monkeypatch.setattr(sample, "run_sample", run_sample)
    status = main(["sample", "--model", "pixelcnn"])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "error, status",
    [
        (InputError("--data: no such file"), 2),
        (InputTypeError("num must be an integer, got 2.5"), 2),
        (TrainingError("runs/x is in use by another training run"), 2),
        (DamagedCheckpointError("ckpt/metadata is damaged"), 2),
        (MemoryBudgetError("sampling needs 1 TiB, more than the memory limit"), 2),
        (MissingExtraError("reading audio needs soundfile: pip install 'autoreg[audio]'"), 1),
        (OSError(28, "No space left on device"), 1),
        (MemoryError("cannot allocate"), 1),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_each_class_is_one_line_and_its_exit_status(monkeypatch, capsys, error, status):
    code, err = run_raising(monkeypatch, capsys, error)
    assert code == status
    assert err.startswith("autoreg: error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "bug",
    [KeyError("layer_3"), ValueError("shapes (2, 3) and (4,)"), RuntimeError("XLA: INTERNAL")],
)
def test_a_bug_keeps_its_traceback_and_asks_for_a_report(monkeypatch, capsys, bug):
    # A plain ValueError is a bug too: everything refused on purpose is an InputError.
    code, err = run_raising(monkeypatch, capsys, bug)
    assert code == INTERNAL_ERROR == 70
    assert "Traceback (most recent call last)" in err and str(bug.args[0]) in err
    assert "autoreg: internal error" in err and "please report it" in err


def test_a_signal_is_not_a_value_error(monkeypatch, capsys):
    stop = Preempted(signal.SIGTERM, 7, "runs/x")
    assert not isinstance(stop, ValueError)
    with pytest.raises(Preempted):  # an ``except ValueError`` lets it through
        try:
            raise stop
        except ValueError:
            pytest.fail("a caller's except ValueError swallowed a signal")
    code, err = run_raising(monkeypatch, capsys, stop)
    assert code == 143 and "stopped by SIGTERM at step 7" in err


def test_the_library_raises_input_errors_that_are_value_errors():
    model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
    with pytest.raises(InputError, match="values in 9..9, outside 0..3"):
        autoreg.log_prob(model, np.full((1, 4, 4, 1), 9))
    with pytest.raises(ValueError):  # what callers caught before the classes existed
        autoreg.create_model("no_such_model")
    with pytest.raises(InputTypeError, match="channels"):  # also a TypeError, as before
        autoreg.create_model("pixelcnn", preset="tiny", channels=2.5)
