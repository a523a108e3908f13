"""Command line: ``autoreg train | sample | complete | eval``; parses, then calls the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DESCRIPTION = """Autoregressive generative models (PixelCNN, PixelRNN, WaveNet) in JAX.

Examples:
  autoreg sample --model pixelcnn --num 16 --out samples.png
  autoreg eval --model pixelcnn --data ../shared/data/mnist.npz --limit 1000
  autoreg train --model pixelcnn --data ../shared/data/mnist.npz --workdir runs/mnist
"""


class CLIError(Exception):
    """A user error reported as one line on stderr with a non-zero exit."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) so every failure reads the same."""

    def error(self, message):
        raise CLIError(f"{message} (see {self.prog} --help)")


def add_model_source(parser):
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        help="model name (pixelcnn, ...); without --checkpoint, uses the shipped "
        "pretrained model of that name",
    )
    group.add_argument("--checkpoint", help="checkpoint directory written by save/train")


def add_sample_parser(sub):
    p = sub.add_parser(
        "sample",
        help="draw samples and write a PNG grid (or a WAV for audio models)",
        description="Draw exact ancestral samples from a trained model.",
    )
    add_model_source(p)
    p.add_argument("--num", type=int, help="number of samples (default 16 images, or 1 audio clip)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="divide logits by this; 1.0 samples the model exactly (default)",
    )
    p.add_argument("--method", help="sampling method (default: the fastest exact one)")
    p.add_argument(
        "--label",
        type=int,
        nargs="+",
        help="class label(s) for class-conditional models; several labels cycle over samples",
    )
    p.add_argument(
        "--seconds", type=float, default=2.0, help="audio models: length in seconds (default 2)"
    )
    p.add_argument(
        "--out",
        default="samples.png",
        help="output PNG grid (WAV for audio models); default samples.png",
    )
    p.set_defaults(run=run_sample)


def add_eval_parser(sub):
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
    p.add_argument("--batch-size", type=int, default=64, help="examples per batch (default 64)")
    p.add_argument("--json", dest="json_out", help="also write the results as JSON to this file")
    p.add_argument("--heatmap", help="also write a PNG of the bits spent on each pixel")
    p.add_argument(
        "--heatmap-count", type=int, default=8, help="how many images the heatmap shows (default 8)"
    )
    p.set_defaults(run=run_eval)


def add_data_options(parser):
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


def add_complete_parser(sub):
    from autoreg.occlusion import OCCLUSIONS

    p = sub.add_parser(
        "complete",
        help="complete occluded images; writes a grid, one row per input",
        description="Complete occluded images. Each output row shows the occluded input, --num "
        "completions and the original. A hidden region that is a suffix of the raster order "
        "(--occlude bottom) is completed exactly by the ancestral sampler; any other region "
        "(right, a box, a mask) by sequential Monte Carlo that also weighs the observed pixels "
        "after the hole (approximate, better with more --particles).",
    )
    add_model_source(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", nargs="+", help="PNG/JPEG images to complete")
    source.add_argument("--data", help="dataset to take images from (with --index)")
    p.add_argument(
        "--index",
        type=int,
        nargs="+",
        default=[0, 1, 2, 3],
        help="with --data: which examples (default 0 1 2 3)",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["train", "test"],
        help="with --data: which split (default test)",
    )
    p.add_argument("--occlude", default="bottom", help=f"what to hide: {OCCLUSIONS}")
    p.add_argument("--num", type=int, default=4, help="completions per input (default 4)")
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "exact", "smc"],
        help="auto: exact for raster-suffix holes, else smc (default)",
    )
    p.add_argument(
        "--particles", type=int, default=64, help="SMC particles per completion (default 64)"
    )
    p.add_argument(
        "--resize",
        action="store_true",
        help="resize/convert --image files to the model's size and colour mode",
    )
    p.add_argument("--label", type=int, help="class label for class-conditional models")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="completions.png", help="output PNG grid")
    p.set_defaults(run=run_complete)


def add_texture_parser(sub):
    p = sub.add_parser(
        "texture",
        help="synthesise a texture from one example image",
        description="Texture synthesis two ways: efros-leung (non-parametric sampling, Efros & "
        "Leung 1999) or pixelcnn (train a small Gated PixelCNN on random patches of the image, "
        "or load one with --checkpoint, then sample a canvas larger than the patches).",
    )
    p.add_argument("--image", required=True, help="example texture (PNG/JPEG)")
    p.add_argument("--size", type=int, default=96, help="output side in pixels (default 96)")
    p.add_argument(
        "--method",
        default="efros-leung",
        choices=["efros-leung", "pixelcnn"],
        help="synthesis method (default efros-leung)",
    )
    p.add_argument(
        "--source-size",
        type=int,
        default=128,
        help="downscale the example so its longer side is at most this (default 128)",
    )
    p.add_argument("--window", type=int, default=11, help="efros-leung: neighbourhood (11)")
    p.add_argument("--steps", type=int, default=1500, help="pixelcnn: training steps (1500)")
    p.add_argument(
        "--patch-size", type=int, default=32, help="pixelcnn: training patch side (default 32)"
    )
    p.add_argument("--checkpoint", help="pixelcnn: use this trained texture model")
    p.add_argument("--save-model", help="pixelcnn: save the trained texture model here")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="texture.png", help="output PNG")
    p.set_defaults(run=run_texture)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="autoreg",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    add_train_parser(sub)
    add_sample_parser(sub)
    add_complete_parser(sub)
    add_eval_parser(sub)
    add_texture_parser(sub)
    return parser


def resolve_model(args):
    """The model named by --checkpoint and/or --model (the shipped one if only --model)."""
    from autoreg.checkpoint import load_checkpoint
    from autoreg.models import get_spec
    from autoreg.pretrained import load_pretrained

    if args.checkpoint:
        model = load_checkpoint(args.checkpoint)
        if args.model and args.model != model.name:
            raise CLIError(f"{args.checkpoint} holds a {model.name} model, not {args.model}")
        return model
    if not args.model:
        raise CLIError("pass --model NAME (shipped pretrained model) or --checkpoint DIR")
    get_spec(args.model)
    return load_pretrained(args.model)


def run_sample(args) -> None:
    import jax
    import numpy as np

    from autoreg.image_io import check_writable, save_grid
    from autoreg.sampling import sample

    model = resolve_model(args)
    num = args.num if args.num is not None else (16 if model.fixed_shape else 1)
    if num < 1:
        raise CLIError(f"--num must be positive, got {num}")
    labels = None
    if args.label is not None or model.num_classes:
        if args.label is None:
            raise CLIError(
                f"{model.name} is class-conditional: pass --label 0..{model.num_classes - 1}"
            )
        labels = np.resize(np.asarray(args.label), num)  # cycles through the labels
    if model.fixed_shape:
        out = check_writable(args.out)
        samples = sample(
            model,
            jax.random.key(args.seed),
            num,
            temperature=args.temperature,
            labels=labels,
            method=args.method,
        )
        save_grid(np.asarray(samples), model.levels, out)
    else:
        from autoreg.data import audio

        out = check_writable(args.out, (".wav",))
        length = int(round(args.seconds * model.config.sample_rate))
        if length < 1:
            raise CLIError(f"--seconds must be positive, got {args.seconds}")
        samples = sample(
            model,
            jax.random.key(args.seed),
            num,
            temperature=args.temperature,
            labels=labels,
            method=args.method,
            length=length,
        )
        for i, clip in enumerate(np.asarray(samples)):
            path = out if num == 1 else out.with_name(f"{out.stem}_{i}{out.suffix}")
            audio.write_wav(path, clip, model.config.sample_rate, levels=model.levels)
    print(f"wrote {num} samples to {out}")


def run_eval(args) -> None:
    from autoreg.atomic import atomic_write
    from autoreg.evaluate import evaluate
    from autoreg.image_io import check_writable

    model = resolve_model(args)
    if args.json_out and not os.path.isdir(os.path.dirname(os.path.abspath(args.json_out))):
        raise CLIError(f"{args.json_out}: folder does not exist")
    if args.heatmap:
        check_writable(args.heatmap)
    data, labels = load_eval_data(model, args)
    result = evaluate(model, data, labels, batch_size=args.batch_size)
    unit, per_dim = ("image", "bits/dim") if model.fixed_shape else ("clip", "bits/sample")
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


def run_complete(args) -> None:
    import jax
    import numpy as np

    from autoreg.image_io import check_writable, make_grid, save_png, to_rgb
    from autoreg.occlusion import is_raster_suffix, occlusion_mask
    from autoreg.sampling import complete

    model = resolve_model(args)
    if not model.fixed_shape:
        raise CLIError(f"{model.name} is an audio model; complete works on images")
    out = check_writable(args.out)
    if args.num < 1 or args.particles < 1:
        raise CLIError("--num and --particles must be positive")
    images, labels = completion_inputs(model, args)
    height, width, _ = model.event_shape()
    observed = occlusion_mask(args.occlude, height, width)  # (H, W)
    method = args.method
    if method == "auto":
        method = "exact" if is_raster_suffix(observed) else "smc"
    x = np.repeat(images, args.num, axis=0)
    repeated_labels = None if labels is None else np.repeat(labels, args.num)
    completions = complete(
        model,
        jax.random.key(args.seed),
        x,
        observed,
        labels=repeated_labels,
        method=None if method == "exact" else "smc",
        particles=args.particles,
    )
    completions = to_rgb(np.asarray(completions), model.levels).reshape(
        len(images), args.num, height, width, 3
    )
    originals = to_rgb(images, model.levels)
    occluded = originals.copy()
    occluded[:, ~observed] = (255, 0, 255)  # hidden pixels shown in magenta
    rows = np.concatenate([occluded[:, None], completions, originals[:, None]], axis=1)
    save_png(make_grid(rows.reshape(-1, height, width, 3), columns=args.num + 2), out)
    exact = "exact ancestral sampling" if method == "exact" else f"SMC, {args.particles} particles"
    print(f"wrote {len(images)} x {args.num} completions ({exact}) to {out}")


def completion_inputs(model, args):
    """(images (N, H, W, C) in 0..K-1, labels or None) from --image files or --data/--index."""
    import numpy as np

    from autoreg.data import load_images, quantise
    from autoreg.data.images import read_image, resize_image

    shape = model.event_shape()
    if args.image:
        images = []
        for path in args.image:
            image = read_image(path)
            if image.shape != shape:
                if not args.resize:
                    raise CLIError(
                        f"{path} is {image.shape[0]}x{image.shape[1]}x{image.shape[2]}, the model "
                        f"expects {shape[0]}x{shape[1]}x{shape[2]} (pass --resize to convert)"
                    )
                image = resize_image(image, shape)
            images.append(image)
        images = quantise(np.stack(images), model.levels, binarize=model.levels == 2)
        dataset_labels = None
    else:
        dataset = load_images(
            args.data, split=args.split, levels=model.levels, binarize=model.levels == 2
        )
        if dataset.event_shape != shape:
            raise CLIError(
                f"{args.data} has {dataset.event_shape} images, the model expects {shape}"
            )
        bad = [i for i in args.index if not 0 <= i < len(dataset)]
        if bad:
            raise CLIError(f"--index {bad[0]} is outside 0..{len(dataset) - 1}")
        images = dataset.examples[args.index]
        dataset_labels = None if dataset.labels is None else dataset.labels[args.index]
    if not model.num_classes:
        if args.label is not None:
            raise CLIError(f"{model.name} is unconditional: it takes no --label")
        return images, None
    if args.label is not None:
        return images, np.full(len(images), args.label)
    if dataset_labels is None:
        raise CLIError(f"{model.name} is class-conditional: pass --label")
    return images, dataset_labels


def run_texture(args) -> None:
    import time

    from autoreg.data.images import read_image
    from autoreg.image_io import check_writable, save_png

    out = check_writable(args.out)
    source = read_image(args.image)
    start = time.perf_counter()
    if args.method == "efros-leung":
        from autoreg.texture import efros_leung

        texture = efros_leung(
            source, args.size, window=args.window, seed=args.seed, source_size=args.source_size
        )
    else:
        from autoreg.checkpoint import load_checkpoint, save_checkpoint
        from autoreg.texture_model import pixelcnn_texture, train_texture_model

        if args.checkpoint:
            model = load_checkpoint(args.checkpoint)
        else:
            model = train_texture_model(
                source,
                patch_size=args.patch_size,
                steps=args.steps,
                source_size=args.source_size,
                seed=args.seed,
            )
            if args.save_model:
                save_checkpoint(model, args.save_model, overwrite=True)
        texture = pixelcnn_texture(model, args.size, seed=args.seed)
    save_png(texture, out)
    print(
        f"wrote a {args.size}x{args.size} {args.method} texture to {out} "
        f"({time.perf_counter() - start:.1f} s)"
    )


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
    import numpy as np

    from autoreg.checkpoint import load_checkpoint
    from autoreg.image_io import save_grid
    from autoreg.models import create_model, get_spec
    from autoreg.sampling import sample
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
    from autoreg.models import get_spec

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


def load_eval_data(model, args):
    """The evaluation examples (and labels) of --data, checked against the model."""
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


def main(argv=None) -> int:
    """Entry point of the ``autoreg`` command."""
    quiet_libraries()
    try:
        args = build_parser().parse_args(argv)
        args.run(args)
    except CLIError as error:
        print(f"autoreg: error: {error}", file=sys.stderr)
        return 2
    except ImportError as error:
        name = getattr(error, "name", None) or str(error)
        print(
            f"autoreg: error: missing package {name} (pip install autoreg's dependencies)",
            file=sys.stderr,
        )
        return 1
    except (ValueError, TypeError, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"autoreg: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("autoreg: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
