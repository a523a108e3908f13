"""Sampling speed of the cached samplers, and training throughput of the reference Gated PixelCNN.

For a batch of 16 28x28x1 images and the ``reference`` preset (K=256) of each model, prints the
time of one forward pass, of naive sampling (the network re-run at every position) and of cached
sampling, and their ratios; then images/s of a training step (forward + backward + Adam) of the
reference Gated PixelCNN at batch 32. Compilation is excluded everywhere (one warm-up call of
each compiled function first). Forward pass and cached sampling take turns and each reports the
best of ``--repeats`` runs (naive: of at most 3), the training step the fastest and the median
step: on a machine shared with other jobs, the best runs show what the code itself costs.

Naive sampling of a reference model takes minutes here, so by default it runs over the first
``--naive-positions`` positions only (the rest observed) and is extrapolated to all positions;
the output says so. ``--naive-positions 0`` times it in full.

    python experiments/sampling_speed.py
    python experiments/sampling_speed.py --models gated_pixelcnn --naive-positions 0
"""

from __future__ import annotations

import argparse
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
from benchmark_utils import best_times
from flax import nnx

import autoreg
from autoreg.models.functional import apply_split
from autoreg.sampling.ancestral import naive_sampler
from autoreg.training import TrainConfig, make_optimizer, make_train_step


def sampling_times(name: str, batch: int, size: int, naive_positions: int, repeats: int) -> dict:
    """Forward, cached and naive sampling times (seconds) of the reference model ``name``."""
    model = autoreg.create_model(name, preset="reference", image_shape=(size, size, 1))
    graphdef, state = nnx.split(model)
    shape = (batch, size, size, 1)
    x = jnp.asarray(np.random.default_rng(0).integers(0, model.levels, shape), jnp.int32)
    key, temperature = jax.random.key(0), jnp.float32(1.0)
    nothing_observed = jnp.zeros(shape, bool)
    d = math.prod(shape[1:])
    cached = autoreg.MODELS[name].samplers["cached"]
    times = best_times(
        {
            "forward": lambda: apply_split(graphdef, state, x, None),
            "cached": lambda: cached(graphdef, state, key, x, nothing_observed, None, temperature),
        },
        repeats,
    )
    # Naive over the first n positions: the others observed, so the loop runs over n steps.
    n = d if naive_positions <= 0 else min(naive_positions, d)
    observed = jnp.asarray(np.arange(d).reshape(shape[1:]) >= n)[None].repeat(batch, 0)
    naive = best_times(
        {"naive": lambda: naive_sampler(graphdef, state, key, x, observed, None, temperature)},
        1 if n == d else min(repeats, 3),
    )["naive"]
    return dict(**times, naive=naive * d / n, naive_positions=n, d=d)


def training_throughput(batch: int, steps: int, num_classes: int) -> tuple[float, float]:
    """Images/s of the reference Gated PixelCNN's training step (K=256, 28x28x1), from the
    fastest and the median of ``steps`` steps, each timed alone."""
    model = autoreg.create_model("gated_pixelcnn", preset="reference", num_classes=num_classes)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    optimizer = make_optimizer(TrainConfig())
    opt_state = optimizer.init(params)
    step = make_train_step(graphdef, rest, optimizer, event_ndim=3, ema_decay=0.0)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.integers(0, 256, (batch, 28, 28, 1)), jnp.int32)
    labels = jnp.asarray(rng.integers(0, num_classes, batch), jnp.int32) if num_classes else None
    params, opt_state, _, loss = step(params, opt_state, None, x, labels)  # compile
    jax.block_until_ready(loss)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        params, opt_state, _, loss = step(params, opt_state, None, x, labels)
        jax.block_until_ready(loss)
        times.append(time.perf_counter() - start)
    return batch / min(times), batch / float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["pixelcnn", "gated_pixelcnn"])
    parser.add_argument("--batch", type=int, default=16, help="images sampled at once")
    parser.add_argument("--size", type=int, default=28, help="image height and width")
    parser.add_argument(
        "--naive-positions",
        type=int,
        default=32,
        help="time naive sampling over this many positions and extrapolate (0: all)",
    )
    parser.add_argument("--repeats", type=int, default=10, help="runs per timing (best taken)")
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=10, help="0 skips the training part")
    parser.add_argument("--num-classes", type=int, default=0, help="labels for the train step")
    args = parser.parse_args()

    print(f"backend: {jax.default_backend()}, devices: {jax.devices()}")
    print(f"batch of {args.batch} {args.size}x{args.size}x1 images, reference presets, K=256")
    for name in args.models:
        t = sampling_times(name, args.batch, args.size, args.naive_positions, args.repeats)
        how = (
            "timed in full"
            if t["naive_positions"] == t["d"]
            else f"extrapolated from the first {t['naive_positions']} of {t['d']} positions"
        )
        print(f"\n{name}")
        print(f"  forward pass      {t['forward'] * 1e3:9.1f} ms")
        print(f"  naive sampling    {t['naive']:9.2f} s   ({how})")
        print(f"  cached sampling   {t['cached']:9.3f} s")
        print(f"  cached / forward  {t['cached'] / t['forward']:9.2f} x   (target <= 3)")
        print(f"  naive / cached    {t['naive'] / t['cached']:9.0f} x   (target >= 150)")
    if args.train_steps > 0:
        best, median = training_throughput(args.train_batch, args.train_steps, args.num_classes)
        print(
            f"\ngated_pixelcnn reference training (batch {args.train_batch}, forward + backward "
            f"+ Adam): {best:.1f} images/s in the fastest of {args.train_steps} steps, "
            f"{median:.1f} in the median   (target >= 17.3)"
        )


if __name__ == "__main__":
    main()
