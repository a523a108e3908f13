"""``autoreg sample``: draw ancestral samples and write a PNG grid (WAV files for audio, an
animated GIF for video)."""

from __future__ import annotations

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

DEFAULT_SECONDS = 2.0  # audio models: length of a clip
DEFAULT_NUM = {"image": 16, "audio": 1, "video": 4}  # samples drawn by default
DEFAULT_DURATION_MS = 200  # video models: milliseconds per frame of the GIF


def add_sample_parser(sub):
    """Add the ``sample`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "sample",
        help="draw samples and write a PNG grid (a WAV for audio, a GIF for video models)",
        description="Draw exact ancestral samples from a trained model. A request too large "
        "for memory is refused at once; a large one runs in batches with a progress bar.",
    )
    add_model_source(p)
    p.add_argument(
        "--num",
        type=positive_int,
        help="number of samples (default 16 images, 4 video clips side by side, or 1 audio clip)",
    )
    add_seed_option(p)
    p.add_argument(
        "--temperature",
        type=positive_float,
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
        "--seconds",
        type=positive_float,
        help=f"audio models: length in seconds (default {DEFAULT_SECONDS:g})",
    )
    add_scale_option(p, "the image grid (video: each frame)")
    p.add_argument(
        "--duration-ms",
        type=positive_int,
        help=f"video models: milliseconds each frame shows (default {DEFAULT_DURATION_MS})",
    )
    p.add_argument(
        "--features",
        help="locally conditioned models (a vocoder, e.g. --model wavenet_vocoder): a .npy of "
        "(frames, F) or (num, frames, F) log-mel frames; generates frames * hop samples",
    )
    p.add_argument(
        "--out",
        help="output PNG grid (WAV for audio models, GIF for video models); default "
        "samples.png (video: samples.gif)",
    )
    p.set_defaults(run=run_sample)


def run_sample(args) -> None:
    """``autoreg sample``: draw samples and write a PNG grid or WAV file(s)."""
    import jax
    import numpy as np

    from autoreg.atomic import check_writable
    from autoreg.generate import sample

    model = resolve_model(args)
    if args.features is not None and not getattr(model.config, "local_features", 0):
        length = "" if model.fixed_shape else " (pass --seconds for the length)"
        raise CLIError(
            "--features is for locally conditioned models (a vocoder such as wavenet_vocoder); "
            f"{model.name} takes none{length}"
        )
    features = None if args.features is None else load_features(args.features)
    if features is not None and args.num is None:
        args.num = len(features)
    num = args.num if args.num is not None else DEFAULT_NUM[model.kind]
    labels = sample_labels(model, args.label, num)
    if model.kind != "video":
        reject_options(args, ("duration_ms",), f"is for video models; {model.name} is not one")
    if model.kind == "video":
        reject_options(args, ("seconds",), f"is for audio models; {model.name} draws video")
        out = check_writable(args.out or "samples.gif", (".gif",))
        length, scale = None, gif_scale_of(model, num, args.scale, args.method)
    elif model.fixed_shape:
        reject_options(args, ("seconds",), f"is for audio models; {model.name} draws images")
        out = check_writable(args.out or "samples.png")
        length, scale = None, grid_scale(model, num, args.scale, args.method)
    else:
        reject_options(args, ("scale",), f"is for image grids; {model.name} writes WAV files")
        out = check_writable(args.out or "samples.png", (".wav",))
        length, scale = clip_length(args.seconds, model.config.sample_rate), None
        if features is not None:
            reject_options(args, ("seconds",), "is set by --features (frames * hop samples)")
            length = features.shape[1] * model.config.hop_length
    samples = sample(
        model,
        jax.random.key(args.seed),
        num,
        temperature=args.temperature,
        labels=labels,
        method=args.method,
        length=length,
        features=features,
    )
    write_samples(model, np.asarray(samples), out, scale, args.duration_ms)
    print(f"wrote {num} samples to {out}")


def sample_labels(model, labels, num: int):
    """The (num,) labels of the samples: --label cycled, or None for an unconditional model."""
    import numpy as np

    if labels is None and not model.num_classes:
        return None
    if labels is None:
        raise CLIError(
            f"{model.name} is class-conditional: pass --label 0..{model.num_classes - 1}"
        )
    if len(labels) > num:
        raise CLIError(
            f"--label gives {len(labels)} labels for {num} samples; pass --num {len(labels)} "
            "or more (labels cycle over the samples)"
        )
    return np.resize(np.asarray(labels), num)  # cycles through the labels


def grid_scale(model, num: int, scale: int | None, method: str | None) -> int:
    """The upscaling of the grid of ``num`` samples; the memory of the samples and of the
    grid are checked before any work."""
    from autoreg.image_io import grid_shape, picture_scale
    from autoreg.memory import sample_plan

    sample_plan(model, num, model.event_shape(), method)
    return picture_scale(grid_shape(num, model.event_shape()), scale, f"the grid of {num} samples")


def gif_scale_of(model, num: int, scale: int | None, method: str | None) -> int:
    """The upscaling of the frames of ``num`` video samples side by side; the memory of the
    samples and of the GIF are checked before any work."""
    from autoreg.memory import sample_plan
    from autoreg.video.gif import gif_scale

    frames, *frame_shape = model.event_shape()
    sample_plan(model, num, model.event_shape(), method)
    return gif_scale(tuple(frame_shape), 1, num, frames, scale)


def clip_length(seconds: float | None, sample_rate: int) -> int:
    """Samples in a clip of ``seconds`` (default ``DEFAULT_SECONDS``) at ``sample_rate``."""
    seconds = DEFAULT_SECONDS if seconds is None else seconds
    length = round(seconds * sample_rate)
    if length < 1:
        raise CLIError(f"--seconds {seconds:g} is less than one sample at {sample_rate} Hz")
    return length


def write_samples(model, samples, out, scale: int | None, duration_ms: int | None = None) -> None:
    """Write image samples as one PNG grid, video samples as one GIF of the clips side by
    side, audio samples as WAV files (``out``, or ``out_<i>`` for several)."""
    if model.kind == "video":
        from autoreg.video.gif import write_samples_gif

        duration_ms = duration_ms or DEFAULT_DURATION_MS
        write_samples_gif(out, samples, model.levels, scale=scale, duration_ms=duration_ms)
        return
    if model.fixed_shape:
        from autoreg.image_io import save_grid

        save_grid(samples, model.levels, out, scale=scale)
        return
    from autoreg.data import audio

    for i, clip in enumerate(samples):
        path = out if len(samples) == 1 else out.with_name(f"{out.stem}_{i}{out.suffix}")
        audio.write_wav(path, clip, model.config.sample_rate, levels=model.levels)


def load_features(path):
    """(num, frames, F) float features from a .npy of (frames, F) or (num, frames, F)."""
    import numpy as np

    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise CLIError(f"cannot read features {path}: {error}") from None
    if features.ndim == 2:
        features = features[None]
    if features.ndim != 3:
        raise CLIError(
            f"--features must hold (frames, F) or (num, frames, F), got {features.shape}"
        )
    return features
