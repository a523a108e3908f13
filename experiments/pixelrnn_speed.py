"""Speed of the PixelRNN reference models: forward pass, and Row LSTM sampling per image.

Forward: one jit-compiled ``model(x)`` on a batch of 28x28x1 images (PixelCNN as the baseline).
Sampling: the Row LSTM's incremental sampler on whole images, and the naive sampler (one full
pass per sub-pixel) timed on the first ``--naive-rows`` rows and extrapolated to the image;
the Diagonal BiLSTM's naive sampler likewise. Compilation is excluded (each function runs once
on the same shapes before it is timed).

Run (a few minutes on a 2-core CPU):
  python experiments/pixelrnn_speed.py --batch 16 --naive-rows 1
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

import autoreg
from autoreg.models.config_io import count_params
from autoreg.models.functional import logits as model_logits

SHAPE = (28, 28, 1)


def best_time(fn, repeats: int) -> float:
    """Seconds of the fastest of ``repeats`` runs of ``fn`` after one warm-up (compile) run."""
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def forward_seconds(name: str, batch: int, repeats: int) -> tuple[int, float]:
    """(parameter count, seconds per forward pass of ``batch`` images) of a reference model."""
    model = autoreg.create_model(name, preset="reference", image_shape=SHAPE)
    x = np.random.default_rng(0).integers(0, model.levels, (batch, *SHAPE))
    return count_params(model), best_time(lambda: model_logits(model, x), repeats)


def sampling_seconds_per_image(name: str, method: str, batch: int, rows: int | None) -> float:
    """Seconds per image to sample with ``method``; with ``rows``, only the first ``rows`` rows
    are sampled (the rest observed) and the time is extrapolated to the whole image."""
    model = autoreg.create_model(name, preset="reference", image_shape=SHAPE)
    x = np.zeros((batch, *SHAPE), np.int32)
    observed = np.ones(SHAPE, bool)
    observed[: rows or SHAPE[0]] = False
    key = jax.random.key(0)
    seconds = best_time(lambda: autoreg.complete(model, key, x, observed, method=method), 1)
    fraction = (rows or SHAPE[0]) / SHAPE[0]
    return seconds / fraction / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="images per forward / sample call")
    parser.add_argument("--repeats", type=int, default=3, help="timed forward passes (best kept)")
    parser.add_argument("--naive-rows", type=int, default=1, help="rows the naive samplers run")
    args = parser.parse_args()
    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), batch {args.batch}")
    for name in ("pixelcnn", "row_lstm", "diagonal_bilstm"):
        params, seconds = forward_seconds(name, args.batch, args.repeats)
        print(f"forward {name:16s} {params:8d} params  {1e3 * seconds:9.1f} ms / batch")
    for name, method, rows in (
        ("row_lstm", "incremental", None),
        ("row_lstm", "naive", args.naive_rows),
        ("diagonal_bilstm", "naive", args.naive_rows),
    ):
        seconds = sampling_seconds_per_image(name, method, args.batch, rows)
        how = "whole image" if rows is None else f"extrapolated from {rows} row(s)"
        print(f"sample  {name:16s} {method:12s} {seconds:9.3f} s / image ({how})")


if __name__ == "__main__":
    main()
