"""``autoreg texture``: texture synthesis by Efros-Leung or a small PixelCNN."""

from __future__ import annotations

import os

from autoreg.cli.common import (
    CLIError,
    add_scale_option,
    add_seed_option,
    given,
    load_model,
    positive_int,
    reject_options,
)
from autoreg.modalities import IMAGE

TRAINING_OPTIONS = ("steps", "patch_size", "save_model")  # pixelcnn without --checkpoint


def add_texture_parser(sub):
    """Add the ``texture`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "texture",
        help="synthesise a texture from one example image",
        description="Texture synthesis two ways: efros-leung (non-parametric sampling, Efros & "
        "Leung 1999) or pixelcnn (train a small Gated PixelCNN on random patches of --image, "
        "or load a trained one with --checkpoint, then sample a canvas larger than the "
        "patches). Options of the other method are refused, not ignored.",
    )
    p.add_argument("--image", help="example texture (PNG/JPEG); not with --checkpoint")
    p.add_argument(
        "--size", type=positive_int, default=96, help="output side in pixels (default 96)"
    )
    p.add_argument(
        "--method",
        choices=["efros-leung", "pixelcnn"],
        help="synthesis method (default efros-leung; pixelcnn with --checkpoint)",
    )
    p.add_argument(
        "--source-size",
        type=positive_int,
        help="downscale the example so its longer side is at most this (default 128)",
    )
    p.add_argument("--window", type=positive_int, help="efros-leung: neighbourhood (11)")
    p.add_argument("--steps", type=positive_int, help="pixelcnn: training steps (1500)")
    p.add_argument(
        "--patch-size", type=positive_int, help="pixelcnn: training patch side (default 32)"
    )
    p.add_argument("--checkpoint", help="pixelcnn: sample this trained texture model")
    p.add_argument("--save-model", help="pixelcnn: save the trained texture model here")
    add_seed_option(p)
    add_scale_option(p, "the texture")
    p.add_argument("--out", default="texture.png", help="output PNG")
    p.set_defaults(run=run_texture)


def run_texture(args) -> None:
    """``autoreg texture``: synthesise a texture from one example image."""
    import time

    from autoreg.atomic import check_writable
    from autoreg.data.images import read_image
    from autoreg.image_io import picture_scale, save_picture

    method = texture_method(args)
    out = check_writable(args.out)
    if args.save_model:
        check_save_model(args.save_model)
    model = load_model(args.checkpoint, (IMAGE,), "texture") if args.checkpoint else None
    source = None if model else read_image(args.image)
    channels = model.config.image_shape[2] if model else source.shape[2]
    scale = picture_scale((args.size, args.size, channels), args.scale, "the texture")
    start = time.perf_counter()
    if method == "efros-leung":
        from autoreg.texture import efros_leung

        options = given(args, "window", "source_size")
        texture = efros_leung(source, args.size, seed=args.seed, **options)
    else:
        texture = pixelcnn_texture(args, model, source)
    save_picture(texture, out, scale)
    print(
        f"wrote a {args.size}x{args.size} {method} texture to {out} "
        f"({time.perf_counter() - start:.1f} s)"
    )


def texture_method(args) -> str:
    """The method --method or --checkpoint asks for, once no option of another is given."""
    method = args.method or ("pixelcnn" if args.checkpoint else "efros-leung")
    if method == "efros-leung":
        reject_options(args, ("checkpoint", *TRAINING_OPTIONS), "is for --method pixelcnn")
    else:
        reject_options(args, ("window",), "is for --method efros-leung")
    if args.checkpoint:
        why = "is for training a texture model; --checkpoint loads a trained one"
        reject_options(args, ("image", "source_size", *TRAINING_OPTIONS), why)
    elif not args.image:
        raise CLIError("pass --image (an example texture) or --checkpoint (a texture model)")
    return method


def check_save_model(path) -> None:
    """Refuse a --save-model that would fail after training or replace something else."""
    from autoreg.atomic import check_folder_writable
    from autoreg.checkpoint import is_checkpoint

    if os.path.exists(path) and not is_checkpoint(path):
        raise CLIError(f"--save-model {path} exists and is not a checkpoint; name a new folder")
    check_folder_writable(path)


def pixelcnn_texture(args, model, source):
    """Sample the texture from ``model``, or from one trained on ``source`` first (the size
    is checked before the training)."""
    from autoreg.checkpoint import save_checkpoint
    from autoreg.texture import check_texture_request, pixelcnn_texture, train_texture_model

    if model is None:
        check_texture_request(args.size, source.shape[2], **given(args, "patch_size"))
        options = given(args, "patch_size", "steps", "source_size")
        model = train_texture_model(source, seed=args.seed, name=args.image, **options)
        if args.save_model:
            save_checkpoint(model, args.save_model, overwrite=True)
    return pixelcnn_texture(model, args.size, seed=args.seed)
