"""``autoreg complete``: complete occluded images, exactly or by sequential Monte Carlo."""

from __future__ import annotations

from autoreg.cli.common import CLIError, add_model_source, resolve_model


def add_complete_parser(sub):
    """Add the ``complete`` subcommand to the subparsers ``sub``."""
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
        help="auto: exact for raster-suffix holes, else smc (default); exact: ancestral "
        "sampling whatever the hole",
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


def run_complete(args) -> None:
    """``autoreg complete``: complete occluded images and write a grid."""
    import jax
    import numpy as np

    from autoreg.generate import complete, completion_method
    from autoreg.image_io import check_writable, make_grid, save_png, to_rgb
    from autoreg.occlusion import occlusion_mask

    model = resolve_model(args)
    if not model.fixed_shape:
        raise CLIError(f"{model.name} is an audio model; complete works on images")
    out = check_writable(args.out)
    if args.num < 1 or args.particles < 1:
        raise CLIError("--num and --particles must be positive")
    images, labels = completion_inputs(model, args)
    height, width, _ = model.event_shape()
    observed = occlusion_mask(args.occlude, height, width)  # (H, W)
    x = np.repeat(images, args.num, axis=0)
    repeated_labels = None if labels is None else np.repeat(labels, args.num)
    completions = complete(
        model,
        jax.random.key(args.seed),
        x,
        observed,
        labels=repeated_labels,
        method=args.method,
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
    method = completion_method(model, observed[None, :, :, None], args.method)
    exact = "exact ancestral sampling" if method != "smc" else f"SMC, {args.particles} particles"
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
