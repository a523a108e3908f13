"""``autoreg train``: parse the options, load the data, create the model and train it."""

from __future__ import annotations

from autoreg.cli.common import CLIError, modality_options
from autoreg.cli.train_options import (
    CONFIG_OPTIONS,
    add_config_options,
    add_data_options,
    add_model_options,
    check_data_options,
    config_from_args,
    parse_overrides,
)

HELP = "train a model by maximum likelihood with checkpoints"
DESCRIPTION = (
    "Train a model on a dataset. Checkpoints, metrics (metrics.jsonl), sample grids and "
    "TensorBoard event files (WORKDIR/tensorboard: tensorboard --logdir WORKDIR) go to "
    "--workdir, which one run at a time may use; --resume continues a run exactly. Uses every "
    "local device (data parallel) and joins a multi-process run when JAX_COORDINATOR_ADDRESS, "
    "JAX_NUM_PROCESSES and JAX_PROCESS_ID are set (or under SLURM with several tasks); "
    "--batch-size is then the global batch."
)


def add_train_parser(sub):
    """Add the ``train`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser("train", help=HELP, description=DESCRIPTION)
    add_model_options(p)
    add_data_options(p)
    groups = add_config_options(p)
    groups["bookkeeping"].add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)


def run_train(args) -> None:
    """``autoreg train``: train a model on --data, checkpointing to --workdir."""
    from autoreg.registry import create_model, get_spec
    from autoreg.training import maybe_initialize_distributed
    from autoreg.workdir import check_not_in_use

    maybe_initialize_distributed()
    check_data_options(args, get_spec(args.model))
    if args.allow_changed_settings and not args.resume:
        raise CLIError("--allow-changed-settings is for --resume")
    check_not_in_use(args.workdir)  # before the data are read
    config = config_from_args(args)
    train_set, test_set = load_data(args)
    overrides = model_overrides(args, train_set)
    model = create_model(
        args.model, preset=args.preset, levels=train_set.levels, seed=args.seed, **overrides
    )  # check_data_options refused --set of levels and seed
    if model.num_classes and train_set.labels is None:
        raise CLIError(f"--num-classes needs labels, and {args.data} has none")
    if train_or_explain(args, model, train_set, test_set, config):
        print(describe_end(model.name, args.workdir, config))


def describe_end(name: str, workdir, config) -> str:
    """The line ``autoreg train`` ends with: the step reached, and why short of --steps."""
    from autoreg.checkpoint import read_metadata

    step = read_metadata(workdir)["step"]
    if step < config.steps:
        return (
            f"stopped {name} at step {step} of {config.steps} (--time-limit "
            f"{config.time_limit / 60:g} min); checkpoints in {workdir}; --resume continues"
        )
    return f"trained {name} to step {step}; checkpoints in {workdir}"


def load_data(args):
    """(train, test or None) ``Dataset``s of --data for the model family --model."""
    from autoreg.data import load_for_training
    from autoreg.registry import get_spec, make_config

    modality = get_spec(args.model).model_cls.modality
    config = make_config(args.model, args.preset, **parse_overrides(args.set))
    options = modality_options(args, modality, "train_options")
    return load_for_training(
        args.data, config, kind=modality, levels=args.levels, seed=args.seed, **options
    )


def train_or_explain(args, model, train_set, test_set, config) -> bool:
    """``autoreg.train`` with the CLI's options; False when a resumed run already
    reached --steps (said on stdout), a CLIError naming the options when --resume changes
    settings or asks for fewer steps than the run has done."""
    from autoreg.training import ChangedSettings, NothingToTrain, describe_changes, train

    try:
        train(
            model,
            train_set,
            test_set,
            workdir=args.workdir,
            config=config,
            resume=args.resume,
            allow_changed_settings=args.allow_changed_settings,
            progress=not args.no_progress,
        )
    except ChangedSettings as error:
        flags = {field: flag for group in CONFIG_OPTIONS.values() for flag, field, _ in group}
        changes = [(flags[name], saved, new) for name, saved, new in error.changes]
        raise CLIError(
            f"--resume: {args.workdir} was trained with other settings: "
            f"{describe_changes(changes)}; pass --allow-changed-settings to continue with "
            "the new ones"
        ) from None
    except NothingToTrain as error:
        if error.step > error.steps:
            raise CLIError(
                f"--resume: {args.workdir} is already at step {error.step}, past --steps "
                f"{error.steps}: nothing to train (pass a larger --steps to continue)"
            ) from None
        print(f"nothing to train: {args.workdir} is already at step {error.step} = --steps")
        return False
    return True


def model_overrides(args, train_set) -> dict:
    """The model config fields that --set, --num-classes and the data's image shape fix."""
    overrides = parse_overrides(args.set)
    if args.num_classes:
        overrides["num_classes"] = args.num_classes
    if len(train_set.event_shape) == 3:
        overrides["image_shape"] = train_set.event_shape
    if len(train_set.event_shape) == 4:  # video: frames of the data's shape
        overrides["image_shape"] = train_set.event_shape[1:]
        overrides.setdefault("frames", train_set.event_shape[0])  # the length sampled
    if train_set.speaker_names:  # mel windows with speaker ids
        overrides.update(num_classes=len(train_set.speaker_names), speakers=train_set.speaker_names)
    return overrides
