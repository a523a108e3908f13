"""``autoreg vocode``: audio (or a mel .npy) -> log-mel -> WaveNet vocoder or Griffin-Lim -> WAV."""

from __future__ import annotations

from autoreg.cli.common import CLIError, add_seed_option, positive_float, reject_options


def add_vocode_parser(sub):
    """Add the ``vocode`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "vocode",
        help="resynthesise speech from its log-mel spectrogram (WaveNet vocoder or Griffin-Lim)",
        description="Compute the log-mel spectrogram of --audio with the vocoder's own analysis "
        "(or read --mel), then synthesise audio from it with the mel-conditioned WaveNet "
        "(default: the shipped wavenet_vocoder) or with Griffin-Lim.",
    )
    source = p.add_argument_group("input (one of)")
    source.add_argument("--audio", help="audio file (WAV/FLAC/Ogg; resampled to the model's rate)")
    source.add_argument("--mel", help="precomputed (frames, n_mels) log-mel spectrogram, .npy")
    group = p.add_argument_group("model")
    group.add_argument(
        "--model", help="shipped vocoder name (default wavenet_vocoder without --checkpoint)"
    )
    group.add_argument("--checkpoint", help="checkpoint directory of a mel-conditioned wavenet")
    p.add_argument("--speaker", help="speaker name or id, for a speaker-conditioned vocoder")
    p.add_argument(
        "--method",
        choices=["wavenet", "griffin-lim"],
        default="wavenet",
        help="wavenet: sample from the neural vocoder (default); griffin-lim: the classical "
        "baseline from the same mel",
    )
    add_seed_option(p, "seed of the sampling, or of Griffin-Lim's initial phases")
    p.add_argument(
        "--temperature",
        type=positive_float,
        help="--method wavenet: divide the logits by this (default 1)",
    )
    p.add_argument("--out", required=True, help="output WAV file")
    p.add_argument(
        "--spectrogram",
        metavar="PNG",
        help="also write the spectrograms of the input and of the output, one above the other",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_vocode)


def run_vocode(args) -> None:
    """``autoreg vocode``: write the resynthesis of --audio or --mel to --out."""
    from autoreg.cli.common import resolve_model
    from autoreg.image_io import check_writable
    from autoreg.vocode import vocode_file

    if (args.audio is None) == (args.mel is None):
        raise CLIError("pass exactly one of --audio FILE or --mel FILE.npy")
    if args.method == "griffin-lim":
        why = "is for --method wavenet; griffin-lim does not sample logits"
        reject_options(args, ("temperature",), why)
    out = check_writable(args.out, (".wav",))
    spectrogram = args.spectrogram and check_writable(args.spectrogram, (".png",))
    if not args.checkpoint and not args.model:
        args.model = "wavenet_vocoder"
    model = resolve_model(args)
    path = vocode_file(
        model,
        out,
        audio=args.audio,
        mel=args.mel,
        method=args.method,
        speaker=args.speaker,
        seed=args.seed,
        temperature=1.0 if args.temperature is None else args.temperature,
        progress=not args.no_progress,
        spectrogram=spectrogram,
    )
    print(f"wrote {path} ({args.method})")
    if spectrogram:
        print(f"wrote the spectrograms of the input and the output to {spectrogram}")
