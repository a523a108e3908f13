"""What every subcommand shares: the one-line error, the parser class, option types, the model
source and the model-kind check, and the printing of the library's warnings.

Building the parser imports no JAX, NumPy or model code, so that ``--help`` is quick: what it
needs from the library is copied here (``BINARIZATIONS``, ``OCCLUSIONS``; a test keeps the copies
equal) or read from ``autoreg.train_config``, and each ``run_*`` imports the rest.
"""

from __future__ import annotations

import argparse
import math
import os

# What --binarize and --occlude take: autoreg.data.images.BINARIZATIONS and
# autoreg.occlusion.OCCLUSIONS, copied (those modules import NumPy).
BINARIZATIONS = ("threshold", "stochastic")
OCCLUSIONS = "bottom | right | box:Y0,X0,Y1,X1 | PATH.png (white = hidden)"

USAGE_ERROR = 2  # bad options or input, found before any work (argparse's own code)
RUNTIME_ERROR = 1  # a failure while working: I/O, out of memory, JAX
EXIT_CODES = f"""exit status:
  0    success
  {USAGE_ERROR}    usage or validation error (bad options, bad input, a request over the memory
       limit), reported before any work starts
  {RUNTIME_ERROR}    runtime failure (I/O error, a full disk, out of memory, a missing extra)
  70   internal error (a bug, or a failure inside JAX that autoreg did not expect): the
       traceback is printed; please report it
  130  interrupted (Ctrl-C); training stops at the end of its step, with a checkpoint
       (continue with --resume)
  143  stopped by SIGTERM (SLURM, Kubernetes, docker), as training does on Ctrl-C"""


class CLIError(Exception):
    """A user error reported as one line on stderr with the usage exit code."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) so every failure reads the same."""

    def error(self, message):
        """Raise the message as a CLIError (argparse would print usage and exit)."""
        raise CLIError(f"{message} (see {self.prog} --help)")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def seed(text: str) -> int:
    """argparse type of every --seed: an integer in 0..``MAX_SEED`` (what JAX keys take)."""
    from autoreg.validation import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer in 0..{MAX_SEED}, got {text!r}")
    return value


def add_seed_option(parser, what: str = "random seed") -> None:
    """Add --seed (default 0), checked by ``seed``."""
    parser.add_argument("--seed", type=seed, default=0, help=f"{what} (default 0)")


def add_scale_option(parser, what: str = "the picture") -> None:
    """Add --scale: the integer upscaling of the PNG a command writes."""
    parser.add_argument(
        "--scale",
        type=positive_int,
        help=f"upscale {what} by this integer factor, nearest neighbour (default: enough to "
        "make it at least 256 px wide; 1: native size)",
    )


def reject_options(args, dests, reason: str) -> None:
    """A CLIError for the first option of ``dests`` that was given: it would be ignored.

    Options checked this way default to None, so that "given" can be told from "default".
    """
    for dest in dests:
        if getattr(args, dest) is not None:
            raise CLIError(f"--{dest.replace('_', '-')} {reason}")


def given(args, *dests) -> dict:
    """``{dest: value}`` of the options among ``dests`` that were given (are not None)."""
    return {dest: getattr(args, dest) for dest in dests if getattr(args, dest) is not None}


BINARIZE_HELP = (
    "binarize images to K = 2: 'threshold' (at 128, the default when the option is given "
    "alone: an easy set, not comparable with published numbers) or 'stochastic' (each pixel 1 "
    "with probability x / 255, one fixed draw per split: the binarized MNIST of the papers"
)


def add_binarize_option(parser, *, evaluating: bool) -> None:
    """``--binarize [threshold|stochastic]``; when evaluating, K = 2 models default to threshold
    (evaluate with the binarization the model was trained on)."""
    extra = (
        " (K = 2 models: default threshold; pass the one used in training)" if evaluating else ""
    )
    parser.add_argument(
        "--binarize",
        nargs="?",
        const="threshold",
        choices=BINARIZATIONS,
        help=BINARIZE_HELP + extra + ")",
    )


def binarization(args, model):
    """The binarization of data for an evaluated ``model``: False for K > 2 models."""
    if model.levels != 2:
        if args.binarize:
            raise CLIError(f"--binarize is for K = 2 models; {model.name} has K = {model.levels}")
        return False
    return args.binarize or "threshold"


def add_model_source(parser, model_help: str | None = None):
    """Add the --model/--checkpoint options shared by the commands that load a model
    (``model_help``: the help of --model, if not the usual one)."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        help=model_help
        or "model name (pixelcnn, ..., wavenet_vocoder); without --checkpoint, uses the "
        "shipped pretrained model of that name",
    )
    group.add_argument("--checkpoint", help="checkpoint directory written by save/train")


def kind_of(model) -> str:
    """``"image"``, ``"audio"`` or ``"video"``: the kind of data of a model class or model."""
    return model.kind


def check_kind(name: str, model, kind: str | None, command: str, path=None) -> None:
    """A CLIError when a model ``name`` (a model or its class; saved at ``path``, if given) is
    not of the ``kind`` that ``command`` works on (``kind``: one kind, a tuple of kinds, or
    None for any)."""
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is None or kind_of(model) in kinds:
        return
    found = kind_of(model)
    article = "an" if found[0] in "aeiou" else "a"
    what = f"{path} holds a {name}, {article}" if path else f"{name} is {article}"
    raise CLIError(f"{what} {found} model; {command} works on {' and '.join(kinds)} models")


def load_model(path, kind: str | None, command: str):
    """The model saved at ``path`` (a checkpoint or work directory), of the kind required."""
    from autoreg.checkpoint import load_checkpoint

    model = load_checkpoint(path)
    check_kind(model.name, model, kind, command, path)
    return model


def resolve_model(args, kind: str | None = None):
    """The model named by --checkpoint and/or --model (the shipped one if only --model).

    Args:
      kind: ``"image"``, ``"audio"`` or ``"video"`` (or a tuple of them) when the command works
        on some kinds only: any other model is refused with one line before it is used (for
        --model, before it is loaded).
    """
    from autoreg.pretrained import load_pretrained, shipped_family
    from autoreg.registry import get_spec

    if args.checkpoint:
        model = load_model(args.checkpoint, kind, args.command)
        if args.model and shipped_family(args.model) != model.name:
            raise CLIError(f"{args.checkpoint} holds a {model.name} model, not {args.model}")
        return model
    if not args.model:
        raise CLIError("pass --model NAME (shipped pretrained model) or --checkpoint DIR")
    spec = get_spec(shipped_family(args.model))
    check_kind(args.model, spec.model_cls, kind, args.command)
    return load_pretrained(args.model)


def quiet_libraries() -> None:
    """Silence absl/orbax/JAX log chatter and Python warnings that would bury the one line a
    command prints (the library's own warnings go through ``show_warnings``)."""
    import logging
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    for name in ("orbax", "jax"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # What orbax logs through absl at ERROR level it also raises (and we report in one line) or
    # recovers from, as asyncio's errors of the reads a failed restore abandons.
    for name in ("absl", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.FATAL)
    except ImportError:
        pass


def show_warnings() -> None:
    """Print the library's warnings (``logging.getLogger("autoreg")``: data it skipped, a
    damaged checkpoint set aside on --resume) as one ``autoreg: warning:`` line each on stderr."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("autoreg: warning: %(message)s"))
    logger = logging.getLogger("autoreg")
    logger.handlers = [handler]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
