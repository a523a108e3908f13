"""Timing helpers shared by the benchmark scripts (compile time reported separately)."""

from __future__ import annotations

import time

import jax
import numpy as np


def block(tree):
    """Wait for every array in ``tree`` (JAX dispatch is asynchronous)."""
    return jax.block_until_ready(tree)


def timed(fn, *args, repeats: int = 3) -> tuple[float, float]:
    """(first-call seconds including compile, best of ``repeats`` later calls)."""
    start = time.perf_counter()
    block(fn(*args))
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        block(fn(*args))
        best = min(best, time.perf_counter() - start)
    return first, best


def best_times(fns: dict, repeats: int) -> dict:
    """Seconds of the fastest of ``repeats`` calls of each function, after one warm-up call
    each; the functions take turns, so a burst of load elsewhere hits them alike."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def device_description() -> str:
    """e.g. 'cpu x1 (2 cores)' or 'gpu x1 (NVIDIA H200)'."""
    import os

    devices = jax.devices()
    kind = devices[0].device_kind if devices[0].platform != "cpu" else f"{os.cpu_count()} cores"
    return f"{devices[0].platform} x{len(devices)} ({kind})"


def train_throughput(
    model, batch_size: int, image_steps: int = 5, compute_dtype: str = "float32"
) -> tuple[float, float]:
    """(compile seconds, images/s) of the training step (forward + backward + Adam) at
    ``batch_size`` on random data, computing in ``compute_dtype`` ("float32" or "bfloat16")."""
    from flax import nnx

    from autoreg.training import TrainConfig, make_optimizer, make_train_step

    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    params = jax.tree.map(jax.numpy.copy, params)  # the step donates its inputs
    optimizer = make_optimizer(TrainConfig(steps=1000))
    opt_state = optimizer.init(params)
    step = make_train_step(graphdef, rest, optimizer, len(model.event_shape()), 0.0, compute_dtype)
    rng = np.random.default_rng(0)
    x = rng.integers(0, model.levels, size=(batch_size, *model.event_shape())).astype(np.int32)
    labels = rng.integers(0, model.num_classes, batch_size) if model.num_classes else None
    start = time.perf_counter()
    params, opt_state, _, loss = block(step(params, opt_state, None, x, labels))
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(image_steps):
        params, opt_state, _, loss = step(params, opt_state, None, x, labels)
    block(loss)
    return compile_seconds, image_steps * batch_size / (time.perf_counter() - start)


def parameter_count(model) -> int:
    from flax import nnx

    return sum(int(np.prod(p.shape)) for p in jax.tree.leaves(nnx.state(model, nnx.Param)))


def sampler_seconds(model, method: str, num: int, length=None, positions=None) -> float:
    """Seconds for ``method`` to sample ``num`` examples; with ``positions``, only the first
    ``positions`` are sampled (the rest observed) and the time is scaled to all of them."""
    from flax import nnx

    import autoreg

    graphdef, state = nnx.split(model)
    shape = (num, *model.event_shape(length))
    total = int(np.prod(shape[1:]))
    observed = np.zeros((num, total), bool)
    if positions is not None:
        observed[:, positions:] = True
    observed = observed.reshape(shape)
    labels = np.zeros(num, np.int32) if model.num_classes else None
    sampler = autoreg.MODELS[model.name].samplers[method]
    args = (
        graphdef,
        state,
        jax.random.key(0),
        np.zeros(shape, np.int32),
        observed,
        labels,
        np.float32(1.0),
    )
    block(sampler(*args))  # compile
    start = time.perf_counter()
    block(sampler(*args))
    return (time.perf_counter() - start) * (total / positions if positions else 1.0)
