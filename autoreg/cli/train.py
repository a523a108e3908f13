"""``autoreg train``: options, --set overrides, training data loading, and the training run."""

from __future__ import annotations

import json
from pathlib import Path

from autoreg.cli.common import CLIError


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
        default=256,
        help="K, values per sub-pixel; 8-bit data is binned (default 256)",
    )
    group.add_argument(
        "--binarize",
        action="store_true",
        help="threshold images at 128 (K = 2, threshold-binarized data)",
    )
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
        type=int,
        default=8000,
        help="audio models: samples per training/evaluation window (default 8000)",
    )
    group.add_argument(
        "--holdout-seconds",
        type=float,
        default=2.0,
        help="audio models: seconds at the end of each clip kept out of training (default 2)",
    )
    group.add_argument(
        "--download",
        action="store_true",
        help="allow tensorflow-datasets to download (never otherwise)",
    )


def add_train_parser(sub):
    """Add the ``train`` subcommand to the subparsers ``sub``."""
    from autoreg.train import TrainConfig

    d = TrainConfig()
    p = sub.add_parser(
        "train",
        help="train a model by maximum likelihood with checkpoints",
        description="Train a model on a dataset. Checkpoints, metrics (metrics.jsonl) and sample "
        "grids go to --workdir; --resume continues a run exactly. Uses every local device "
        "(data parallel) and joins a multi-host run when JAX_COORDINATOR_ADDRESS is set.",
    )
    p.add_argument("--model", required=True, help="model family to train (see autoreg.MODELS)")
    p.add_argument("--workdir", required=True, help="directory for checkpoints and metrics")
    p.add_argument("--preset", help="model size preset: tiny, reference, ... (default reference)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override one model config field, e.g. --set channels=64 (repeatable)",
    )
    p.add_argument(
        "--num-classes",
        type=int,
        help="train class-conditionally on the dataset's labels (models that support it)",
    )
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    add_data_options(p)
    g = p.add_argument_group("optimisation")
    g.add_argument("--steps", type=int, default=d.steps, help=f"optimiser steps ({d.steps})")
    g.add_argument(
        "--batch-size", type=int, default=d.batch_size, help=f"global batch size ({d.batch_size})"
    )
    g.add_argument(
        "--lr",
        type=float,
        default=d.learning_rate,
        help=f"peak Adam learning rate ({d.learning_rate})",
    )
    g.add_argument(
        "--warmup-steps",
        type=int,
        default=d.warmup_steps,
        help=f"linear warm-up steps before cosine decay ({d.warmup_steps})",
    )
    g.add_argument(
        "--grad-clip",
        type=float,
        default=d.grad_clip,
        help=f"global gradient-norm clip, 0 for none ({d.grad_clip})",
    )
    g.add_argument(
        "--ema",
        type=float,
        default=d.ema_decay,
        help="EMA decay of parameters used for eval and export, e.g. 0.999 (off)",
    )
    g.add_argument("--seed", type=int, default=d.seed, help="data order and init seed (0)")
    b = p.add_argument_group("bookkeeping")
    b.add_argument(
        "--checkpoint-every",
        type=int,
        default=d.checkpoint_every,
        help=f"steps between checkpoints ({d.checkpoint_every})",
    )
    b.add_argument(
        "--eval-every",
        type=int,
        default=d.eval_every,
        help=f"steps between test bits/dim evaluations, 0: only at the end ({d.eval_every})",
    )
    b.add_argument(
        "--eval-examples",
        type=int,
        default=d.eval_examples,
        help=f"test examples per evaluation ({d.eval_examples})",
    )
    b.add_argument(
        "--sample-every",
        type=int,
        default=d.sample_every,
        help="steps between sample grids; 0: only at the end, -1: never (0)",
    )
    b.add_argument(
        "--time-limit",
        type=float,
        default=0.0,
        help="stop after this many minutes, with a final checkpoint and evaluation (0: none)",
    )
    b.add_argument(
        "--log-every",
        type=int,
        default=d.log_every,
        help=f"steps between lines in metrics.jsonl ({d.log_every})",
    )
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)


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
    import numpy as np

    from autoreg.checkpoint import load_checkpoint
    from autoreg.generate import sample
    from autoreg.image_io import save_grid
    from autoreg.registry import create_model, get_spec
    from autoreg.train import TrainConfig, maybe_initialize_distributed, train

    maybe_initialize_distributed()
    get_spec(args.model)
    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        warmup_steps=args.warmup_steps,
        grad_clip=args.grad_clip,
        ema_decay=args.ema,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
        eval_examples=args.eval_examples,
        sample_every=args.sample_every,
        log_every=args.log_every,
        time_limit=args.time_limit * 60.0,
    )
    train_set, test_set = load_train_data(args)
    overrides = parse_overrides(args.set)
    if args.num_classes:
        overrides["num_classes"] = args.num_classes
    if len(train_set.event_shape) == 3:
        overrides["image_shape"] = train_set.event_shape
    model = create_model(
        args.model, preset=args.preset, levels=train_set.levels, seed=args.seed, **overrides
    )
    if args.resume:
        previous = load_checkpoint(args.workdir)
        if previous.config != model.config or previous.name != model.name:
            raise CLIError(
                f"{args.workdir} holds a {previous.name} with another config; resume with the "
                "same --model, --preset, --set and data options"
            )
    labels = train_set.labels if model.num_classes else None
    test_labels = test_set.labels if (model.num_classes and test_set is not None) else None
    if model.num_classes and labels is None:
        raise CLIError(f"--num-classes needs labels, and {args.data} has none")

    def write_samples(current, step):
        if not current.fixed_shape:
            return
        grid_labels = (
            np.arange(config.num_samples) % model.num_classes if model.num_classes else None
        )
        samples = sample(current, args.seed + step, config.num_samples, labels=grid_labels)
        save_grid(np.asarray(samples), current.levels, Path(args.workdir) / f"samples_{step}.png")

    train(
        model,
        train_set.examples,
        args.workdir,
        config,
        train_labels=labels,
        test_x=None if test_set is None else test_set.examples,
        test_labels=test_labels,
        resume=args.resume,
        progress=not args.no_progress,
        write_samples=write_samples,
    )
    print(f"trained {model.name}; checkpoints in {args.workdir}")


def load_train_data(args):
    """(train, test) ``TrainingData`` for --data; test is None when the source has no test split."""
    from autoreg.data import load_images
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
    except ValueError:
        test_set = None  # a single folder or array has no test split
    return train_set, test_set


def load_audio_train_data(args, spec):
    """(train windows, held-out windows) as Datasets for an audio model."""
    from autoreg.data import Dataset
    from autoreg.data.audio import audio_windows

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
