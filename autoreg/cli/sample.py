"""``autoreg sample``: draw ancestral samples and write a PNG grid (or WAV files for audio)."""

from __future__ import annotations

from autoreg.cli.common import CLIError, add_model_source, resolve_model


def add_sample_parser(sub):
    """Add the ``sample`` subcommand to the subparsers ``sub``."""
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
        "--features",
        help="locally conditioned models (a vocoder, e.g. --model wavenet_vocoder): a .npy of "
        "(frames, F) or (num, frames, F) log-mel frames; generates frames * hop samples",
    )
    p.add_argument(
        "--out",
        default="samples.png",
        help="output PNG grid (WAV for audio models); default samples.png",
    )
    p.set_defaults(run=run_sample)


def run_sample(args) -> None:
    """``autoreg sample``: draw samples and write a PNG grid or WAV file(s)."""
    import jax
    import numpy as np

    from autoreg.generate import sample
    from autoreg.image_io import check_writable, save_grid

    model = resolve_model(args)
    features = None if args.features is None else load_features(args.features)
    if features is not None and args.num is None:
        args.num = len(features)
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
    length = None  # images: the model's fixed shape
    if model.fixed_shape:
        out = check_writable(args.out)
    else:
        out = check_writable(args.out, (".wav",))
        length = int(round(args.seconds * model.config.sample_rate))
        if features is not None:
            length = features.shape[1] * model.config.hop_length
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
        features=features,
    )
    if model.fixed_shape:
        save_grid(np.asarray(samples), model.levels, out)
    else:
        from autoreg.data import audio

        for i, clip in enumerate(np.asarray(samples)):
            path = out if num == 1 else out.with_name(f"{out.stem}_{i}{out.suffix}")
            audio.write_wav(path, clip, model.config.sample_rate, levels=model.levels)
    print(f"wrote {num} samples to {out}")


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
