"""The devices a batch is split over: the data mesh, each process's rows of a global batch, and
whether a step on that split fits in memory."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from autoreg.errors import TrainingError
from autoreg.memory import check_training
from autoreg.train_config import TrainConfig


def data_mesh(config: TrainConfig, num_examples: int, devices: list | None) -> Mesh:
    """The 1-D ``("data",)`` mesh over ``devices`` (default: all) that each batch is split over.

    Raises:
      TrainingError: a batch larger than the data, or one that does not split over the devices.
    """
    if config.batch_size > num_examples:
        raise TrainingError(
            f"batch size {config.batch_size} is larger than the dataset ({num_examples} examples)"
        )
    devices = devices or jax.devices()
    if config.batch_size % len(devices):
        raise TrainingError(
            f"batch size {config.batch_size} must be divisible by the {len(devices)} devices"
        )
    return Mesh(np.array(devices), ("data",))


def shard_batch(mesh: Mesh, data: np.ndarray, index: np.ndarray, dtype=None) -> jax.Array:
    """The global batch ``data[index]`` split over the mesh's data axis: each process reads
    only the rows that its own devices hold."""
    sharding = NamedSharding(mesh, P("data"))

    def rows(block: tuple) -> np.ndarray:  # the index of one device's block of the batch
        part = data[index[block[0]]]
        return part if dtype is None else part.astype(dtype)

    return jax.make_array_from_callback((len(index), *data.shape[1:]), sharding, rows)


def check_step_memory(model, config: TrainConfig, event_shape: tuple, mesh: Mesh) -> None:
    """Refuse a training step of ``model`` on ``config.batch_size`` examples split over ``mesh``
    that would not fit in this process's memory budget (``autoreg.memory.check_training``).

    CPU devices share the host's memory, so this process's whole part of the batch counts;
    an accelerator holds its own part of the batch and a copy of the state.

    Raises:
      autoreg.errors.MemoryBudgetError: it does not fit; the message names a batch that does.
    """
    devices = list(mesh.devices.flat)
    local = [d for d in devices if d.process_index == jax.process_index()]
    per_device = config.batch_size // len(devices)
    check_training(
        model,
        per_device * len(local),
        tuple(event_shape),
        devices=len(local),
        shared=local[0].platform == "cpu",
        ema=bool(config.ema_decay),
        compute_bytes=jnp.dtype(config.compute_dtype).itemsize,
        device=local[0],
    )
