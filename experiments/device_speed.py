"""The speed table of a GPU window: every sampler of every model beside the forward pass.

    python experiments/device_speed.py --out speed_gpu.md [--quick] [--budget 150]

Measured in one run on whatever device JAX has (the table names it), compile time excluded,
each figure the best of ``--repeats`` calls taken in turns with the forward pass it is compared
with, so that a ratio is measured under one load:

- per image model (reference preset, 28x28x1, K = 256): the forward pass, and every sampling
  method that runs on this platform at batch 16 and 256 (the naive sampler extrapolated from
  its first ``--naive-positions`` positions: each of its steps costs the same), as seconds
  and as a multiple of one forward pass; the cached samplers also with their loops unrolled
  (``unroll``), which a GPU, bound by kernel launches, may favour;
- training images/s per model in float32 and with bfloat16 compute (mixed precision);
- WaveNet (reference preset) at batch 1, 8 and 32: samples/s and the real-time factor per
  stream (16,000 samples/s is real time) of every method and of the fast sampler's block and
  unroll variants, beside the forward pass over the same second.

``--sampling-only`` keeps the sampling rows at batch 16 and WaveNet at batch 1: the run made
under other XLA flags (command buffers) in ``device_run.sh``. Rows that would start after
``--budget`` seconds are listed as skipped, so the table always comes back. ``--quick``: tiny
presets on 8x8 images and short audio, for the test suite.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from pathlib import Path

import jax
import numpy as np
from benchmark_utils import best_times, device_description, parameter_count, train_throughput
from flax import nnx

import autoreg
from autoreg.models.functional import apply_split
from autoreg.sampling.wavenet_queues import fast_variant

IMAGE_MODELS = ["pixelcnn", "gated_pixelcnn", "row_lstm", "diagonal_bilstm", "pixelsnail"]
RASTER_METHODS = ("cached",)  # samplers built on raster_loop, which take ``unroll``
UNROLLS = (4,)
WAVENET_VARIANTS = ((16, 16), (64, 8))  # (block, unroll) beside the default (16, 1)


class Clock:
    """Seconds since the start, against the budget."""

    def __init__(self, budget: float):
        self.start, self.budget = time.perf_counter(), budget

    def spent(self) -> bool:
        return time.perf_counter() - self.start > self.budget


def sampler_args(model, batch: int, positions: int | None = None) -> tuple:
    """(key, x, observed, labels, temperature) for ``batch`` examples; with ``positions``, all
    but the first ``positions`` are observed (a naive sampler then runs only those steps)."""
    shape = (batch, *model.event_shape())
    observed = np.zeros((batch, int(np.prod(shape[1:]))), bool)
    if positions is not None:
        observed[:, positions:] = True
    labels = np.arange(batch, dtype=np.int32) % model.num_classes if model.num_classes else None
    zeros = np.zeros(shape, np.int32)
    return jax.random.key(0), zeros, observed.reshape(shape), labels, np.float32(1.0)


def image_rows(name: str, args, clock: Clock) -> list[str]:
    """Markdown rows of one image model: each sampler at each batch beside the forward pass."""
    model = autoreg.create_model(name, preset=args.preset, image_shape=args.image_shape)
    graphdef, state = nnx.split(model)
    positions = int(np.prod(model.event_shape()))
    table = autoreg.MODELS[name].samplers
    rows = []
    for batch in args.batches:
        key, zeros, nothing_observed, labels, temperature = sampler_args(model, batch)
        x = np.random.default_rng(0).integers(0, model.levels, zeros.shape).astype(np.int32)
        fns = {"forward": functools.partial(apply_split, graphdef, state, x, labels)}
        scale = {}
        for method in autoreg.sampling_methods(model):
            run = functools.partial(table[method], graphdef, state)
            if method == "naive":
                naive_args = sampler_args(model, batch, args.naive_positions)
                fns[method] = functools.partial(run, *naive_args)
                scale[method] = positions / args.naive_positions
                continue
            fns[method] = functools.partial(run, key, zeros, nothing_observed, labels, temperature)
            if method in RASTER_METHODS:
                for unroll in args.unrolls:
                    fns[f"{method}, unroll {unroll}"] = functools.partial(
                        fns[method], unroll=unroll
                    )
        if clock.spent():
            rows.append(f"| {name} | {batch} | skipped: time budget | | |")
            continue
        times = best_times(fns, args.repeats)
        forward = times.pop("forward")
        rows.append(f"| {name} | {batch} | forward pass | {forward * 1e3:.2f} ms | 1x |")
        for label, seconds in times.items():
            seconds *= scale.get(label, 1.0)
            star = "*" if label in scale else ""
            rows.append(
                f"| {name} | {batch} | {label}{star} | {seconds:.3f} s | {seconds / forward:.1f}x |"
            )
    return rows


def train_row(name: str, args, clock: Clock) -> str:
    """Markdown row: parameters, training images/s in float32 and with bfloat16 compute."""
    if clock.spent():
        return f"| {name} | skipped: time budget | | | |"
    model = autoreg.create_model(name, preset=args.preset, image_shape=args.image_shape)
    speeds = [
        train_throughput(model, args.train_batch, args.train_steps, compute_dtype=dtype)[1]
        for dtype in ("float32", "bfloat16")
    ]
    return (
        f"| {name} | {parameter_count(model):,} | {speeds[0]:.0f} | {speeds[1]:.0f} | "
        f"{speeds[1] / speeds[0]:.2f}x |"
    )


def wavenet_rows(args, clock: Clock) -> list[str]:
    """Markdown rows: WaveNet samples/s and real-time factor per stream, per method and batch."""
    model = autoreg.create_model("wavenet", preset=args.preset)
    rate, length = model.config.sample_rate, args.audio_length
    graphdef, state = nnx.split(model)
    table = autoreg.MODELS["wavenet"].samplers
    rows = []
    for batch in args.wavenet_batches:
        if clock.spent():
            rows.append(f"| {batch} | skipped: time budget | | |")
            continue
        x = np.zeros((batch, length), np.int32)
        common = (jax.random.key(0), x, np.zeros(x.shape, bool), None, np.float32(1.0))
        fns = {"forward pass": functools.partial(apply_split, graphdef, state, x, None)}
        for method in autoreg.sampling_methods(model):
            if method != "naive":
                fns[method] = functools.partial(table[method], graphdef, state, *common)
        for block, unroll in args.wavenet_variants:
            fns[f"fast, block {block}, unroll {unroll}"] = functools.partial(
                fast_variant(block, unroll), graphdef, state, *common
            )
        observed = np.arange(length) >= args.naive_positions
        naive_common = (common[0], x, np.broadcast_to(observed, x.shape), None, common[4])
        fns["naive*"] = functools.partial(table["naive"], graphdef, state, *naive_common)
        times = best_times(fns, args.repeats)
        times["naive*"] *= length / args.naive_positions
        for label, seconds in times.items():
            per_stream = length / seconds
            rows.append(
                f"| {batch} | {label} | {batch * per_stream:,.0f} | {per_stream / rate:.2f}x |"
            )
    return rows


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the Markdown file to write")
    parser.add_argument("--quick", action="store_true", help="tiny presets: seconds, any CPU")
    parser.add_argument("--sampling-only", action="store_true", help="batch-16 sampling rows")
    parser.add_argument("--label", default="", help="what differs in this run, for the title")
    parser.add_argument("--budget", type=float, default=150.0, help="seconds before skipping")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each, best kept")
    parser.add_argument("--naive-positions", type=int, default=16)
    parser.add_argument(
        "--models", help="comma-separated (default: all; with --quick, pixelcnn and wavenet)"
    )
    args = parser.parse_args()
    everything = ",".join(IMAGE_MODELS + ["wavenet"])
    args.models = args.models or ("pixelcnn,wavenet" if args.quick else everything)
    args.preset = "tiny" if args.quick else "reference"
    args.image_shape = (8, 8, 1) if args.quick else (28, 28, 1)
    args.batches = (2,) if args.quick else (16, 256)
    args.unrolls = (2,) if args.quick else UNROLLS
    args.train_batch, args.train_steps = (4, 2) if args.quick else (128, 10)
    args.wavenet_batches = (1,) if args.quick else (1, 8, 32)
    args.wavenet_variants = ((4, 4),) if args.quick else WAVENET_VARIANTS
    args.audio_length = 256 if args.quick else 16_000
    if args.quick:
        args.repeats, args.naive_positions = 1, 4
    if args.sampling_only:
        args.batches, args.wavenet_batches = args.batches[:1], args.wavenet_batches[:1]
    return args


def main() -> None:
    args = parse_args()
    clock = Clock(args.budget)
    models = args.models.split(",")
    flags = os.environ.get("XLA_FLAGS", "")
    lines = [
        f"# Speed on {device_description()}{' ' + args.label if args.label else ''}",
        "",
        f"{args.preset} presets; compile time excluded; best of {args.repeats} calls taken in "
        f"turns with the forward pass; XLA_FLAGS={flags or '(none)'}.",
        "",
        "| model | batch | method | time | x forward |",
        "|---|---|---|---|---|",
    ]
    for name in [m for m in IMAGE_MODELS if m in models]:
        lines += image_rows(name, args, clock)
        print(lines[-1], flush=True)
    lines += ["", f"\\* extrapolated from the first {args.naive_positions} positions."]
    if not args.sampling_only:
        lines += [
            "",
            f"Training (forward, backward, Adam) at batch {args.train_batch}: images/s",
            "",
            "| model | parameters | float32 | bfloat16 compute | bfloat16 / float32 |",
            "|---|---|---|---|---|",
        ]
        for name in [m for m in IMAGE_MODELS if m in models]:
            lines.append(train_row(name, args, clock))
            print(lines[-1], flush=True)
    if "wavenet" in models:
        lines += [
            "",
            f"WaveNet, {args.audio_length} samples per stream",
            "",
            "| batch | method | samples/s (all streams) | real-time factor per stream |",
            "|---|---|---|---|",
            *wavenet_rows(args, clock),
            "",
            f"\\* naive extrapolated from {args.naive_positions} samples.",
        ]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
