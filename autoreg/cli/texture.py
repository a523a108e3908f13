"""``autoreg texture``: texture synthesis by Efros-Leung or a small PixelCNN."""

from __future__ import annotations


def add_texture_parser(sub):
    """Add the ``texture`` subcommand to the subparsers ``sub``."""
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


def run_texture(args) -> None:
    """``autoreg texture``: synthesise a texture from one example image."""
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
        from autoreg.texture import pixelcnn_texture, train_texture_model

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
