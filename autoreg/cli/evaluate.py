"""``autoreg eval``: exact log-likelihood in bits per dimension, optional JSON and heatmap."""

from __future__ import annotations

import json
import os
from pathlib import Path

from autoreg.cli.common import CLIError, add_model_source, resolve_model


def add_eval_parser(sub):
    """Add the ``eval`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "eval",
        help="exact test log-likelihood in bits per dim",
        description="Evaluate the exact negative log-likelihood of a dataset in bits per "
        "dimension (and nats per example).",
    )
    add_model_source(p)
    p.add_argument(
        "--data",
        required=True,
        help="dataset: .npz (x_train/x_test keys), image folder, IDX file(s), tfds:NAME",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["train", "test"],
        help="which split to evaluate (default test)",
    )
    p.add_argument("--limit", type=int, help="evaluate only the first N examples")
    p.add_argument(
        "--patch-size", type=int, help="evaluate the grid of patches of this size (test split)"
    )
    p.add_argument(
        "--window", type=int, help="audio models: cut the held-out audio into windows of N samples"
    )
    p.add_argument(
        "--holdout-seconds",
        type=float,
        default=2.0,
        help="audio models: the held-out seconds at the end of each clip (default 2)",
    )
    p.add_argument(
        "--speaker-from",
        choices=["none", "parent", "stem"],
        default="none",
        help="speaker-conditioned vocoders: speaker of each file from its folder or name",
    )
    p.add_argument("--batch-size", type=int, default=64, help="examples per batch (default 64)")
    p.add_argument("--json", dest="json_out", help="also write the results as JSON to this file")
    p.add_argument("--heatmap", help="also write a PNG of the bits spent on each pixel")
    p.add_argument(
        "--heatmap-count", type=int, default=8, help="how many images the heatmap shows (default 8)"
    )
    p.set_defaults(run=run_eval)


def run_eval(args) -> None:
    """``autoreg eval``: print (and optionally save) the exact bits per dimension."""
    from autoreg.atomic import atomic_write
    from autoreg.evaluate import evaluate
    from autoreg.image_io import check_writable
    from autoreg.models.functional import split_conditioning

    model = resolve_model(args)
    if args.json_out and not os.path.isdir(os.path.dirname(os.path.abspath(args.json_out))):
        raise CLIError(f"{args.json_out}: folder does not exist")
    if args.heatmap:
        check_writable(args.heatmap)
    data, labels = load_eval_data(model, args)
    labels, features = split_conditioning(labels)  # a vocoder: the mel of the audio itself
    result = evaluate(model, data, labels, features=features, batch_size=args.batch_size)
    unit, per_dim = ("image", "bits/dim") if model.fixed_shape else ("clip", "bits/sample")
    per_dim += "" if features is None else " given the mel"
    print(
        f"{result.bits_per_dim:.4f} {per_dim}  ({result.nats_per_example:.2f} nats per {unit}, "
        f"{result.num_examples} examples, {args.split} split of {args.data})"
    )
    if args.heatmap:
        from autoreg.heatmap import bits_per_position, render_heatmap

        count = min(args.heatmap_count, len(data))
        shown_labels = None if labels is None else labels[:count]
        bits = bits_per_position(model, data[:count], shown_labels)
        render_heatmap(data[:count], bits, args.heatmap, levels=model.levels)
        print(f"wrote per-pixel bits of {count} images to {args.heatmap}")
    if args.json_out:
        record = {**result.as_dict(), "model": model.name, "data": args.data, "split": args.split}
        atomic_write(args.json_out, lambda t: Path(t).write_text(json.dumps(record, indent=2)))


def load_eval_data(model, args):
    """The evaluation examples (and labels) of --data, checked against the model."""
    if getattr(model.config, "mel", None) is not None:
        return load_mel_eval_data(model, args)
    if not model.fixed_shape:
        from autoreg.data.audio import audio_windows

        split = "heldout" if args.split == "test" else "train"
        data, sources = audio_windows(
            args.data.split(","),
            model.config.sample_rate,
            args.window,
            split=split,
            holdout_seconds=args.holdout_seconds,
            levels=model.levels,
            return_sources=True,
        )
        data = data[: args.limit] if args.limit else data
        if model.num_classes:
            return data, sources[: len(data)]
        return data, None
    from autoreg.data import load_images

    binarize = model.levels == 2
    dataset = load_images(
        args.data,
        split=args.split,
        levels=model.levels,
        binarize=binarize,
        patch_size=args.patch_size,
    )
    dataset = dataset.take(args.limit)
    if dataset.event_shape != model.event_shape():
        raise CLIError(
            f"{args.data} has {dataset.event_shape} images, the model expects {model.event_shape()}"
        )
    labels = dataset.labels if model.num_classes else None
    if model.num_classes and labels is None:
        raise CLIError(f"{model.name} is class-conditional but {args.data} has no labels")
    return dataset.examples, labels


def load_mel_eval_data(model, args):
    """A vocoder's held-out audio and its ``Conditioning``: its own mel (and speaker ids)."""
    from autoreg.data.mel_windows import mel_windows
    from autoreg.models.functional import Conditioning

    cfg = model.config
    windows = mel_windows(
        args.data.split(","),
        cfg.mel,
        args.window,
        context=cfg.upsample_context,
        split="heldout" if args.split == "test" else "train",
        holdout_seconds=args.holdout_seconds,
        levels=model.levels,
        speaker_from=args.speaker_from if model.num_classes else "none",
        speakers=cfg.speakers,
    )
    n = args.limit or len(windows)
    speakers = None if windows.speakers is None else windows.speakers[:n]
    return windows.examples[:n], Conditioning(speakers, windows.features[:n])
