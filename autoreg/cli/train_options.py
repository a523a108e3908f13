"""The options of ``autoreg train``: model, data and ``TrainConfig`` options, --set overrides,
and the refusal of options that do not apply to the model."""

from __future__ import annotations

import json

from autoreg.cli.common import (
    CLIError,
    add_binarize_option,
    positive_float,
    positive_int,
    reject_other_modalities,
)
from autoreg.modalities.audio import DEFAULT_HOLDOUT
from autoreg.train_config import FIELD_RULES, TrainConfig

DEFAULT_LEVELS = 256
DEFAULT_WINDOW = 8000  # audio models: samples per window
# Model config fields that other options set: --set FIELD=... for them is refused, naming it.
SET_BY = {
    "levels": "the number of levels is set by --levels",
    "seed": "the seed is set by --seed",
}


def add_model_options(parser):
    """Add what to train and where (--model, --workdir, --preset, --set, ..., --resume)."""
    parser.add_argument("--model", required=True, help="model family to train (see autoreg.MODELS)")
    parser.add_argument("--workdir", required=True, help="directory for checkpoints and metrics")
    parser.add_argument(
        "--preset", help="model size preset: tiny, reference, ... (default reference)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override one model config field, e.g. --set channels=64 (repeatable)",
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        help="train class-conditionally on the dataset's labels (models that support it)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest intact checkpoint (a damaged one is set aside in "
        "WORKDIR/damaged/ with a warning); a larger --steps continues further",
    )
    parser.add_argument(
        "--allow-changed-settings",
        action="store_true",
        help="with --resume: continue even though --batch-size, --lr, --warmup-steps, "
        "--grad-clip, --ema or --seed differ from the run's (refused otherwise)",
    )


def add_data_options(parser):
    """Add the dataset options of ``train`` (--data, --levels, patches, audio windows)."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        required=True,
        help="dataset: .npz (x_train/x_test keys or one array), folder of PNG/JPEG images, "
        "gzip'd IDX file(s), tfds:NAME (optional extra); audio models: audio files or a folder; "
        "video models: moving_mnist[:PATH_TO_MNIST] (made at the model's image_shape and "
        "frames, e.g. --set image_shape=[32,32,1]) or clips (.npy/.npz/GIF/frame folders, "
        "their own test split)",
    )
    group.add_argument(
        "--levels",
        type=int,
        help=f"K, values per sub-pixel; 8-bit data is binned (default {DEFAULT_LEVELS})",
    )
    add_binarize_option(group, evaluating=False)
    group.add_argument(
        "--patch-size",
        type=int,
        help="train on random square patches of this size cut from large images",
    )
    group.add_argument("--num-patches", type=int, help="number of random patches (default 10000)")
    group.add_argument(
        "--window",
        type=positive_int,
        help=f"audio models: samples per training/evaluation window (default {DEFAULT_WINDOW})",
    )
    group.add_argument(
        "--holdout-seconds",
        type=positive_float,
        help="audio models: seconds at the end of each clip kept out of training (default "
        f"{DEFAULT_HOLDOUT:g})",
    )
    group.add_argument(
        "--speaker-from",
        choices=["none", "parent", "stem"],
        help="mel-conditioned audio models: speaker id of each file from its folder (parent) "
        "or file name (stem), trained as a class label; windows are whole mel frames "
        "(--window rounded down to a multiple of the hop length) (default none)",
    )
    group.add_argument(
        "--num-clips",
        type=positive_int,
        help="video models: Moving MNIST sequences per split (default 10000), or the first N clips",
    )
    group.add_argument(
        "--download",
        action="store_true",
        help="allow tensorflow-datasets to download (never otherwise)",
    )


# The options that set a TrainConfig field, by help group: (flag, field, help). Each takes a
# value of the type of the field's default and defaults to it; a "{}" in the help shows it.
# --time-limit is in minutes (the field in seconds).
CONFIG_OPTIONS = {
    "optimisation": (
        ("--steps", "steps", "optimiser steps ({})"),
        ("--batch-size", "batch_size", "global batch size ({})"),
        ("--lr", "learning_rate", "peak Adam learning rate ({})"),
        ("--warmup-steps", "warmup_steps", "linear warm-up steps before cosine decay ({})"),
        ("--grad-clip", "grad_clip", "global gradient-norm clip, 0 for none ({})"),
        (
            "--ema",
            "ema_decay",
            "EMA decay of parameters used for eval and export, e.g. 0.999 (off)",
        ),
        ("--seed", "seed", "data order and init seed (0)"),
        (
            "--compute-dtype",
            "compute_dtype",
            "float32 or bfloat16: dtype of the forward and backward pass (mixed precision; "
            "parameters and optimiser state stay float32; a GPU/TPU speed-up) ({})",
        ),
    ),
    "bookkeeping": (
        ("--checkpoint-every", "checkpoint_every", "steps between checkpoints ({})"),
        (
            "--eval-every",
            "eval_every",
            "steps between test bits/dim evaluations, 0: only at the end ({})",
        ),
        ("--eval-examples", "eval_examples", "test examples per evaluation ({})"),
        (
            "--sample-every",
            "sample_every",
            "steps between sample grids; 0: only at the end, -1: never (0)",
        ),
        (
            "--time-limit",
            "time_limit",
            "stop after this many minutes, with a final checkpoint and evaluation (0: none)",
        ),
        (
            "--log-every",
            "log_every",
            "steps between lines in metrics.jsonl and TensorBoard scalars ({})",
        ),
    ),
}


def add_config_options(parser) -> dict:
    """Add the ``CONFIG_OPTIONS`` in their groups; returns {title: argument group}."""
    defaults = TrainConfig()
    groups = {}
    for title, options in CONFIG_OPTIONS.items():
        groups[title] = parser.add_argument_group(title)
        for flag, field, text in options:
            default = getattr(defaults, field)
            option_type = FIELD_RULES[field].argparse_type(type(default))  # the config's rule
            groups[title].add_argument(
                flag, type=option_type, default=default, help=text.format(default)
            )
    return groups


def config_from_args(args):
    """The ``TrainConfig`` that the parsed ``CONFIG_OPTIONS`` describe."""
    fields = {
        field: getattr(args, flag[2:].replace("-", "_"))  # argparse's dest of the flag
        for options in CONFIG_OPTIONS.values()
        for flag, field, _ in options
    }
    return TrainConfig(**{**fields, "time_limit": args.time_limit * 60.0})  # checked by argparse


def parse_overrides(pairs: list) -> dict:
    """--set FIELD=VALUE pairs -> dict, values parsed as JSON where possible (3, 0.5, true)."""
    overrides = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field:
            raise CLIError(f"--set expects FIELD=VALUE, got {pair!r}")
        try:
            overrides[field] = json.loads(value)
        except ValueError:
            overrides[field] = value
    return overrides


def check_data_options(args, spec) -> None:
    """Refuse, before any work, the options that do not apply to the model family ``spec``
    or to each other, and --set of a field another option sets; then fill in the defaults of
    the data options."""
    reject_other_modalities(args, spec.name, spec.model_cls.modality, "train_options")
    if args.binarize and args.levels is not None:
        raise CLIError("--binarize makes K = 2; it takes no --levels")
    for field in parse_overrides(args.set):
        if field in SET_BY:
            raise CLIError(f"--set {field}: {SET_BY[field]}")
        if field == "num_classes" and args.num_classes:
            raise CLIError("--set num_classes: it is set by --num-classes; pass one of them")
    args.levels = DEFAULT_LEVELS if args.levels is None else args.levels
    args.window = args.window or DEFAULT_WINDOW
    args.holdout_seconds = args.holdout_seconds or DEFAULT_HOLDOUT
    args.speaker_from = args.speaker_from or "none"
