"""Model checkpoints with orbax-checkpoint: parameters as arrays plus a JSON record of the model.

A checkpoint directory holds two orbax items: ``params`` (the model's ``nnx.Param`` arrays, in
tensorstore format) and ``metadata`` (JSON: format tag, model name, config, a CRC32 of every
array, and any extra fields such as the training step). Nothing is pickled, so loading never
executes code. orbax writes into a temporary directory and renames it when complete, so a
checkpoint is never seen half-written; a save that fails (a full disk) removes that directory and
raises an OSError. A checkpoint may come from anyone: loading checks it
(``autoreg.checkpoint_checks``) before building the model it describes.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import time
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from autoreg.checkpoint_checks import (
    DamagedCheckpointError,
    abstract_model,
    check_files,
    check_fits,
    check_item_files,
    check_memory,
    checksums,
    data_limit,
    first_line,
    innermost,
    read_json,
    reading,
    verify_checksums,
    verify_finite,
)
from autoreg.errors import InputError
from autoreg.models.base import AutoregressiveModel
from autoreg.models.config_io import config_from_dict, config_to_dict
from autoreg.orbax_reports import orbax_reports_dropped
from autoreg.registry import get_spec
from autoreg.registry import model_from_config as _model_from_config

__all__ = [
    "is_checkpoint",
    "load_checkpoint",
    "read_metadata",
    "restore_params",
    "save_checkpoint",
]

FORMAT = "autoreg-checkpoint"
VERSION = 1


def _checkpointer() -> ocp.Checkpointer:
    return ocp.Checkpointer(ocp.CompositeCheckpointHandler())


def model_metadata(model: AutoregressiveModel, extra: dict | None = None) -> dict:
    """The JSON record that lets ``load_checkpoint`` rebuild ``model`` with nothing else."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model.name,
        "config": config_to_dict(model.config),
        **(extra or {}),
    }


def param_tree(model: AutoregressiveModel) -> dict:
    """The model's trainable parameters as a nested dict of arrays."""
    return nnx.to_pure_dict(nnx.state(model, nnx.Param))


def save_checkpoint(
    model: AutoregressiveModel, path, *, extra: dict | None = None, overwrite: bool = False
) -> Path:
    """Write ``model`` (parameters, name and config) to the directory ``path``.

    A checkpoint replaced with ``overwrite`` stays in place until the new one is complete.

    Args:
      model: a registry model.
      path: directory to create; it must not exist unless ``overwrite``.
      extra: JSON-serialisable fields stored beside the config (e.g. the training step).
      overwrite: replace an existing autoreg checkpoint at ``path`` (nothing else).

    Returns:
      The absolute path written.

    Raises:
      InputError: ``path`` exists (without ``overwrite``), or is something other than an
        autoreg checkpoint (a file, a link, another directory), or ``extra`` is not JSON.
      OSError: the checkpoint could not be written (a full disk); nothing is left of it.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> path = autoreg.save_checkpoint(model, "saved_ckpt", extra={"note": "tiny"})
      >>> path.name, path.is_absolute()
      ('saved_ckpt', True)
      >>> autoreg.save_checkpoint(model, "saved_ckpt")
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: .../saved_ckpt already exists (pass overwrite=True to replace it)
      >>> path == autoreg.save_checkpoint(model, "saved_ckpt", overwrite=True)
      True
    """
    path = Path(path).absolute()
    replacing = os.path.lexists(path)
    if replacing and not overwrite:
        raise InputError(f"{path} already exists (pass overwrite=True to replace it)")
    if replacing and not is_replaceable(path):
        raise InputError(
            f"{path} is not an autoreg checkpoint; overwrite=True replaces only a checkpoint "
            "(a real directory with our metadata record), so it is left as it is"
        )
    params = param_tree(model)
    metadata = {**model_metadata(model, extra), "checksums": {"params": checksums(params)}}
    json.dumps(metadata)  # fail before writing anything if extra is not JSON
    written = path.with_name(f".{path.name}.new-{time.time_ns()}") if replacing else path
    try:
        with orbax_reports_dropped(), _checkpointer() as checkpointer:
            checkpointer.save(
                written,
                ocp.args.Composite(
                    params=ocp.args.StandardSave(params),
                    metadata=ocp.args.JsonSave(metadata),
                ),
            )
    except Exception as error:  # orbax and TensorStore raise many types for a failed write
        remove_partial(written, whole=replacing)
        raise save_failure(path, error) from None
    if replacing:
        old = path.with_name(f".{path.name}.old-{time.time_ns()}")
        os.replace(path, old)
        os.replace(written, path)
        shutil.rmtree(old)
    return path


def is_replaceable(path: Path) -> bool:
    """True if ``path`` is a directory (not a link) whose ``metadata/metadata`` is our record."""
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        metadata = read_json(path / "metadata" / "metadata")
    except DamagedCheckpointError:
        return False
    return isinstance(metadata, dict) and metadata.get("format") == FORMAT


def remove_partial(path: Path, whole: bool = False, settle: float = 0.3) -> None:
    """Remove what a failed orbax save of ``path`` left: its temporary directories (and
    ``path`` itself if ``whole``).

    Orbax's and TensorStore's writer threads may still be finishing their files when the save
    has already failed, and can recreate a directory just removed; so the removal repeats
    until nothing has been left for ``settle`` seconds (at most 30 s in all).
    """

    def leftovers() -> list[str]:
        partial = glob.glob(f"{glob.escape(str(path))}.orbax-checkpoint-tmp*")
        return [*partial, *([str(path)] if whole and os.path.lexists(path) else [])]

    deadline = time.monotonic() + 30.0
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        found = leftovers()
        for leftover in found:
            shutil.rmtree(leftover, ignore_errors=True)
        if found:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= settle:
            return
        time.sleep(0.05)


def save_failure(path: Path, error: Exception) -> OSError:
    """The OSError "cannot write the checkpoint PATH: reason" for a failed save of ``path``,
    whatever orbax or TensorStore raised (TensorStore reports a failed write as a ValueError
    with the OS error code in its text)."""
    cause = innermost(error)
    code = getattr(cause, "errno", None)
    found = re.search(r"os_error_code='(\d+)'", str(cause))
    code = code or (int(found[1]) if found else None)
    reason = os.strerror(code) if code else first_line(cause)
    failure = OSError(f"cannot write the checkpoint {path}: {reason}")
    failure.errno = code
    return failure


def latest_in_workdir(path) -> Path:
    """``path`` itself, or for a training work directory its latest complete checkpoint."""
    path = Path(path)
    steps = path / "checkpoints"
    if not is_checkpoint(path) and steps.is_dir():
        done = [p for p in steps.iterdir() if p.name.isdigit() and is_checkpoint(p)]
        if not done:
            raise InputError(f"{path}: training work directory without a complete checkpoint")
        return max(done, key=lambda p: int(p.name))
    return path


def read_metadata(path) -> dict:
    """The JSON record of a checkpoint, read without loading its arrays.

    Args:
      path: a checkpoint directory, or a training work directory (its latest complete
        checkpoint).

    Returns:
      The record: ``format``, ``version``, ``model`` (the registry name), ``config`` (a dict),
      ``checksums``, and the ``extra`` fields it was saved with (training: ``step`` and
      ``train``, the ``TrainConfig``).

    Raises:
      InputError: ``path`` is missing or not an autoreg checkpoint, of another version, or a
        work directory without a complete checkpoint (``DamagedCheckpointError``, a ValueError,
        when its record cannot be read).

    Examples:
      >>> from autoreg.checkpoint import read_metadata
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> _ = autoreg.save_checkpoint(model, "metadata_ckpt", extra={"step": 10})
      >>> record = read_metadata("metadata_ckpt")
      >>> record["model"], record["config"]["image_shape"], record["step"]
      ('pixelcnn', [4, 4, 1], 10)
    """
    path = latest_in_workdir(path)
    if not path.is_dir():
        raise InputError(f"no checkpoint at {path}: not a directory")
    metadata_file = path / "metadata" / "metadata"
    if not os.path.lexists(metadata_file):
        raise InputError(f"{path} is not an autoreg checkpoint (no metadata/metadata file)")
    check_files(path)
    metadata = read_json(metadata_file)
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise InputError(f"{path} is not an autoreg checkpoint (unknown format)")
    if metadata.get("version") != VERSION:
        raise InputError(
            f"{path} has checkpoint version {metadata.get('version')}, expected {VERSION}"
        )
    return metadata


def spec_and_config(metadata: dict, path: Path):
    """(registry entry, config) that ``metadata`` records: checked against the config bounds,
    so a crafted metadata file fails here, before anything is built."""
    try:
        spec = get_spec(metadata["model"])
        return spec, config_from_dict(spec.config_cls, metadata["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"checkpoint {path} records an invalid model: {error}") from None


def restore_items(path: Path, targets: dict, metadata: dict) -> dict:
    """The orbax items of the checkpoint at ``path`` that ``targets`` names, each read into the
    structure (and shardings) of its target tree and checked against the CRC32s in
    ``metadata`` and to be finite. DamagedCheckpointError, naming the damaged file or array, if one
    is not (its files are checked first: no links, at most the bytes its target could need)."""
    for item, target in targets.items():
        check_item_files(path / item, data_limit(target))
    if os.path.lexists(path / "_CHECKPOINT_METADATA"):  # orbax reads it too
        read_json(path / "_CHECKPOINT_METADATA")
    args = {item: ocp.args.StandardRestore(target) for item, target in targets.items()}
    with reading(path / next(iter(targets)) if len(targets) == 1 else path), _checkpointer() as c:
        restored = c.restore(path, ocp.args.Composite(**args))
    recorded = metadata.get("checksums", {})
    for item in targets:
        if item in recorded:
            verify_checksums(restored[item], recorded[item], path / item)
        verify_finite(restored[item], path / item)
    return {item: restored[item] for item in targets}


def restore_params(model: AutoregressiveModel, path, metadata: dict | None = None) -> None:
    """Load the parameters saved at ``path`` into ``model`` (same structure), in place.

    Args:
      model: a model of the saved model's family and config (its parameters are replaced).
      path: a checkpoint directory, or a training work directory (its latest complete
        checkpoint).
      metadata: the checkpoint's record if already read (``read_metadata``).

    Raises:
      InputError: ``path`` is not an autoreg checkpoint, or its arrays do not fit ``model``
        (``DamagedCheckpointError``, a ValueError, when they cannot be read as written).

    Examples:
      >>> from flax import nnx
      >>> from autoreg.checkpoint import restore_params
      >>> tiny = dict(preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> saved = autoreg.create_model("pixelcnn", seed=0, **tiny)
      >>> _ = autoreg.save_checkpoint(saved, "seed0_ckpt")
      >>> model = autoreg.create_model("pixelcnn", seed=1, **tiny)
      >>> def same_params(a, b):
      ...     pairs = zip(*(jax.tree.leaves(nnx.state(m, nnx.Param)) for m in (a, b)))
      ...     return all(np.array_equal(x, y) for x, y in pairs)
      >>> same_params(model, saved)
      False
      >>> restore_params(model, "seed0_ckpt")
      >>> same_params(model, saved)
      True
    """
    path = Path(path).absolute()
    metadata = read_metadata(path) if metadata is None else metadata
    check_fits(model, path / "params")  # a clear message, not one from inside orbax
    # On this process's first device, whatever devices (and processes) saved the checkpoint.
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    target = jax.tree.map(
        lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype, sharding=device), param_tree(model)
    )
    restored = restore_items(path, {"params": target}, metadata)["params"]
    params = nnx.state(model, nnx.Param)
    nnx.replace_by_pure_dict(params, restored)
    nnx.update(model, params)


def load_checkpoint(path, *, memory_budget: int | None = None) -> AutoregressiveModel:
    """Rebuild the model saved at ``path`` by ``save_checkpoint``.

    ``path`` may also be a training work directory: its latest complete checkpoint is loaded.
    The checkpoint may be untrusted: its config must be within the bounds of every config, the
    model it describes (built abstractly first) must fit the saved arrays' shapes and
    ``memory_budget`` bytes (None: ``autoreg.memory.memory_budget()``), and every array must
    match its recorded checksum.

    Args:
      path: a checkpoint directory or a training work directory.
      memory_budget: bytes the model's parameters and one example's forward pass may need.

    Returns:
      The model, its parameters restored.

    Raises:
      InputError: ``path`` is missing, not an autoreg checkpoint, damaged, or describes a model
        out of bounds (``DamagedCheckpointError`` when its files cannot be read as written).
      autoreg.errors.MemoryBudgetError: (a ValueError) the model it describes would not fit
        in ``memory_budget`` bytes.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> _ = autoreg.save_checkpoint(model, "loaded_ckpt")
      >>> loaded = autoreg.load_checkpoint("loaded_ckpt")
      >>> loaded.name, loaded.config == model.config
      ('pixelcnn', True)
      >>> autoreg.load_checkpoint("no_such_ckpt")
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: no checkpoint at .../no_such_ckpt: not a directory
    """
    path = latest_in_workdir(path).absolute()
    metadata = read_metadata(path)
    spec, config = spec_and_config(metadata, path)
    abstract = abstract_model(spec.model_cls, config)
    check_fits(abstract, path / "params")  # from metadata files, before building anything
    check_memory(abstract, path, memory_budget)
    model = _model_from_config(spec.name, config)
    restore_params(model, path, metadata)
    return model


def is_checkpoint(path) -> bool:
    """Whether ``path`` looks like an autoreg checkpoint directory (a cheap test of its files).

    Args:
      path: any path.

    Returns:
      True if ``path/metadata/metadata`` is a file; ``read_metadata`` checks the rest.

    Examples:
      >>> from autoreg.checkpoint import is_checkpoint
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> is_checkpoint(autoreg.save_checkpoint(model, "checked_ckpt")), is_checkpoint(".")
      (True, False)
    """
    return os.path.isfile(os.path.join(path, "metadata", "metadata"))
