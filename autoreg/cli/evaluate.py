"""``autoreg eval``: exact log-likelihood in bits per dimension, optional JSON and heatmap."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from autoreg.cli.common import (
    add_binarize_option,
    add_model_source,
    add_scale_option,
    binarization,
    given,
    modality_options,
    non_negative_int,
    positive_float,
    positive_int,
    reject_options,
    reject_other_modalities,
    resolve_model,
)
from autoreg.modalities.audio import DEFAULT_HOLDOUT

DEFAULT_HEATMAP_COUNT = 8  # images the heatmap shows


def add_eval_parser(sub):
    """Add the ``eval`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "eval",
        help="exact test log-likelihood in bits per dim",
        description="Evaluate the exact negative log-likelihood of a dataset in bits per "
        "dimension (and nats per example).",
    )
    add_model_source(p)
    add_binarize_option(p, evaluating=True)
    p.add_argument(
        "--data",
        required=True,
        help="dataset: .npz (x_train/x_test keys), image folder, IDX file(s), tfds:NAME; "
        "audio models: audio files or a folder; video models: moving_mnist[:PATH_TO_MNIST] "
        "(made at the model's frame size and frames) or clips (.npy/.npz/GIF/frame folders)",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["train", "test"],
        help="which split to evaluate (default test)",
    )
    p.add_argument("--limit", type=positive_int, help="evaluate only the first N examples")
    p.add_argument(
        "--patch-size",
        type=positive_int,
        help="image models: evaluate the grid of patches of this size (test split)",
    )
    p.add_argument(
        "--window",
        type=positive_int,
        help="audio models: cut the held-out audio into windows of N samples",
    )
    p.add_argument(
        "--holdout-seconds",
        type=positive_float,
        help=f"audio models: the held-out seconds at the end of each clip (default "
        f"{DEFAULT_HOLDOUT:g}); shorter clips are skipped, with a warning naming them",
    )
    p.add_argument(
        "--speaker-from",
        choices=["none", "parent", "stem"],
        help="speaker-conditioned vocoders: speaker of each file from its folder or name "
        "(default none)",
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=64, help="examples per batch (default 64)"
    )
    p.add_argument("--json", dest="json_out", help="also write the results as JSON to this file")
    p.add_argument("--heatmap", help="image models: also write a PNG of the bits on each pixel")
    motion = p.add_argument_group(
        "tests of motion (video models)",
        "Are the model's futures using motion? The likelihood of the predicted frames given the "
        "observed ones in order, shuffled and removed, and the MSE and SSIM of sampled futures "
        "against those of the last observed frame, an empty frame and the nearest training clip.",
    )
    motion.add_argument(
        "--context",
        type=positive_int,
        help="observed frames of each clip; the others are predicted (default: half)",
    )
    motion.add_argument(
        "--futures", type=positive_int, help="futures sampled per clip (default: none)"
    )
    motion.add_argument(
        "--nearest-clips",
        type=non_negative_int,
        help="Moving MNIST: training sequences the nearest-neighbour baseline searches "
        "(default 1000; 0: no such baseline)",
    )
    motion.add_argument("--plot", help="write the errors against the predicted frame as a PNG")
    p.add_argument(
        "--heatmap-count",
        type=positive_int,
        help=f"how many images the heatmap shows (default {DEFAULT_HEATMAP_COUNT})",
    )
    add_scale_option(p, "the heatmap's pixels")
    p.set_defaults(run=run_eval)


def run_eval(args) -> None:
    """``autoreg eval``: print (and optionally save) the exact bits per dimension."""
    from autoreg.atomic import atomic_write
    from autoreg.evaluation import evaluate, further_evaluation
    from autoreg.heatmap import bits_per_position, heatmap_scale, render_heatmap

    model = resolve_model(args)
    json_out, heatmap = check_outputs(model, args)
    dataset = load_eval_data(model, args)
    count = min(args.heatmap_count or DEFAULT_HEATMAP_COUNT, len(dataset))
    if heatmap:  # the figure's size is checked before the evaluation
        scale = heatmap_scale(count, *model.event_shape()[:2], args.scale)
    result = evaluate(model, dataset, batch_size=args.batch_size)  # a vocoder: given its mel
    unit, per_dim = model.modality.example, model.modality.bits_unit
    per_dim += "" if dataset.features is None else " given the mel"
    print(
        f"{result.bits_per_dim:.4f} {per_dim}  ({result.nats_per_example:.2f} nats per {unit}, "
        f"{result.num_examples} examples, {args.split} split of {args.data})"
    )
    if heatmap:
        shown = dataset.take(count)
        bits = bits_per_position(model, shown.examples, shown.labels)
        render_heatmap(shown.examples, bits, heatmap, levels=model.levels, scale=scale)
        print(f"wrote per-pixel bits of {count} images to {heatmap}")
    options = given(args, *model.modality.eval_options)
    options.pop("plot", None)  # the command's: the report draws it
    extra = further_evaluation(model, dataset, args.data, **options)  # video: tests of motion
    if extra is not None:
        print("\n".join(extra.lines()))
        if args.plot:
            print(f"wrote {extra.figure(args.plot)}")
    if json_out:
        record = {**result.as_dict(), "model": model.name, "data": args.data, "split": args.split}
        if extra is not None:
            record[extra.name] = extra.as_dict()
        text = json.dumps(record, indent=2, allow_nan=False)  # NaN is not JSON
        atomic_write(json_out, lambda t: Path(t).write_text(text))


def check_outputs(model, args):
    """(JSON path or None, heatmap path or None), checked with the options that depend on the
    model's modality before any data is read."""
    from autoreg.atomic import check_writable

    reject_other_modalities(args, model.name, model.modality, "eval_options")
    if args.heatmap is None:
        reject_options(args, ("heatmap_count", "scale"), "is for --heatmap")
    if args.plot:
        check_writable(args.plot)
    json_out = args.json_out and check_writable(args.json_out, (".json",))
    return json_out, args.heatmap and check_writable(args.heatmap)


def load_eval_data(model, args):
    """The evaluation ``Dataset`` of --data for ``model``, cut to --limit.

    A source with one set of examples (no test split) is evaluated whole, and the data layer
    warns that its bits/dim then measure the fit, not generalisation: true of a --checkpoint,
    which may have been trained on that set, never of a shipped model, which was trained on
    other data (with a test split of their own), so for one the warning is left out.
    """
    from autoreg.data import images, load_for_model, video

    args.binarize = binarization(args, model)
    options = modality_options(args, model.modality, "eval_options")
    quiet = () if args.checkpoint else (images.log, video.log)  # the loggers that say it
    with without_warning(quiet, OWN_TEST_SPLIT):
        return load_for_model(model, args.data, split=args.split, limit=args.limit, **options)


# What the data layer's warning about a source used as its own test split says (images and
# clips alike): "X has no test split: its test split is the training data (its bits/dim
# measure the fit, not generalisation)".
OWN_TEST_SPLIT = "its bits/dim measure the fit"


@contextlib.contextmanager
def without_warning(loggers, text: str):
    """While entered, drop the records of ``loggers`` whose message holds ``text``."""

    def keep(record) -> bool:
        return text not in record.getMessage()

    for logger in loggers:
        logger.addFilter(keep)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(keep)
