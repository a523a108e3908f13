"""Several processes training one model: joining the job, and what the processes agree on.

A one-process run goes through the same functions, each of which then reduces to the obvious
(``agree(flag)`` is ``flag``). Every process runs the same program on its own copy of the data;
process 0 (``is_primary``) alone writes metrics, sample grids and the work-directory lock, and
orbax writes each checkpoint once from all of them.
"""

from __future__ import annotations

import os

import jax
import numpy as np


class DistributedSetupError(ValueError):
    """The environment asks for a multi-process run but does not describe one."""


def maybe_initialize_distributed() -> None:
    """Join a multi-process run when the environment describes one.

    ``JAX_COORDINATOR_ADDRESS`` (host:port of process 0), ``JAX_NUM_PROCESSES`` and
    ``JAX_PROCESS_ID`` describe it explicitly; under SLURM with more than one task
    ``jax.distributed`` reads all three from SLURM's variables. CPU processes exchange
    gradients through gloo. Must run before anything touches a JAX device.
    """
    explicit = os.environ.get("JAX_COORDINATOR_ADDRESS") or os.environ.get("JAX_NUM_PROCESSES")
    slurm = int_from_env("SLURM_NTASKS", default=1) > 1 and "SLURM_PROCID" in os.environ
    if not (explicit or slurm):
        return
    if getattr(jax.config, "jax_cpu_collectives_implementation", "gloo") is None:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")  # older JAX: no default
    count = int_from_env("JAX_NUM_PROCESSES")
    index = int_from_env("JAX_PROCESS_ID")
    if explicit and not slurm and (count is None or index is None):
        raise DistributedSetupError(
            "JAX_COORDINATOR_ADDRESS or JAX_NUM_PROCESSES is set: set all of "
            "JAX_COORDINATOR_ADDRESS (host:port of process 0), JAX_NUM_PROCESSES and JAX_PROCESS_ID"
        )
    jax.distributed.initialize(num_processes=count, process_id=index)


def int_from_env(name: str, default: int | None = None) -> int | None:
    """The integer in environment variable ``name`` (``default`` when unset)."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise DistributedSetupError(f"{name} must be an integer, got {value!r}") from None


def is_primary() -> bool:
    """True in process 0, the one that writes metrics, samples and the lock."""
    return jax.process_index() == 0


def agree(flag: bool) -> bool:
    """True when ``flag`` is true in every process (a collective: all processes must call it)."""
    if jax.process_count() == 1:
        return flag
    from jax.experimental import multihost_utils

    return bool(np.all(multihost_utils.process_allgather(np.asarray(flag, np.int32))))


def from_primary(value: int) -> int:
    """Process 0's ``value`` in every process (a collective)."""
    if jax.process_count() == 1:
        return value
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.asarray(value, np.int32)))


def barrier(name: str) -> None:
    """Wait until every process reaches the barrier ``name``."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def host_copy(array) -> np.ndarray:
    """A numpy copy of a replicated (or process-local) array, also one that spans processes."""
    if isinstance(array, jax.Array) and not array.is_fully_addressable:
        array = array.addressable_data(0)
    return np.asarray(array)


def local_copy(tree):
    """``tree`` with each replicated array replaced by this process's own copy of it: what
    evaluation, sampling and the caller's model use without the other processes."""

    def local(array):
        if isinstance(array, jax.Array) and len(array.sharding.device_set) > 1:
            return array.addressable_data(0)
        return array

    return jax.tree.map(local, tree)
