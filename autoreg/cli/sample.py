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
    reject_other_modalities,
    resolve_model,
)
from autoreg.modalities.audio import DEFAULT_SECONDS

DEFAULT_DURATION_MS = 200  # video models: milliseconds per frame of the GIF (video.gif's)


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
    """``autoreg sample``: draw samples and write them as the model's modality writes them (a
    PNG grid, WAV files, a GIF)."""
    import jax
    import numpy as np

    from autoreg.atomic import check_writable
    from autoreg.generate import sample
    from autoreg.memory import sample_plan

    model = resolve_model(args)
    modality = model.modality
    if args.features is not None and not getattr(model.config, "local_features", 0):
        length_hint = (
            " (pass --seconds for the length)" if "seconds" in modality.sample_options else ""
        )
        raise CLIError(
            "--features is for locally conditioned models (a vocoder such as wavenet_vocoder); "
            f"{model.name} takes none{length_hint}"
        )
    reject_other_modalities(args, model.name, modality, "sample_options")
    features = None if args.features is None else load_features(args.features)
    if features is not None:
        reject_options(args, ("seconds",), "is set by --features (frames * hop samples)")
    num = args.num or (len(features) if features is not None else modality.default_samples)
    labels = sample_labels(model, args.label, num)
    out = check_writable(args.out or modality.sample_file, modality.sample_suffixes)
    length = None if features is not None else modality.sample_length(model, args.seconds)
    sample_plan(model, num, modality.sample_shape(model, length, features), args.method)
    scale = modality.picture_scale(model, num, args.scale)
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
    modality.write_samples(model, np.asarray(samples), out, scale, args.duration_ms)
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
