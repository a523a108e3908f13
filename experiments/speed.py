"""One speed table for every model, measured in one run (ratios are what to compare).

    python experiments/speed.py [--naive-positions 16] [--models pixelcnn,gated_pixelcnn,...]

Per image model (reference preset, 28x28x1, K = 256): parameters, forward time on 16 images,
training throughput at batch 32 (forward + backward + Adam), evaluation throughput at batch 32,
the naive sampler's time for 16 images (extrapolated from its first N positions: every step of
its loop costs the same) and the model's fastest exact sampler (measured in full). For WaveNet
(reference preset): generated samples per second and the real-time factor at 16 kHz for batch 1
and 8, fast and naive (naive extrapolated). Compile time is excluded everywhere.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np
from benchmark_utils import (
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

IMAGE_MODELS = ["pixelcnn", "gated_pixelcnn", "row_lstm", "diagonal_bilstm"]


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


def image_row(name: str, naive_positions: int) -> dict:
    model = autoreg.create_model(name, preset="reference")
    graphdef, state = nnx.split(model)
    x = np.random.default_rng(0).integers(0, 256, (16, 28, 28, 1)).astype(np.int32)
    _, forward = timed(apply_split, graphdef, state, x, None)
    _, train = train_throughput(model, 32)
    fast = sampling_methods(model)[0]
    naive = sampler_seconds(model, "naive", 16, positions=naive_positions)
    fast_s = naive if fast == "naive" else sampler_seconds(model, fast, 16)
    return dict(
        model=name,
        params=parameter_count(model),
        forward_ms=forward * 1e3,
        train=train,
        eval=eval_throughput(model, 32),
        naive=naive,
        fast=fast,
        fast_s=fast_s,
    )


def wavenet_rows(naive_positions: int) -> list:
    model = autoreg.create_model("wavenet", preset="reference")
    rate = model.config.sample_rate
    rows = []
    for batch in (1, 8):
        fast = sampler_seconds(model, sampling_methods(model)[0], batch, length=rate)
        naive = sampler_seconds(model, "naive", batch, length=rate, positions=naive_positions)
        rows.append((batch, batch * rate / fast, batch * rate / naive))
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
    args = parser.parse_args()
    models = args.models.split(",")
    print(f"device: {device_description()}; reference presets; compile time excluded\n")
    print(
        "| model | params | forward, 16 imgs | train img/s (b=32) | eval img/s (b=32) "
        "| naive sampling, 16 imgs | fast sampling, 16 imgs | naive / fast | fast / forward |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in [m for m in models if m in IMAGE_MODELS]:
        r = image_row(name, args.naive_positions)
        print(
            f"| {name} | {r['params']:,} | {r['forward_ms']:.1f} ms | {r['train']:.1f} | "
            f"{r['eval']:.1f} | {r['naive']:.1f} s* | {r['fast_s']:.2f} s ({r['fast']}) | "
            f"{r['naive'] / r['fast_s']:.0f}x | {r['fast_s'] * 1e3 / r['forward_ms']:.1f}x |",
            flush=True,
        )
    print(f"\n* extrapolated from the first {args.naive_positions} positions of 784")
    if "wavenet" in models:
        print(
            "\n| WaveNet batch | fast samples/s (all streams) | real-time factor per stream "
            "| naive samples/s* | fast / naive |"
        )
        print("|---|---|---|---|---|")
        for batch, fast, naive in wavenet_rows(args.naive_positions):
            print(
                f"| {batch} | {fast:,.0f} | {fast / batch / 16000:.2f}x | {naive:,.1f} | "
                f"{fast / naive:.0f}x |"
            )
        print(
            f"\n* extrapolated from {args.naive_positions} samples. Real time is 16,000 "
            "samples/s per stream: a factor above 1 generates faster than real time."
        )


if __name__ == "__main__":
    main()
