"""WaveNet generation speed: fast (queues, ``autoreg.sampling.wavenet_queues``) against naive.

For the ``reference`` preset (2 stacks of 10 dilated layers, 64 residual, 128 gate, 64 skip
channels, K=256, 16 kHz) and each batch size, prints samples per second (all streams together)
and the real-time factor of one stream (seconds of 16 kHz audio generated per second; above 1
is faster than real time). Compilation is excluded (one warm-up call first); times are the best
of ``--repeats`` calls.

The naive sampler re-runs the network over the whole clip for every sample, so a full clip
takes hours; it runs over the first ``--naive-positions`` samples of the same clip (the rest
observed: each step still costs one pass over the clip) and is extrapolated to the whole clip;
the output says so. The load average is printed because the machine's two cores are shared.

    python experiments/wavenet_speed.py
    python experiments/wavenet_speed.py --batches 1 --seconds 4
    python experiments/wavenet_speed.py --conditioned --naive-positions 0

``--conditioned`` also times the same network conditioned on an 80-band log-mel (one frame per
256 samples, the vocoder's conditioning) and prints conditioned / unconditioned speed;
``--naive-positions 0`` skips the naive sampler.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
from flax import nnx

import autoreg
from autoreg.sampling.ancestral import naive_sampler


def best_seconds(fn, repeats: int) -> tuple[float, float, object]:
    """(first call including compilation, best of ``repeats`` later calls) in seconds, and the
    result of the last call."""
    start = time.perf_counter()
    result = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    best = first
    for _ in range(repeats):
        start = time.perf_counter()
        result = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return first, best, result


MEL_CONDITIONING = dict(local_features=80, hop_length=256)  # the vocoder preset's


def generation_times(batch: int, length: int, naive_positions: int, repeats: int) -> dict:
    """Seconds to generate ``batch`` clips of ``length`` samples, fast and (extrapolated) naive."""
    model = autoreg.create_model("wavenet", preset="reference")
    graphdef, state = nnx.split(model)
    key, temperature = jax.random.key(0), jnp.float32(1.0)
    x = jnp.zeros((batch, length), jnp.int32)
    nothing_observed = jnp.zeros((batch, length), bool)
    fast = autoreg.MODELS["wavenet"].samplers["fast"]
    compile_fast, fast_seconds, _ = best_seconds(
        lambda: fast(graphdef, state, key, x, nothing_observed, None, temperature), repeats
    )
    n = min(naive_positions, length)
    observed = (jnp.arange(length) >= n)[None].repeat(batch, 0)  # sample the first n only
    _, naive_seconds, naive = best_seconds(
        lambda: naive_sampler(graphdef, state, key, x, observed, None, temperature), 0
    )  # one call: compiling is cheap next to running the network once per position
    same = fast(graphdef, state, key, x, observed, None, temperature)
    return dict(
        same_samples=bool((same == naive).all()),
        fast=fast_seconds,
        compile_fast=compile_fast,
        naive=naive_seconds * length / n,
        naive_positions=n,
        receptive_field=model.receptive_field,
        sample_rate=model.config.sample_rate,
    )


def fast_call(batch: int, length: int, conditioned: bool, method: str = "fast"):
    """A zero-argument call of generation by ``method`` of ``batch`` clips of ``length``
    samples by the reference network, with random log-mel conditioning if ``conditioned``."""
    overrides = MEL_CONDITIONING if conditioned else {}
    model = autoreg.create_model("wavenet", preset="reference", **overrides)
    graphdef, state = nnx.split(model)
    features = None
    if conditioned:
        features = jax.random.uniform(jax.random.key(1), (batch, length // 256, 80)) * 2
    x = jnp.zeros((batch, length), jnp.int32)
    fast = autoreg.MODELS["wavenet"].samplers[method]
    args = (graphdef, state, jax.random.key(0), x, x > 0, None, jnp.float32(1.0))
    return lambda: fast(*args, features=features)


def report_conditioned(batch: int, length: int, repeats: int, method: str = "fast") -> None:
    """Print generation by ``method`` with and without mel conditioning, and their speed ratio
    (the two timed alternately, best of ``repeats`` each, so that load changes hit both alike)."""
    length = length // 256 * 256
    calls = [fast_call(batch, length, conditioned, method) for conditioned in (False, True)]
    best = [best_seconds(call, 0)[1] for call in calls]  # compiles
    for _ in range(repeats):
        best = [min(b, best_seconds(call, 0)[1]) for b, call in zip(best, calls, strict=True)]
    speeds = [batch * length / seconds for seconds in best]
    print(
        f"{method}, batch {batch}: unconditioned {speeds[0]:,.0f} samples/s, mel-conditioned "
        f"{speeds[1]:,.0f} samples/s: conditioned / unconditioned = {speeds[1] / speeds[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each clip")
    parser.add_argument("--naive-positions", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--conditioned", action="store_true", help="also time mel conditioning")
    args = parser.parse_args()
    print(f"devices: {jax.devices()}, cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}")
    rate = autoreg.registry.make_config("wavenet", "reference").sample_rate
    length = round(args.seconds * rate)
    for batch in args.batches:
        if args.conditioned:
            for method in autoreg.sampling_methods("wavenet"):
                if method != "naive":
                    report_conditioned(batch, length, args.repeats, method)
        if args.naive_positions < 1:
            continue
        t = generation_times(batch, length, args.naive_positions, args.repeats)
        print(
            f"batch {batch}, {length} samples ({args.seconds} s at {rate} Hz), receptive field "
            f"{t['receptive_field']}:"
        )
        for method in ("fast", "naive"):
            seconds = t[method]
            note = (
                f" (extrapolated from {t['naive_positions']} positions)"
                if method == "naive"
                else f" (first call with compilation {t['compile_fast']:.1f} s)"
            )
            print(
                f"  {method:5s} {seconds:10.2f} s  {batch * length / seconds:10.0f} samples/s  "
                f"{length / rate / seconds:8.4f} x real time per stream{note}"
            )
        print(
            f"  fast / naive speed-up: {t['naive'] / t['fast']:.0f}x; same samples as naive over "
            f"the first {t['naive_positions']} positions: {t['same_samples']}"
        )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
