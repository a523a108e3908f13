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
    p.add_argument("--num", type=int, default=16, help="number of samples (default 16)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="divide logits by this; 1.0 samples the model exactly (default)",
    )
    p.add_argument("--method", help="sampling method (default: the fastest exact one)")
    p.add_argument("--label", type=int, help="class label for class-conditional models")
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
    p.add_argument("--batch-size", type=int, default=64, help="examples per batch (default 64)")
    p.add_argument("--json", dest="json_out", help="also write the results as JSON to this file")
    p.set_defaults(run=run_eval)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="autoreg",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    add_sample_parser(sub)
    add_eval_parser(sub)
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
    if args.num < 1:
        raise CLIError(f"--num must be positive, got {args.num}")
    labels = None
    if args.label is not None or model.num_classes:
        if args.label is None:
            raise CLIError(
                f"{model.name} is class-conditional: pass --label 0..{model.num_classes - 1}"
            )
        labels = np.full((args.num,), args.label)
    if model.fixed_shape:
        out = check_writable(args.out)
        samples = sample(
            model,
            jax.random.key(args.seed),
            args.num,
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
            args.num,
            temperature=args.temperature,
            labels=labels,
            method=args.method,
            length=length,
        )
        audio.write_wav(out, np.asarray(samples), model.config.sample_rate)
    print(f"wrote {args.num} samples to {out}")


def run_eval(args) -> None:
    from autoreg.evaluate import evaluate
    from autoreg.image_io import atomic_write

    model = resolve_model(args)
    if args.json_out and not os.path.isdir(os.path.dirname(os.path.abspath(args.json_out))):
        raise CLIError(f"{args.json_out}: folder does not exist")
    data, labels = load_eval_data(model, args)
    result = evaluate(model, data, labels, batch_size=args.batch_size)
    unit = "image" if model.fixed_shape else "clip"
    print(
        f"{result.bits_per_dim:.4f} bits/dim  ({result.nats_per_example:.2f} nats per {unit}, "
        f"{result.num_examples} examples, {args.split} split of {args.data})"
    )
    if args.json_out:
        record = {**result.as_dict(), "model": model.name, "data": args.data, "split": args.split}
        atomic_write(args.json_out, lambda t: Path(t).write_text(json.dumps(record, indent=2)))


def load_eval_data(model, args):
    """The evaluation examples (and labels) of --data, checked against the model."""
    if not model.fixed_shape:
        from autoreg.data import audio

        return audio.load_eval_windows(args.data, model), None
    from autoreg.data import load_images

    binarize = model.levels == 2
    dataset = load_images(args.data, split=args.split, levels=model.levels, binarize=binarize)
    dataset = dataset.take(args.limit)
    if dataset.image_shape != model.event_shape():
        raise CLIError(
            f"{args.data} has {dataset.image_shape} images, the model expects {model.event_shape()}"
        )
    labels = dataset.labels if model.num_classes else None
    if model.num_classes and labels is None:
        raise CLIError(f"{model.name} is class-conditional but {args.data} has no labels")
    return dataset.images, labels


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
