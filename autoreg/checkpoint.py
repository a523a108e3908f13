"""Model checkpoints with orbax-checkpoint: parameters as arrays plus a JSON record of the model.

A checkpoint directory holds two orbax items: ``params`` (the model's ``nnx.Param`` arrays, in
tensorstore format) and ``metadata`` (JSON: format tag, model name, config, a CRC32 of every
array, and any extra fields such as the training step). Nothing is pickled, so loading never
executes code. orbax writes into a temporary directory and renames it when complete, so a
checkpoint is never seen half-written. A checkpoint may come from anyone: loading checks it
(``autoreg.checkpoint_checks``) before building the model it describes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from autoreg.checkpoint_checks import (
    MEMORY_BUDGET,
    abstract_model,
    check_fits,
    check_item_files,
    check_memory,
    checksums,
    read_json,
    reading,
    verify_checksums,
)
from autoreg.models.base import AutoregressiveModel, config_from_dict, config_to_dict
from autoreg.registry import get_spec
from autoreg.registry import model_from_config as _model_from_config

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

    Args:
      model: a registry model.
      path: directory to create; it must not exist unless ``overwrite``.
      extra: JSON-serialisable fields stored beside the config (e.g. the training step).
      overwrite: replace an existing checkpoint at ``path``.

    Returns:
      The absolute path written.
    """
    path = Path(path).absolute()
    if path.exists() and not overwrite:
        raise ValueError(f"{path} already exists (pass overwrite=True to replace it)")
    params = param_tree(model)
    metadata = {**model_metadata(model, extra), "checksums": {"params": checksums(params)}}
    json.dumps(metadata)  # fail before writing anything if extra is not JSON
    with _checkpointer() as checkpointer:
        checkpointer.save(
            path,
            ocp.args.Composite(
                params=ocp.args.StandardSave(params),
                metadata=ocp.args.JsonSave(metadata),
            ),
            force=overwrite,
        )
    return path


def latest_in_workdir(path) -> Path:
    """``path`` itself, or for a training work directory its latest complete checkpoint."""
    path = Path(path)
    steps = path / "checkpoints"
    if not is_checkpoint(path) and steps.is_dir():
        done = [p for p in steps.iterdir() if p.name.isdigit() and is_checkpoint(p)]
        if not done:
            raise ValueError(f"{path}: training work directory without a complete checkpoint")
        return max(done, key=lambda p: int(p.name))
    return path


def read_metadata(path) -> dict:
    """The JSON record of the checkpoint at ``path``; ValueError if it is not one of ours."""
    path = latest_in_workdir(path)
    if not path.is_dir():
        raise ValueError(f"no checkpoint at {path}: not a directory")
    metadata_file = path / "metadata" / "metadata"
    if not metadata_file.is_file():
        raise ValueError(f"{path} is not an autoreg checkpoint (no metadata/metadata file)")
    metadata = read_json(metadata_file)
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not an autoreg checkpoint (unknown format)")
    if metadata.get("version") != VERSION:
        raise ValueError(
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
        raise ValueError(f"checkpoint {path} records an invalid model: {error}") from None


def model_from_metadata(metadata: dict) -> AutoregressiveModel:
    """A freshly initialised model with the name and config recorded in ``metadata``."""
    spec = get_spec(metadata["model"])
    config = config_from_dict(spec.config_cls, metadata["config"])
    return _model_from_config(spec.name, config)


def restore_items(path: Path, targets: dict, metadata: dict) -> dict:
    """The orbax items of the checkpoint at ``path`` that ``targets`` names, each read into the
    structure (and shardings) of its target tree and checked against the CRC32s in
    ``metadata``. CheckpointDamaged, naming the damaged file or array, if one cannot be."""
    for item in targets:
        check_item_files(path / item)
    args = {item: ocp.args.StandardRestore(target) for item, target in targets.items()}
    with reading(path / next(iter(targets)) if len(targets) == 1 else path), _checkpointer() as c:
        restored = c.restore(path, ocp.args.Composite(**args))
    recorded = metadata.get("checksums", {})
    for item in targets:
        if item in recorded:
            verify_checksums(restored[item], recorded[item], path / item)
    return {item: restored[item] for item in targets}


def restore_params(model: AutoregressiveModel, path, metadata: dict | None = None) -> None:
    """Load the parameters saved at ``path`` into ``model`` (same structure), in place."""
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


def load_checkpoint(path, *, memory_budget: int = MEMORY_BUDGET) -> AutoregressiveModel:
    """Rebuild the model saved at ``path`` by ``save_checkpoint``.

    ``path`` may also be a training work directory: its latest complete checkpoint is loaded.
    The checkpoint may be untrusted: its config must be within the bounds of every config, the
    model it describes (built abstractly first) must fit the saved arrays' shapes and
    ``memory_budget`` bytes, and every array must match its recorded checksum.

    Raises:
      ValueError: ``path`` is missing, not an autoreg checkpoint, damaged, or describes a model
        out of bounds (``CheckpointDamaged`` when its files cannot be read as written).
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
    """True if ``path`` looks like an autoreg checkpoint directory."""
    return os.path.isfile(os.path.join(path, "metadata", "metadata"))
