"""Several processes training one model: joining the job, and what the processes agree on.

A one-process run goes through the same functions, each of which then reduces to the obvious
(``agree(flag)`` is ``flag``). Every process runs the same program on its own copy of the data;
process 0 (``is_primary``) alone writes metrics, sample grids and the work-directory lock, and
orbax writes each checkpoint once from all of them.
"""

from __future__ import annotations

import math
import os
import socket
import time

import jax
import numpy as np

from autoreg.errors import InputError

TIMEOUT_ENV = "AUTOREG_COORDINATOR_TIMEOUT"  # seconds to wait for the coordinator
DEFAULT_TIMEOUT = 300  # seconds, when TIMEOUT_ENV is unset (JAX's own default)


class DistributedSetupError(InputError):
    """The environment asks for a multi-process run but does not describe one, or the run's
    coordinator cannot be reached."""


def maybe_initialize_distributed() -> None:
    """Join a multi-process run when the environment describes one.

    ``JAX_COORDINATOR_ADDRESS`` (host:port of process 0), ``JAX_NUM_PROCESSES`` and
    ``JAX_PROCESS_ID`` describe it explicitly; under SLURM with more than one task
    ``jax.distributed`` reads all three from SLURM's variables. CPU processes exchange
    gradients through gloo. Must run before anything touches a JAX device.

    Every process waits at most ``$AUTOREG_COORDINATOR_TIMEOUT`` seconds (default 300) for the
    others to join; a process other than process 0 first waits that long for the coordinator
    address to accept connections, and gives up with a ``DistributedSetupError`` naming it
    (JAX itself would abort the process).

    Raises:
      DistributedSetupError: (a ValueError) an incomplete description, a bad timeout, or a
        coordinator that does not appear within the timeout.

    Examples:
      >>> from autoreg.training import maybe_initialize_distributed
      >>> maybe_initialize_distributed()  # no multi-process run described: nothing to do
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
    timeout = coordinator_timeout()
    address = os.environ.get("JAX_COORDINATOR_ADDRESS")
    if address and index:
        wait_for_coordinator(address, timeout)
    jax.distributed.initialize(
        num_processes=count, process_id=index, initialization_timeout=math.ceil(timeout)
    )


def coordinator_timeout() -> float:
    """Seconds to wait for the coordinator and the other processes: ``$AUTOREG_COORDINATOR_TIMEOUT``
    (default ``DEFAULT_TIMEOUT``).

    Raises:
      DistributedSetupError: a value that is not a positive number.
    """
    text = os.environ.get(TIMEOUT_ENV)
    if text is None:
        return float(DEFAULT_TIMEOUT)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise DistributedSetupError(
            f"{TIMEOUT_ENV} must be a positive number of seconds, got {text!r}"
        )
    return value


def wait_for_coordinator(address: str, timeout: float) -> None:
    """Return once ``address`` (host:port) accepts a TCP connection.

    Raises:
      DistributedSetupError: it does not within ``timeout`` seconds, or is not host:port.
    """
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise DistributedSetupError(f"JAX_COORDINATOR_ADDRESS must be host:port, got {address!r}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
                return
        except OSError:
            if time.monotonic() >= deadline:
                break
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    raise DistributedSetupError(
        f"no coordinator at {address} after {timeout:g} s ({TIMEOUT_ENV}): start process 0 "
        "there, or check JAX_COORDINATOR_ADDRESS"
    )


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


def every_process(values: tuple) -> np.ndarray:
    """(processes, len(values)) int32: each process's ``values`` (a collective)."""
    values = np.asarray(values, np.int32)
    if jax.process_count() == 1:
        return values[None]
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(values)).reshape(-1, len(values))


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
