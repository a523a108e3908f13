"""The ``autoreg`` command (train, sample, complete, predict, eval, texture, vocode, demo):
parses, calls the library.

One module per subcommand (``train``, ``sample``, ``complete``, ``predict``, ``evaluate`` for
``eval``, ``texture``, ``vocode``, ``demo``), each with its ``add_*_parser`` and ``run_*``;
``common`` holds what they share. Heavy libraries (JAX, NumPy, the models) are imported inside
the ``run_*`` functions, never while the parser is built, so that ``--help`` and ``--version``
are quick (a test checks that they load no JAX).
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback

from autoreg import __version__
from autoreg.cli.common import (
    EXIT_CODES,
    RUNTIME_ERROR,
    USAGE_ERROR,
    CLIError,
    Parser,
    quiet_libraries,
    show_warnings,
)
from autoreg.cli.complete import add_complete_parser
from autoreg.cli.demo import add_demo_parser
from autoreg.cli.evaluate import add_eval_parser
from autoreg.cli.predict import add_predict_parser
from autoreg.cli.sample import add_sample_parser
from autoreg.cli.texture import add_texture_parser
from autoreg.cli.train import add_train_parser
from autoreg.cli.vocode import add_vocode_parser
from autoreg.errors import INTERNAL_ERROR, AutoregError, Preempted
from autoreg.orbax_reports import drop_orbax_reports

__all__ = ["CLIError", "build_parser", "main"]


DESCRIPTION = """Autoregressive generative models (PixelCNN, PixelRNN, WaveNet, video) in JAX.

Examples, run where MNIST is saved as mnist.npz (--model NAME alone: the shipped pretrained
model of that name; each command's --help says more):
  autoreg sample --model pixelcnn --num 16 --out samples.png
  autoreg eval --model pixelcnn --data mnist.npz --limit 1000
  autoreg complete --model pixelcnn --data mnist.npz --occlude bottom --out completions.png
  autoreg predict --model video_pixelcnn --video moving_mnist:mnist.npz --context 10 --frames 10
  autoreg sample --model wavenet --seconds 2 --out speech.wav
  autoreg vocode --audio speech.wav --out resynthesised.wav
  autoreg train --model pixelcnn --data mnist.npz --workdir runs/mnist
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``autoreg`` argument parser with every subcommand."""
    parser = Parser(
        prog="autoreg",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"autoreg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    add_train_parser(sub)
    add_sample_parser(sub)
    add_complete_parser(sub)
    add_predict_parser(sub)
    add_eval_parser(sub)
    add_texture_parser(sub)
    add_vocode_parser(sub)
    add_demo_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``autoreg`` command; returns the exit status (``EXIT_CODES``)."""
    quiet_libraries()
    drop_orbax_reports()  # a failed orbax call's abandoned reads report even after it failed
    show_warnings()
    try:
        args = build_parser().parse_args(argv)
        args.run(args)
    except CLIError as error:  # bad options, found before the work starts
        return report(error, USAGE_ERROR)
    except Preempted as error:  # training stopped by a signal, with a checkpoint
        return report_stop(error)
    except AutoregError as error:  # refused on purpose (bad input, memory, a missing extra)
        return report(error, error.exit_status)
    except ImportError as error:
        name = getattr(error, "name", None) or str(error)
        return report(f"missing package {name} (pip install autoreg's dependencies)", RUNTIME_ERROR)
    except MemoryError as error:
        return report(f"out of memory ({error or 'allocation failed'})", RUNTIME_ERROR)
    except OSError as error:  # I/O failures during the work: a full disk, a lost file
        return report(error, RUNTIME_ERROR)
    except KeyboardInterrupt:
        print("autoreg: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug, or an unexpected failure inside JAX: keep what it said
        return report_internal_error()
    return 0


def report_stop(error: Preempted) -> int:
    """Say at which step a signal stopped training; return 128 + the signal's number."""
    name = signal.Signals(error.signum).name
    print(
        f"autoreg: stopped by {name} at step {error.step}; checkpoint saved, continue with "
        "--resume",
        file=sys.stderr,
    )
    return error.exit_status


def report_internal_error() -> int:
    """Print the traceback of the exception being handled and ask for a report; return 70."""
    traceback.print_exc()
    print(
        "autoreg: internal error: this is a bug in autoreg or a failure it did not expect; "
        "please report it with the traceback above and the command that led to it",
        file=sys.stderr,
    )
    return INTERNAL_ERROR


def report(error, code: int) -> int:
    """Print ``autoreg: error: <first line of error>`` on stderr; return ``code``."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    print(f"autoreg: error: {message}", file=sys.stderr)
    return code
