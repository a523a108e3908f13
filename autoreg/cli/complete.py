"""``autoreg complete``: complete occluded images, exactly or by sequential Monte Carlo."""

from __future__ import annotations

from autoreg.cli.common import (
    OCCLUSIONS,
    CLIError,
    add_binarize_option,
    add_model_source,
    add_scale_option,
    add_seed_option,
    binarization,
    positive_int,
    reject_options,
    resolve_model,
)
from autoreg.modalities import IMAGE

DEFAULT_INDEX = [0, 1, 2, 3]  # --data: the examples completed
DEFAULT_PARTICLES = 64  # SMC particles per completion


def add_complete_parser(sub):
    """Add the ``complete`` subcommand to the subparsers ``sub``."""
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
    add_binarize_option(p, evaluating=True)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", nargs="+", help="PNG/JPEG images to complete")
    source.add_argument("--data", help="dataset to take images from (with --index)")
    p.add_argument(
        "--index",
        type=int,
        nargs="+",
        help="with --data: which examples (default 0 1 2 3)",
    )
    p.add_argument(
        "--split",
        choices=["train", "test"],
        help="with --data: which split (default test)",
    )
    p.add_argument("--occlude", default="bottom", help=f"what to hide: {OCCLUSIONS}")
    p.add_argument("--num", type=positive_int, default=4, help="completions per input (default 4)")
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "exact", "smc"],
        help="auto: exact for raster-suffix holes, else smc (default); exact: ancestral "
        "sampling whatever the hole",
    )
    p.add_argument(
        "--particles",
        type=positive_int,
        help=f"SMC particles per completion (default {DEFAULT_PARTICLES})",
    )
    p.add_argument(
        "--resize",
        action="store_true",
        help="resize/convert --image files to the model's size and colour mode",
    )
    p.add_argument("--label", type=int, help="class label for class-conditional models")
    add_seed_option(p)
    add_scale_option(p, "the grid")
    p.add_argument("--out", default="completions.png", help="output PNG grid")
    p.set_defaults(run=run_complete)


def run_complete(args) -> None:
    """``autoreg complete``: complete occluded images and write a grid."""
    import jax
    import numpy as np

    from autoreg.atomic import check_writable
    from autoreg.generate import complete
    from autoreg.image_io import completion_grid, save_picture

    model = resolve_model(args, (IMAGE,))
    out = check_writable(args.out)
    method, observed, scale = check_request(model, args)
    images, labels = completion_inputs(model, args)
    height, width, channels = model.event_shape()
    completions = complete(
        model,
        jax.random.key(args.seed),
        np.repeat(images, args.num, axis=0),
        observed,
        labels=None if labels is None else np.repeat(labels, args.num),
        method=args.method,
        particles=args.particles or DEFAULT_PARTICLES,
    )
    completions = np.asarray(completions).reshape(len(images), args.num, height, width, channels)
    save_picture(completion_grid(images, completions, observed, model.levels), out, scale)
    how = f"SMC, {args.particles or DEFAULT_PARTICLES} particles"
    how = how if method == "smc" else "exact ancestral sampling"
    print(f"wrote {len(images)} x {args.num} completions ({how}) to {out}")


def check_request(model, args):
    """(completion method, (H, W) observed mask, grid upscaling), with every option combination
    and the memory the request needs checked before anything is loaded or computed."""
    from autoreg.generate import completion_method
    from autoreg.image_io import grid_shape, picture_scale
    from autoreg.memory import completion_plan
    from autoreg.occlusion import occlusion_mask

    if args.image:
        reject_options(args, ("index", "split"), "is for --data; --image names the inputs")
    elif args.resize:
        raise CLIError("--resize is for --image files; --data must match the model's size")
    height, width, _ = shape = model.event_shape()
    observed = occlusion_mask(args.occlude, height, width)  # (H, W)
    method = completion_method(model, observed[None, :, :, None], args.method)
    if method != "smc":
        reject_options(args, ("particles",), f"is for SMC; {args.occlude} is completed exactly")
    inputs = len(args.image or args.index or DEFAULT_INDEX)
    completion_plan(model, inputs * args.num, shape, method, args.particles or DEFAULT_PARTICLES)
    columns = args.num + 2  # occluded input, completions, original
    tiles = grid_shape(inputs * columns, (height, width, 3), columns)
    return method, observed, picture_scale(tiles, args.scale)


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
        images = quantise(np.stack(images), model.levels, binarize=binarization(args, model))
        dataset_labels = None
    else:
        split, index = args.split or "test", args.index or DEFAULT_INDEX
        dataset = load_images(
            args.data, split=split, levels=model.levels, binarize=binarization(args, model)
        )
        if dataset.event_shape != shape:
            raise CLIError(
                f"{args.data} has {dataset.event_shape} images, the model expects {shape}"
            )
        bad = [i for i in index if not 0 <= i < len(dataset)]
        if bad:
            raise CLIError(f"--index {bad[0]} is outside 0..{len(dataset) - 1}")
        images = dataset.examples[index]
        dataset_labels = None if dataset.labels is None else dataset.labels[index]
    if not model.num_classes:
        if args.label is not None:
            raise CLIError(f"{model.name} is unconditional: it takes no --label")
        return images, None
    if args.label is not None:
        return images, np.full(len(images), args.label)
    if dataset_labels is None:
        raise CLIError(f"{model.name} is class-conditional: pass --label")
    return images, dataset_labels
