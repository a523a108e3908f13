"""Model checkpoints with orbax-checkpoint: parameters as arrays plus a JSON record of the model.

A checkpoint directory holds two orbax items: ``params`` (the model's ``nnx.Param`` arrays, in
tensorstore format) and ``metadata`` (JSON: format tag, model name, config, and any extra
fields such as the training step). Nothing is pickled, so loading never executes code. orbax
writes into a temporary directory and renames it when complete, so a checkpoint is never seen
half-written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

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
    metadata = model_metadata(model, extra)
    json.dumps(metadata)  # fail before writing anything if extra is not JSON
    with _checkpointer() as checkpointer:
        checkpointer.save(
            path,
            ocp.args.Composite(
                params=ocp.args.StandardSave(param_tree(model)),
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
    try:
        metadata = json.loads(metadata_file.read_text())
    except (OSError, ValueError):
        raise ValueError(f"{path} is not an autoreg checkpoint (no readable metadata)") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not an autoreg checkpoint (unknown format)")
    if metadata.get("version") != VERSION:
        raise ValueError(
            f"{path} has checkpoint version {metadata.get('version')}, expected {VERSION}"
        )
    return metadata


def model_from_metadata(metadata: dict) -> AutoregressiveModel:
    """A freshly initialised model with the name and config recorded in ``metadata``."""
    spec = get_spec(metadata["model"])
    config = config_from_dict(spec.config_cls, metadata["config"])
    return _model_from_config(spec.name, config)


def saved_shapes(path: Path) -> dict:
    """{parameter path: shape} of the ``params`` item of the checkpoint at ``path``."""
    tree = ocp.StandardCheckpointHandler().metadata(path / "params")
    return shapes_by_name(tree)


def shapes_by_name(tree) -> dict:
    """{'a/b/kernel': shape} of every array in ``tree``."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {
        "/".join(str(getattr(k, "key", k)) for k in keys): tuple(leaf.shape)
        for keys, leaf in leaves
    }


def check_fits(model: AutoregressiveModel, path: Path) -> None:
    """A ValueError naming the first parameter whose saved shape differs from ``model``'s.

    Checked before restoring, so a checkpoint that does not fit its recorded config fails with
    a clear message instead of inside orbax's restore.
    """
    fail = f"could not read the parameters of checkpoint {path}"
    try:
        saved = saved_shapes(path)
    except Exception as error:  # orbax raises many types for damaged files
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{fail}: {message}") from None
    wanted = shapes_by_name(param_tree(model))
    for name in sorted(saved.keys() | wanted.keys()):
        if saved.get(name) != wanted.get(name):
            raise ValueError(
                f"{fail}: {name} has shape {saved.get(name)} there but {wanted.get(name)} in "
                "the model its metadata describes"
            )


def restore_params(model: AutoregressiveModel, path) -> None:
    """Load the parameters saved at ``path`` into ``model`` (same structure), in place."""
    path = Path(path).absolute()
    check_fits(model, path)
    target = jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype), param_tree(model))
    try:
        with _checkpointer() as checkpointer:
            restored = checkpointer.restore(
                path, ocp.args.Composite(params=ocp.args.StandardRestore(target))
            )["params"]
    except Exception as error:  # orbax raises many types for damaged files
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"could not read the parameters of checkpoint {path}: {message}") from None
    params = nnx.state(model, nnx.Param)
    nnx.replace_by_pure_dict(params, restored)
    nnx.update(model, params)


def load_checkpoint(path) -> AutoregressiveModel:
    """Rebuild the model saved at ``path`` by ``save_checkpoint``.

    ``path`` may also be a training work directory: its latest complete checkpoint is loaded.

    Raises:
      ValueError: ``path`` is missing, not an autoreg checkpoint, or damaged.
    """
    path = latest_in_workdir(path)
    metadata = read_metadata(path)
    try:
        model = model_from_metadata(metadata)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"checkpoint {path} records an invalid model: {error}") from None
    restore_params(model, path)
    return model


def is_checkpoint(path) -> bool:
    """True if ``path`` looks like an autoreg checkpoint directory."""
    return os.path.isfile(os.path.join(path, "metadata", "metadata"))
