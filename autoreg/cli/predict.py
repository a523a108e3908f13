"""``autoreg predict``: sample what happens next in a clip and write an animated GIF."""

from __future__ import annotations

from pathlib import Path

from autoreg.cli.common import (
    CLIError,
    add_model_source,
    add_scale_option,
    add_seed_option,
    positive_float,
    positive_int,
    reject_options,
    resolve_model,
)
from autoreg.modalities import VIDEO

DESCRIPTION = """Predict the next --frames frames of a clip from its first --context frames
and write an animated GIF: the first row plays the observed frames, then the true future
(green border) when the clip goes on; each further row plays the observed frames, then one
predicted future (red border).

--method model (default) draws exact samples from a video model: the observed frames are a
prefix of the model's order, so each future is a draw from its distribution of the future
given the past. --method nearest continues the observed frames as their nearest windows in a
database of training clips did (Yuen & Torralba 2010; no model needed, and no randomness).

Examples, run where MNIST is saved as mnist.npz (a clip of your own: --video clip.gif):
  autoreg predict --model video_pixelcnn --video moving_mnist:mnist.npz --index 3 --out futures.gif
  autoreg predict --model video_pixelcnn --video moving_mnist:mnist.npz --context 5 --num 8
  autoreg predict --video moving_mnist:mnist.npz --method nearest
"""
VIDEO_HELP = (
    "the clip: a .npy/.npz of (N, T, H, W[, C]) clips, an animated GIF, a folder of PNG/JPEG "
    "frames (or of such folders), or moving_mnist[:PATH_TO_MNIST] for a Moving MNIST test "
    "sequence made at the model's frame size (MNIST found at $AUTOREG_MNIST or ./mnist.npz "
    "when no PATH is given)"
)
NEAREST_FRAME_SIZE = 64  # --method nearest without a model: Moving MNIST's standard frames


def add_predict_parser(sub):
    """Add the ``predict`` subcommand to the subparsers ``sub``."""
    import argparse

    p = sub.add_parser(
        "predict",
        help="predict the next frames of a clip and write an animated GIF",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_source(
        p,
        "video model: a registry name (video_pixelcnn: its shipped model) or a checkpoint or "
        "work directory; optional for --method nearest",
    )
    p.add_argument("--video", required=True, help=VIDEO_HELP)
    p.add_argument(
        "--index",
        type=int,
        default=0,
        help="which clip of --video (default 0: the first; Moving MNIST: test sequence INDEX)",
    )
    p.add_argument("--context", type=positive_int, default=10, help="observed frames (default 10)")
    p.add_argument("--frames", type=positive_int, default=10, help="frames to predict (default 10)")
    p.add_argument("--num", type=positive_int, default=4, help="futures to draw (default 4)")
    p.add_argument(
        "--method",
        choices=("model", "nearest"),
        default="model",
        help="model: exact samples from the video model (default); nearest: the "
        "nearest-neighbour baseline",
    )
    p.add_argument(
        "--train-clips",
        help="--method nearest: the database of clips (as --video; default: the Moving MNIST "
        "training split, 10000 sequences at the frame size of the model, else of the clip)",
    )
    add_seed_option(p)
    p.add_argument(
        "--temperature",
        type=positive_float,
        help="--method model: divide logits by this; 1.0 samples the model exactly (default)",
    )
    add_scale_option(p, "the frames")
    p.add_argument(
        "--duration-ms",
        type=positive_int,
        default=200,
        help="milliseconds each frame shows (default 200)",
    )
    p.add_argument("--out", default="futures.gif", help="output GIF (default futures.gif)")
    p.set_defaults(run=run_predict)


def run_predict(args) -> None:
    """``autoreg predict``: predict futures of --video and write them as a GIF."""
    import jax

    from autoreg.atomic import check_writable
    from autoreg.image_io import to_uint8
    from autoreg.video.gif import gif_scale, write_futures_gif
    from autoreg.video.predict import predict_futures

    if args.index < 0:
        raise CLIError(f"--index must be >= 0, got {args.index}")
    if args.method == "nearest":
        reject_options(args, ("temperature",), "is for --method model")
    else:
        reject_options(args, ("train_clips",), "is for --method nearest")
    check_mnist_found("--video", args.video)  # before the model is loaded
    if args.method == "nearest":
        check_mnist_found("--train-clips", database_source(args))
    model = predict_model(args)
    levels = 256 if model is None else model.levels
    out = check_writable(args.out, (".gif",))
    clip = read_clip(args, model, levels)  # (T, H, W, C) in 0..levels-1
    if args.context > len(clip):  # before any training clips are read
        raise CLIError(f"--context {args.context} is more than the clip's {len(clip)} frames")
    steps = args.context + args.frames
    gif_scale(clip.shape[1:], 1 + args.num, 1, steps, args.scale)  # checked before the work
    train_clips = None
    if args.method == "nearest":
        train_clips = read_train_clips(args, model, clip.shape[1:], levels)
    futures = predict_futures(
        model,
        jax.random.key(args.seed),
        clip,
        context=args.context,
        frames=args.frames,
        num=args.num,
        method=args.method,
        train_clips=train_clips,
        temperature=args.temperature or 1.0,
    )
    truth = clip[args.context : steps]
    write_futures_gif(
        out,
        to_uint8(clip[: args.context], levels),
        to_uint8(futures, levels),
        to_uint8(truth, levels) if len(truth) else None,
        scale=args.scale,
        duration_ms=args.duration_ms,
    )
    known = f", beside the true {len(truth)}" if len(truth) else ""
    print(
        f"wrote {args.num} futures of {args.frames} frames after {args.context} observed "
        f"({args.method}{known}) to {out}"
    )


def database_source(args) -> str:
    """The source of the database of --method nearest: --train-clips, else the Moving MNIST
    training split (of --video's MNIST when --video is Moving MNIST)."""
    from autoreg.data.video import MOVING_MNIST, moving_mnist_path

    if args.train_clips is not None:
        return args.train_clips
    return args.video if moving_mnist_path(args.video) else MOVING_MNIST


def check_mnist_found(option: str, source) -> None:
    """Refuse a Moving MNIST ``source`` (the value of ``option``) that names no MNIST, saying
    what to pass: ``moving_mnist:`` with no path, or a bare ``moving_mnist`` where no MNIST is
    found (``autoreg.data.video.find_mnist``).

    Args:
      option: the option's flag, for the message, e.g. ``"--video"``.
      source: its value: a clip, ``moving_mnist[:PATH]``, or None (not given).

    Raises:
      CLIError: Moving MNIST, and no MNIST to make it of.
    """
    from autoreg.data.video import moving_mnist_path

    try:
        moving_mnist_path(source)
    except ValueError as error:
        raise CLIError(f"{option}: {error}") from None


def predict_model(args):
    """The video model of --model (a registry name, or a checkpoint or work directory) or
    --checkpoint; None for --method nearest without either."""
    from autoreg.pretrained import SHIPPED
    from autoreg.registry import MODELS

    name = args.model
    named = name in SHIPPED or name in MODELS
    if name and not args.checkpoint and not named and Path(name).exists():  # a path
        args.model, args.checkpoint = None, name
    if args.model is None and args.checkpoint is None and args.method == "nearest":
        return None
    return resolve_model(args, (VIDEO,))


def read_clip(args, model, levels: int):
    """Clip --index of --video as (T, H, W, C) integers in 0..levels-1: a Moving MNIST test
    sequence of --context + --frames frames at the model's frame size, or a clip as it is."""
    from autoreg.data import load
    from autoreg.data.video import moving_mnist_path

    options = dict(split="train")  # a clip file is one set: read as it is
    if moving_mnist_path(args.video) is not None:
        size = frame_size(model, "--video moving_mnist")
        options = dict(split="test", frames=args.context + args.frames, frame_size=size)
    clips = load(args.video, kind="video", levels=levels, num=args.index + 1, **options)
    if args.index >= len(clips):
        raise CLIError(
            f"--index {args.index}: {args.video} has {len(clips)} clip{'s' * (len(clips) != 1)}"
        )
    return clips.examples[args.index]


def read_train_clips(args, model, frame_shape: tuple, levels: int):
    """The database of --method nearest: --train-clips, or the Moving MNIST training split
    (of --video's MNIST when it is Moving MNIST) at the frame size of the model or the clip."""
    from autoreg.data import load
    from autoreg.data.video import STANDARD_FRAMES, moving_mnist_path

    source = database_source(args)
    options = {}
    if moving_mnist_path(source) is not None:
        height, width, channels = frame_shape
        if height != width or channels != 1:
            raise CLIError(
                f"--video has {height}x{width}x{channels} frames; Moving MNIST's are square and "
                "gray: pass --train-clips"
            )
        frames = max(STANDARD_FRAMES, args.context + args.frames)
        options = dict(frames=frames, frame_size=height)
    return load(source, kind="video", levels=levels, **options).examples


def frame_size(model, what: str) -> int:
    """The side of Moving MNIST frames for ``model`` (64 without one): its square gray frames."""
    if model is None:
        return NEAREST_FRAME_SIZE
    height, width, channels = model.config.image_shape
    if height != width or channels != 1:
        raise CLIError(
            f"{what}: Moving MNIST frames are square and gray; {model.name}'s are "
            f"{height}x{width}x{channels}"
        )
    return height
