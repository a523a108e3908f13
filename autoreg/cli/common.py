"""What every subcommand shares: the one-line error, the parser class, option types, the model
source and the model-kind check, and the printing of the library's warnings.

Building the parser imports no JAX, NumPy or model code, so that ``--help`` is quick: what it
needs from the library is copied here (``BINARIZATIONS``, ``OCCLUSIONS``; a test keeps the copies
equal) or read from ``autoreg.train_config``, and each ``run_*`` imports the rest.
"""

from __future__ import annotations

import argparse
import os

from autoreg.rules import (
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    SEED,
)

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


# The argparse types of options under the rules of ``autoreg.rules``: the API's rule, the
# option's message ("argument --num: must be a positive integer, got '0'").
positive_int = POSITIVE_INT.argparse_type(int)
positive_float = POSITIVE_NUMBER.argparse_type(float)
non_negative_int = NON_NEGATIVE_INT.argparse_type(int)
non_negative_float = NON_NEGATIVE_NUMBER.argparse_type(float)
seed = SEED.argparse_type(int)  # every --seed: what a JAX key takes


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


def reject_other_modalities(args, name: str, modality, table: str) -> None:
    """A CLIError for the first option given that belongs to another modality than
    ``modality``, the model ``name``'s (it would be ignored).

    Args:
      args: the parsed options.
      name: the model's name, for the message.
      modality: the model's modality.
      table: the modalities' attribute that lists the command's options of each kind of data
        (``"sample_options"``, ``"eval_options"`` or ``"train_options"``).
    """
    from autoreg.modalities import MODALITIES

    owners: dict[str, list[str]] = {}
    for other in MODALITIES.values():
        for dest in getattr(other, table):
            if dest not in getattr(modality, table):
                owners.setdefault(dest, []).append(other.name)
    article = "an" if modality.name[0] in "aeiou" else "a"
    for dest, names in owners.items():
        if getattr(args, dest, None) not in (None, False):
            raise CLIError(
                f"--{dest.replace('_', '-')} is for {' and '.join(names)} models; {name} is "
                f"{article} {modality.name} model"
            )


def modality_options(args, modality, table: str) -> dict:
    """``{data option: value}`` of the options given among ``modality``'s ``table`` (see
    ``reject_other_modalities``) that set a field of its data options."""
    fields = getattr(modality, table)
    return {
        field: getattr(args, dest)
        for dest, field in fields.items()
        if field is not None and getattr(args, dest) is not None
    }


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


def check_modality(name: str, model, modalities, command: str, path=None) -> None:
    """A CLIError when a model ``name`` (a model or its class; saved at ``path``, if given) is
    not of the ``modalities`` that ``command`` works on (a tuple, or None for any)."""
    if modalities is None or model.modality in modalities:
        return
    found = model.modality.name
    article = "an" if found[0] in "aeiou" else "a"
    what = f"{path} holds a {name}, {article}" if path else f"{name} is {article}"
    wanted = " and ".join(modality.name for modality in modalities)
    raise CLIError(f"{what} {found} model; {command} works on {wanted} models")


def load_model(path, modalities, command: str):
    """The model saved at ``path`` (a checkpoint or work directory), of the ``modalities``
    required (a tuple, or None for any)."""
    from autoreg.checkpoint import load_checkpoint

    model = load_checkpoint(path)
    check_modality(model.name, model, modalities, command, path)
    return model


def resolve_model(args, modalities=None):
    """The model named by --checkpoint and/or --model (the shipped one if only --model).

    Args:
      modalities: the modalities (``autoreg.modalities``) the command works on, when not
        every one: any other model is refused with one line before it is used (for --model,
        before it is loaded).
    """
    from autoreg.pretrained import load_pretrained, shipped_family
    from autoreg.registry import get_spec

    if args.checkpoint:
        model = load_model(args.checkpoint, modalities, args.command)
        if args.model and shipped_family(args.model) != model.name:
            raise CLIError(f"{args.checkpoint} holds a {model.name} model, not {args.model}")
        return model
    if not args.model:
        raise CLIError("pass --model NAME (shipped pretrained model) or --checkpoint DIR")
    spec = get_spec(shipped_family(args.model))
    check_modality(args.model, spec.model_cls, modalities, args.command)
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
