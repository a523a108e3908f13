"""``autoreg train``: options, --set overrides, training data loading, and the training run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from autoreg.cli.common import (
    CLIError,
    add_binarize_option,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    reject_options,
    seed,
)

log = logging.getLogger("autoreg.cli.train")
DEFAULT_LEVELS = 256
DEFAULT_WINDOW = 8000  # audio models: samples per window
DEFAULT_HOLDOUT = 2.0  # audio models: held-out seconds at the end of each clip
AUDIO_OPTIONS = ("window", "holdout_seconds", "speaker_from")
# Model config fields that other options set: --set FIELD=... for them is refused, naming it.
SET_BY = {
    "levels": "the number of levels is set by --levels",
    "seed": "the seed is set by --seed",
}


def add_data_options(parser):
    """Add the dataset options of ``train`` (--data, --levels, patches, audio windows)."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        required=True,
        help="dataset: .npz (x_train/x_test keys or one array), folder of PNG/JPEG images, "
        "gzip'd IDX file(s), tfds:NAME (optional extra); audio models: audio files or a folder",
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
    group.add_argument(
        "--num-patches", type=int, default=10_000, help="number of random patches (default 10000)"
    )
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
        "--download",
        action="store_true",
        help="allow tensorflow-datasets to download (never otherwise)",
    )


HELP = "train a model by maximum likelihood with checkpoints"
DESCRIPTION = (
    "Train a model on a dataset. Checkpoints, metrics (metrics.jsonl) and sample grids go to "
    "--workdir, which one run at a time may use; --resume continues a run exactly. Uses every "
    "local device (data parallel) and joins a multi-process run when JAX_COORDINATOR_ADDRESS, "
    "JAX_NUM_PROCESSES and JAX_PROCESS_ID are set (or under SLURM with several tasks); "
    "--batch-size is then the global batch."
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
        ("--log-every", "log_every", "steps between lines in metrics.jsonl ({})"),
    ),
}


# The argparse type of the options whose field takes less than any value of its type.
CONFIG_TYPES = {
    "steps": positive_int,
    "batch_size": positive_int,
    "learning_rate": positive_float,
    "warmup_steps": non_negative_int,
    "grad_clip": non_negative_float,
    "seed": seed,
    "checkpoint_every": positive_int,
    "eval_every": non_negative_int,
    "eval_examples": positive_int,
    "time_limit": non_negative_float,
    "log_every": positive_int,
}


def add_train_parser(sub):
    """Add the ``train`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser("train", help=HELP, description=DESCRIPTION)
    add_model_options(p)
    add_data_options(p)
    groups = add_config_options(p)
    groups["bookkeeping"].add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)


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


def add_config_options(parser) -> dict:
    """Add the ``CONFIG_OPTIONS`` in their groups; returns {title: argument group}."""
    from autoreg.train import TrainConfig

    defaults = TrainConfig()
    groups = {}
    for title, options in CONFIG_OPTIONS.items():
        groups[title] = parser.add_argument_group(title)
        for flag, field, text in options:
            default = getattr(defaults, field)
            kind = CONFIG_TYPES.get(field, type(default))
            groups[title].add_argument(flag, type=kind, default=default, help=text.format(default))
    return groups


def config_from_args(args):
    """The ``TrainConfig`` that the parsed ``CONFIG_OPTIONS`` describe."""
    from autoreg.train import TrainConfig

    fields = {
        field: getattr(args, flag[2:].replace("-", "_"))  # argparse's dest of the flag
        for options in CONFIG_OPTIONS.values()
        for flag, field, _ in options
    }
    flags = {field: flag for options in CONFIG_OPTIONS.values() for flag, field, _ in options}
    try:
        return TrainConfig(**{**fields, "time_limit": args.time_limit * 60.0})
    except ValueError as error:  # named by its field: say the flag
        field = str(error).split()[0]
        raise CLIError(str(error).replace(field, flags.get(field, field), 1)) from None


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


def run_train(args) -> None:
    """``autoreg train``: train a model on --data, checkpointing to --workdir."""
    from autoreg.registry import create_model, get_spec
    from autoreg.train import maybe_initialize_distributed
    from autoreg.workdir import check_not_in_use

    maybe_initialize_distributed()
    check_data_options(args, get_spec(args.model))
    if args.allow_changed_settings and not args.resume:
        raise CLIError("--allow-changed-settings is for --resume")
    check_not_in_use(args.workdir)  # before the data are read
    config = config_from_args(args)
    train_set, test_set = load_train_data(args)
    overrides = model_overrides(args, train_set)
    model = create_model(
        args.model, preset=args.preset, levels=train_set.levels, seed=args.seed, **overrides
    )  # check_data_options refused --set of levels and seed
    labels, test_labels = training_labels(args, model, train_set, test_set)
    trained = train_or_explain(
        args,
        model,
        train_set.examples,
        config,
        train_labels=labels,
        test_x=None if test_set is None else test_set.examples,
        test_labels=test_labels,
        write_samples=sample_writer(args, model, config),
    )
    if trained:
        print(f"trained {model.name} to step {config.steps}; checkpoints in {args.workdir}")


def train_or_explain(args, model, train_x, config, **data) -> bool:
    """``autoreg.train.train`` with the CLI's options; False when a resumed run already
    reached --steps (said on stdout), a CLIError naming the options when --resume changes
    settings or asks for fewer steps than the run has done."""
    from autoreg.train import ChangedSettings, NothingToTrain, describe_changes, train

    try:
        train(
            model,
            train_x,
            args.workdir,
            config,
            resume=args.resume,
            allow_changed_settings=args.allow_changed_settings,
            progress=not args.no_progress,
            **data,
        )
    except ChangedSettings as error:
        flags = {field: flag for group in CONFIG_OPTIONS.values() for flag, field, _ in group}
        changes = [(flags[name], saved, new) for name, saved, new in error.changes]
        raise CLIError(
            f"--resume: {args.workdir} was trained with other settings: "
            f"{describe_changes(changes)}; pass --allow-changed-settings to continue with "
            "the new ones"
        ) from None
    except NothingToTrain as error:
        if error.step > error.steps:
            raise CLIError(
                f"--resume: {args.workdir} is already at step {error.step}, past --steps "
                f"{error.steps}: nothing to train (pass a larger --steps to continue)"
            ) from None
        print(f"nothing to train: {args.workdir} is already at step {error.step} = --steps")
        return False
    return True


def check_data_options(args, spec) -> None:
    """Refuse, before any work, the options that do not apply to the model family ``spec``
    or to each other, and --set of a field another option sets; then fill in the defaults of
    the data options."""
    if spec.model_cls.fixed_shape:
        why = f"is for audio models; {spec.name} is an image model"
        reject_options(args, AUDIO_OPTIONS, why)
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


def model_overrides(args, train_set) -> dict:
    """The model config fields that --set, --num-classes and the data's image shape fix."""
    overrides = parse_overrides(args.set)
    if args.num_classes:
        overrides["num_classes"] = args.num_classes
    if len(train_set.event_shape) == 3:
        overrides["image_shape"] = train_set.event_shape
    if getattr(train_set, "speaker_names", ()):  # mel windows with speaker ids
        overrides.update(num_classes=len(train_set.speaker_names), speakers=train_set.speaker_names)
    return overrides


def training_labels(args, model, train_set, test_set):
    """(train labels, test labels) for a class-conditional model, else (None, None).

    Mel windows give a ``Conditioning`` (features, and speaker ids) for both instead.
    """
    if hasattr(train_set, "features"):
        return train_set.labels, test_set.labels
    labels = train_set.labels if model.num_classes else None
    test_labels = test_set.labels if (model.num_classes and test_set is not None) else None
    if model.num_classes and labels is None:
        raise CLIError(f"--num-classes needs labels, and {args.data} has none")
    return labels, test_labels


def sample_writer(args, model, config):
    """``fn(current, step)`` that writes a grid of ``config.num_samples`` samples of an image
    model to ``--workdir/samples_<step>.png`` (class labels cycling for a conditional model)."""
    import numpy as np

    from autoreg.generate import sample
    from autoreg.image_io import save_grid
    from autoreg.validation import MAX_SEED

    def write_samples(current, step):
        if not current.fixed_shape:
            return
        grid_labels = (
            np.arange(config.num_samples) % model.num_classes if model.num_classes else None
        )
        key = (args.seed + step) % (MAX_SEED + 1)
        samples = sample(current, key, config.num_samples, labels=grid_labels)
        save_grid(np.asarray(samples), current.levels, Path(args.workdir) / f"samples_{step}.png")

    return write_samples


def load_train_data(args):
    """(train, test) ``TrainingData`` for --data; test is None when the source has no test split."""
    from autoreg.data import load_images
    from autoreg.data.images import MissingSplit
    from autoreg.registry import get_spec

    spec = get_spec(args.model)
    if not spec.model_cls.fixed_shape:
        return load_audio_train_data(args, spec)
    options = dict(
        levels=args.levels,
        binarize=args.binarize,
        patch_size=args.patch_size,
        num_patches=args.num_patches,
        download=args.download,
    )
    train_set = load_images(args.data, split="train", seed=args.seed, **options)
    try:
        test_set = load_images(args.data, split="test", seed=args.seed + 1, **options)
    except MissingSplit as error:  # a single folder or file, or an empty test split
        log.warning("%s; training without test bits/dim", error)
        test_set = None
    return train_set, test_set


def load_audio_train_data(args, spec):
    """(train windows, held-out windows) as Datasets for an audio model."""
    from autoreg.data import Dataset
    from autoreg.data.audio import audio_windows
    from autoreg.registry import make_config

    config = make_config(args.model, args.preset, **parse_overrides(args.set))
    if getattr(config, "mel", None) is not None:
        return load_mel_train_data(args, config)
    rate = parse_overrides(args.set).get("sample_rate", spec.config_cls().sample_rate)
    options = dict(holdout_seconds=args.holdout_seconds, levels=args.levels, return_sources=True)
    train_x, train_ids = audio_windows(
        args.data.split(","), rate, args.window, split="train", seed=args.seed, **options
    )
    test_x, test_ids = audio_windows(
        args.data.split(","), rate, args.window, split="heldout", **options
    )
    return (
        Dataset(train_x, train_ids, args.levels, args.data),
        Dataset(test_x, test_ids, args.levels, args.data),
    )


def load_mel_train_data(args, config):
    """(train, held-out) frame-aligned ``MelWindows`` for a mel-conditioned audio model."""
    from autoreg.data.mel_windows import mel_windows

    options = dict(
        context=config.upsample_context,
        holdout_seconds=args.holdout_seconds,
        levels=args.levels,
        speaker_from=args.speaker_from,
    )
    paths = args.data.split(",")
    train_set = mel_windows(
        paths, config.mel, args.window, split="train", seed=args.seed, **options
    )
    names = train_set.speaker_names
    test_set = mel_windows(
        paths, config.mel, args.window, split="heldout", speakers=names, **options
    )
    return train_set, test_set
