"""What every subcommand shares: the one-line error, the parser class, and the model source."""

from __future__ import annotations

import argparse
import os


class CLIError(Exception):
    """A user error reported as one line on stderr with a non-zero exit."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) so every failure reads the same."""

    def error(self, message):
        raise CLIError(f"{message} (see {self.prog} --help)")


def add_model_source(parser):
    """Add the --model/--checkpoint options shared by the commands that load a model."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        help="model name (pixelcnn, ..., wavenet_vocoder); without --checkpoint, uses the "
        "shipped pretrained model of that name",
    )
    group.add_argument("--checkpoint", help="checkpoint directory written by save/train")


def resolve_model(args):
    """The model named by --checkpoint and/or --model (the shipped one if only --model)."""
    from autoreg.checkpoint import load_checkpoint
    from autoreg.pretrained import load_pretrained, shipped_family

    if args.checkpoint:
        model = load_checkpoint(args.checkpoint)
        if args.model and shipped_family(args.model) != model.name:
            raise CLIError(f"{args.checkpoint} holds a {model.name} model, not {args.model}")
        return model
    if not args.model:
        raise CLIError("pass --model NAME (shipped pretrained model) or --checkpoint DIR")
    return load_pretrained(args.model)


def quiet_libraries() -> None:
    """Silence absl/orbax/JAX log chatter that would bury the one line a command prints."""
    import logging
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    for name in ("absl", "orbax", "jax"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
