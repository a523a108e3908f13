"""One speed table for every model, measured in one run (ratios are what to compare).

    python experiments/speed.py [--naive-positions 16] [--models pixelcnn,gated_pixelcnn,...]

Per image model (reference preset, 28x28x1, K = 256): parameters, forward time on 16 images,
training throughput at batch 32 (forward + backward + Adam), evaluation throughput at batch 32,
the naive sampler's time for 16 images (extrapolated from its first N positions: every step of
its loop costs the same) and the model's fastest exact sampler (measured in full). The fast
sampler and the forward pass on the same 16 images take turns (best of ``--repeats`` each), so
their ratio is measured in one run under the same load; then images per second of both at
batch 256 (``--large-batch``). For WaveNet
(reference preset): generated samples per second and the real-time factor at 16 kHz for batch 1
and 8, fast and naive (naive extrapolated). Compile time is excluded everywhere.
"""

from __future__ import annotations

import argparse
import functools

import jax
import numpy as np
from benchmark_utils import (
    best_times,
    device_description,
    parameter_count,
    sampler_seconds,
    timed,
    train_throughput,
)
from flax import nnx

import autoreg
from autoreg import sampling_methods
from autoreg.likelihood import log_prob_from_logits
from autoreg.models.functional import apply_split

IMAGE_MODELS = ["pixelcnn", "gated_pixelcnn", "row_lstm", "diagonal_bilstm", "pixelsnail"]


def eval_throughput(model, batch: int) -> float:
    """Images per second of exact log-likelihood evaluation."""
    graphdef, state = nnx.split(model)
    x = np.random.default_rng(0).integers(0, model.levels, (batch, *model.event_shape()))

    @jax.jit
    def nll(state, x):
        logits = apply_split(graphdef, state, x, None)
        return -log_prob_from_logits(logits, x, x.ndim - 1)

    _, best = timed(nll, state, x.astype(np.int32))
    return batch / best


def fast_and_forward(model, batch: int, repeats: int) -> tuple[float, float]:
    """(fast sampler seconds, forward seconds) on ``batch`` images, taking turns."""
    graphdef, state = nnx.split(model)
    shape = (batch, *model.event_shape())
    x = np.random.default_rng(0).integers(0, model.levels, shape).astype(np.int32)
    labels = np.arange(batch, dtype=np.int32) % model.num_classes if model.num_classes else None
    sampler = autoreg.MODELS[model.name].samplers[sampling_methods(model)[0]]
    args = (jax.random.key(0), np.zeros(shape, np.int32), np.zeros(shape, bool), labels)
    times = best_times(
        {
            "fast": lambda: sampler(graphdef, state, *args, np.float32(1.0)),
            "forward": lambda: apply_split(graphdef, state, x, labels),
        },
        repeats,
    )
    return times["fast"], times["forward"]


def image_row(name: str, naive_positions: int, repeats: int, large_batch: int) -> dict:
    model = autoreg.create_model(name, preset="reference")
    _, train = train_throughput(model, 32)
    fast = sampling_methods(model)[0]
    naive = sampler_seconds(model, "naive", 16, positions=naive_positions)
    fast_s, forward = fast_and_forward(model, 16, repeats)
    large_fast, large_forward = fast_and_forward(model, large_batch, 1)
    return dict(
        model=name,
        params=parameter_count(model),
        forward_ms=forward * 1e3,
        train=train,
        eval=eval_throughput(model, 32),
        naive=naive,
        fast=fast,
        fast_s=fast_s,
        large_fast=large_batch / large_fast,
        large_forward=large_batch / large_forward,
    )


def wavenet_rows(naive_positions: int, repeats: int) -> list:
    """Per batch: (batch, {method: samples/s}, naive samples/s, forward samples/s) for one
    second of audio per stream; every method and the forward pass take turns."""
    model = autoreg.create_model("wavenet", preset="reference")
    rate = model.config.sample_rate
    graphdef, state = nnx.split(model)
    methods = [m for m in sampling_methods(model) if m != "naive"]
    rows = []
    for batch in (1, 8, 32):
        x = np.zeros((batch, rate), np.int32)
        args = (jax.random.key(0), x, np.zeros(x.shape, bool), None, np.float32(1.0))
        fns = {
            m: functools.partial(autoreg.MODELS["wavenet"].samplers[m], graphdef, state, *args)
            for m in methods
        }
        fns["forward"] = functools.partial(apply_split, graphdef, state, x, None)
        times = best_times(fns, repeats)
        naive = sampler_seconds(model, "naive", batch, length=rate, positions=naive_positions)
        speeds = {m: batch * rate / times[m] for m in methods}
        rows.append((batch, speeds, batch * rate / naive, batch * rate / times["forward"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--naive-positions",
        type=int,
        default=16,
        help="positions timed for the naive samplers (extrapolated)",
    )
    parser.add_argument("--models", default=",".join(IMAGE_MODELS + ["wavenet"]))
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each, best kept")
    parser.add_argument("--large-batch", type=int, default=256, help="images per large batch")
    args = parser.parse_args()
    models = args.models.split(",")
    print(f"device: {device_description()}; reference presets; compile time excluded\n")
    print(
        "| model | params | forward, 16 imgs | train img/s (b=32) | eval img/s (b=32) "
        "| naive sampling, 16 imgs | fast sampling, 16 imgs | naive / fast | fast / forward "
        f"| sampled img/s (b={args.large_batch}) | forward img/s (b={args.large_batch}) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in [m for m in models if m in IMAGE_MODELS]:
        r = image_row(name, args.naive_positions, args.repeats, args.large_batch)
        print(
            f"| {name} | {r['params']:,} | {r['forward_ms']:.1f} ms | {r['train']:.1f} | "
            f"{r['eval']:.1f} | {r['naive']:.1f} s* | {r['fast_s']:.2f} s ({r['fast']}) | "
            f"{r['naive'] / r['fast_s']:.0f}x | {r['fast_s'] * 1e3 / r['forward_ms']:.1f}x | "
            f"{r['large_fast']:.1f} | {r['large_forward']:.0f} |",
            flush=True,
        )
    print(f"\n* extrapolated from the first {args.naive_positions} positions of 784")
    if "wavenet" in models:
        rows = wavenet_rows(args.naive_positions, args.repeats)
        methods = list(rows[0][1])
        print(
            "\n| WaveNet batch | "
            + " | ".join(f"{m} samples/s (real-time factor per stream)" for m in methods)
            + " | naive samples/s* | forward pass samples/s | "
            + f"{methods[0]}: total samples/s / batch 1's |"
        )
        print("|---|" + "---|" * (len(methods) + 3))
        base = rows[0][1][methods[0]]
        for batch, speeds, naive, forward in rows:
            cells = " | ".join(f"{v:,.0f} ({v / batch / 16000:.2f}x)" for v in speeds.values())
            print(
                f"| {batch} | {cells} | {naive:,.1f} | {forward:,.0f} | "
                f"{speeds[methods[0]] / base:.1f}x |",
                flush=True,
            )
        print(
            f"\n* extrapolated from {args.naive_positions} samples. Real time is 16,000 "
            "samples/s per stream: a factor above 1 generates faster than real time. The "
            "forward pass is the likelihood of one second per stream (all positions at once)."
        )


if __name__ == "__main__":
    main()
