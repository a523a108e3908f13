"""Checks of a checkpoint read from disk, which may be damaged or crafted.

Before any model is built, the config its metadata records must be within the bounds of
``autoreg.models.config_checks``; the model it describes is then built abstractly
(``nnx.eval_shape``: shapes only, nothing allocated) and must have exactly the saved arrays'
shapes (read from orbax's metadata files) and need at most the memory budget
(``autoreg.memory.memory_budget()`` unless a budget is given) for its parameters and one
example's activations. While reading, orbax's JSON files are parsed here
first so that a damaged one is named, a failure inside orbax or TensorStore becomes one line
(``DamagedCheckpointError``), and every array read back is compared with the CRC32 recorded when it
was written and must be finite. Nothing here unpickles or executes anything from the checkpoint.

Before anything reads a checkpoint, ``check_files`` walks it without following links: every
entry must be a plain directory or regular file (no symbolic link, so no read leaves the
checkpoint or reaches a device such as ``/dev/zero``), each metadata file at most
``METADATA_FILE_LIMIT`` bytes and the array data (the files in orbax's ``d/`` folders) at most
what the arrays could need: ``data_limit(arrays)`` when the model is known,
``data_limit_unknown_model()`` before.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import zlib
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from autoreg.distributed import host_copy
from autoreg.errors import DamagedCheckpointError, InputError
from autoreg.memory import format_bytes, forward_bytes, memory_budget
from autoreg.orbax_reports import orbax_reports_dropped

# orbax's JSON files inside an item directory (``array_metadatas`` holds one per process).
ITEM_JSON_FILES = ("_METADATA", "_sharding")
# Bytes of one metadata file (JSON records, TensorStore manifests): orbax's largest, the
# train_state's _METADATA, is about 100 KB for a model of a few hundred arrays.
METADATA_FILE_LIMIT = 8 * 2**20
# Copies of a model's parameters a checkpoint may hold: the exported parameters, the raw ones,
# Adam's two moments and an EMA.
PARAMETER_COPIES = 5
MAX_FILES = 100_000  # entries of one checkpoint directory (a real one has a few dozen)


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (its type's name if it has none)."""
    return str(error).splitlines()[0] if str(error).strip() else type(error).__name__


def shapes_by_name(tree) -> dict:
    """{'a/b/kernel': shape} of every array in ``tree``."""
    return {name: tuple(leaf.shape) for name, leaf in named_leaves(tree)}


def named_leaves(tree) -> list:
    """[(name, leaf)] of ``tree``, each named by its path ('blocks/0/reduce/kernel')."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [("/".join(str(getattr(k, "key", k)) for k in keys), leaf) for keys, leaf in leaves]


def checksums(tree) -> dict:
    """{name: CRC32 of the array's bytes} of every array in ``tree`` (recorded at save)."""
    return {
        name: f"{zlib.crc32(np.ascontiguousarray(host_copy(leaf)).tobytes()):08x}"
        for name, leaf in named_leaves(tree)
    }


def verify_checksums(tree, recorded: dict, where: Path) -> None:
    """A DamagedCheckpointError naming the first array of ``tree`` whose CRC32 differs from
    ``recorded`` (the data at ``where`` changed after it was written)."""
    for name, value in checksums(tree).items():
        if recorded.get(name, value) != value:
            raise DamagedCheckpointError(
                f"{where} is damaged: {name} does not match the checksum recorded when it was "
                "written"
            )


def verify_finite(tree, where: Path) -> None:
    """A DamagedCheckpointError naming the first array of ``tree`` that holds NaN or inf."""
    for name, leaf in named_leaves(tree):
        if not np.isfinite(host_copy(leaf)).all():
            raise DamagedCheckpointError(f"{where}: {name} holds NaN or inf values")


def data_limit(arrays) -> int:
    """Bytes of array data that an orbax item of ``arrays`` (a tree of arrays or
    ShapeDtypeStructs) may take on disk: twice their size (TensorStore's chunks and OCDBT's
    index around them) and 1 MiB."""
    leaves = jax.tree.leaves(arrays)
    return 2 * sum(int(np.prod(a.shape)) * np.dtype(a.dtype).itemsize for a in leaves) + 2**20


def data_limit_unknown_model() -> int:
    """Bytes of array data a checkpoint may hold before its model is known: every copy of the
    parameters of a model within ``autoreg.memory.memory_budget()``."""
    return PARAMETER_COPIES * memory_budget()


def linked(path) -> DamagedCheckpointError:
    """The error for a symbolic link met in a checkpoint."""
    return DamagedCheckpointError(
        f"{path} is a symbolic link; a checkpoint is read only from its own regular files"
    )


def check_files(directory: Path, limit: int | None = None) -> None:
    """Check, before any of it is read, that the checkpoint (or orbax item) ``directory`` holds
    only plain directories and regular files (no symbolic link, device or pipe: every read stays
    inside it), each metadata file within ``METADATA_FILE_LIMIT`` bytes and its array data (the
    files of orbax's ``d/`` folders) within ``limit`` bytes in all (default
    ``data_limit_unknown_model()``). Links are never followed.

    Raises:
      DamagedCheckpointError: naming the first entry that is not as above, or ``directory`` if it is
        missing or holds too much.
    """
    directory = Path(directory)
    if not directory.is_dir():  # itself reached through a link, when a caller names one
        raise DamagedCheckpointError(f"{directory} is missing")
    folders, entries, data = [directory], 0, 0
    while folders:
        with os.scandir(folders.pop()) as scan:
            for entry in scan:
                entries += 1
                if entries > MAX_FILES:
                    raise DamagedCheckpointError(f"{directory} holds over {MAX_FILES} files")
                if entry.is_symlink():
                    raise linked(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                    continue
                if not entry.is_file(follow_symlinks=False):
                    raise DamagedCheckpointError(f"{entry.path} is not a regular file")
                size = entry.stat(follow_symlinks=False).st_size
                if os.path.basename(os.path.dirname(entry.path)) == "d":
                    data += size
                elif size > METADATA_FILE_LIMIT:
                    raise DamagedCheckpointError(
                        f"{entry.path} has {size} bytes, over the {METADATA_FILE_LIMIT >> 20} MiB "
                        "a checkpoint's metadata file may have"
                    )
    limit = data_limit_unknown_model() if limit is None else limit
    if data > limit:
        raise DamagedCheckpointError(
            f"{directory} holds {data} bytes of array data, more than the {limit} bytes that the "
            "arrays it records could need"
        )


def read_json(path: Path):
    """The JSON document in the regular file ``path`` (not a link, at most
    ``METADATA_FILE_LIMIT`` bytes).

    Raises:
      DamagedCheckpointError: naming the file if it is missing, a link, not a regular file, too
        large, or not JSON (nested too deeply included).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise DamagedCheckpointError(f"{path} is missing") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise linked(path) from None
        raise DamagedCheckpointError(f"{path} is damaged ({error.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise DamagedCheckpointError(f"{path} is not a regular file")
        try:
            text = f.read(METADATA_FILE_LIMIT + 1)
        except OSError as error:
            raise DamagedCheckpointError(f"{path} is damaged ({error.strerror})") from None
    if len(text) > METADATA_FILE_LIMIT:
        raise DamagedCheckpointError(
            f"{path} is over the {METADATA_FILE_LIMIT >> 20} MiB a checkpoint's metadata file "
            "may have"
        )
    try:
        return json.loads(text.decode("utf-8"))
    except RecursionError:
        raise DamagedCheckpointError(f"{path} is damaged (nested too deeply)") from None
    except ValueError as error:
        raise DamagedCheckpointError(f"{path} is damaged ({first_line(error)})") from None


def check_item_files(item_dir: Path, limit: int | None = None) -> None:
    """The files of the orbax item directory ``item_dir`` pass ``check_files`` (with a data
    ``limit``) and its JSON files parse; else DamagedCheckpointError naming the first one that does
    not (orbax's own message does not say which file)."""
    if item_dir.is_symlink():
        raise linked(item_dir)
    if not item_dir.is_dir():
        raise DamagedCheckpointError(f"{item_dir} is missing")
    check_files(item_dir, limit)
    if (item_dir / "checkpoint").exists():  # orbax would read it as an old-style msgpack tree
        raise DamagedCheckpointError(
            f"{item_dir / 'checkpoint'} is not part of an autoreg checkpoint"
        )
    per_process = sorted((item_dir / "array_metadatas").glob("process_*"))
    for path in [item_dir / name for name in ITEM_JSON_FILES] + per_process:
        if path.exists():
            read_json(path)


@contextlib.contextmanager
def reading(where: Path):
    """Run an orbax read of ``where``: any failure becomes one DamagedCheckpointError line naming
    ``where`` and TensorStore's reason (not its page of spec), and the reports that the reads
    it abandons print while it runs are dropped (``autoreg.orbax_reports``)."""
    with orbax_reports_dropped():
        try:
            yield
        except DamagedCheckpointError:
            raise
        except Exception as error:  # orbax and TensorStore raise many types for damaged files
            reason = re.sub(r"\s*\[tensorstore_spec.*$", "", first_line(innermost(error)))
            raise DamagedCheckpointError(f"{where} is damaged: {reason}") from None


def innermost(error: BaseException) -> BaseException:
    """The root cause of ``error`` (TensorStore's message names the array and what is wrong;
    orbax's wrapper adds a page of spec)."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return error


def saved_shapes(item_dir: Path) -> dict:
    """{array name: shape} of the arrays in the orbax item ``item_dir``, from its metadata."""
    check_item_files(item_dir)
    with reading(item_dir):
        return shapes_by_name(ocp.StandardCheckpointHandler().metadata(item_dir))


class ShapeOnlyRngs:
    """Stands in for ``nnx.Rngs`` while a model is built under ``nnx.eval_shape``: every key is
    one fixed key. The values are never computed; flax's own key counter, traced, would make
    building a model quadratic in its number of layers."""

    def params(self) -> jax.Array:
        """A key for a parameter initialiser."""
        return jax.random.key(0)


def abstract_model(model_cls, config):
    """``model_cls(config)`` with ``jax.ShapeDtypeStruct`` for every array: nothing allocated."""
    return nnx.eval_shape(lambda: model_cls(config, rngs=ShapeOnlyRngs()))


def check_fits(model, item_dir: Path) -> None:
    """A DamagedCheckpointError naming the first parameter whose saved shape (in ``item_dir``)
    differs from the (abstract) ``model``'s: read from metadata files only."""
    saved = saved_shapes(item_dir)
    wanted = shapes_by_name(nnx.to_pure_dict(nnx.state(model, nnx.Param)))
    for name in sorted(saved.keys() | wanted.keys()):
        if saved.get(name) != wanted.get(name):
            raise DamagedCheckpointError(
                f"{item_dir} does not fit its metadata: {name} has shape {saved.get(name)} "
                f"there but {wanted.get(name)} in the model the metadata describes"
            )


def memory_needed(model) -> int:
    """Bytes that the (abstract) ``model`` needs: its parameters and, for a model of one data
    shape (images, clips), one example's forward pass (``autoreg.memory.forward_bytes``)."""
    params = jax.tree.leaves(nnx.state(model, nnx.Param))
    needed = sum(int(np.prod(p.shape)) * np.dtype(p.dtype).itemsize for p in params)
    shape = model.modality.fixed_example_shape(model)
    if shape is not None:
        needed += forward_bytes(model, int(np.prod(shape)))
    return needed


def check_memory(model, where: Path, budget: int | None = None) -> None:
    """Check that the (abstract) ``model`` fits a memory budget.

    Args:
      model: the model, possibly abstract (``nnx.eval_shape``).
      where: the checkpoint, for the message.
      budget: bytes the model may need; None: ``autoreg.memory.memory_budget()``.

    Raises:
      InputError: the model's parameters and one example's forward pass need more.
    """
    budget = memory_budget() if budget is None else budget
    needed = memory_needed(model)
    if needed > budget:
        raise InputError(
            f"{where} describes a model that needs {format_bytes(needed)} for its parameters "
            f"and one example, over the {format_bytes(budget)} budget"
        )
