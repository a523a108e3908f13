"""How close ``autoreg.train`` runs to the bare training step (one run, ratios to compare).

    python experiments/train_loop_speed.py [--model pixelcnn] [--steps 200] [--batch-size 64]

The training loop adds work around each jit-compiled step: choosing the batch (a permutation of
the whole dataset per epoch), copying it to the device, and reading the loss back to stop on a
NaN. This prints the images/s of the bare step (``benchmark_utils.train_throughput``) beside
those of the full loop on MNIST-sized random data (60,000 examples), with the permutation drawn
once per epoch (as ``autoreg.train`` does) and, for comparison, drawn again at every step.
The loop's figure is the last half of its steps, so compile time is left out.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
from benchmark_utils import device_description, train_throughput

import autoreg
from autoreg import training


def loop_throughput(name: str, data: np.ndarray, steps: int, batch_size: int) -> float:
    """Images/s of ``autoreg.training.train_arrays`` over its last ``steps // 2`` steps."""
    config = training.TrainConfig(
        steps=steps,
        batch_size=batch_size,
        checkpoint_every=steps,
        eval_every=0,
        sample_every=-1,
        log_every=steps // 2,
    )
    with tempfile.TemporaryDirectory() as workdir:
        model = autoreg.create_model(name, preset="reference")
        training.train_arrays(model, data, Path(workdir) / "run", config, progress=False)
        lines = (Path(workdir) / "run" / "metrics.jsonl").read_text().splitlines()
    return json.loads(lines[-1])["examples_per_sec"]


def order_every_step(seed: int, epoch: int, num_examples: int) -> np.ndarray:
    """The epoch's permutation without the cache: drawn again for every batch."""
    return np.random.default_rng([seed, epoch]).permutation(num_examples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="pixelcnn")
    parser.add_argument("--steps", type=int, default=200, help="loop steps (half are timed)")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    model = autoreg.create_model(args.model, preset="reference")
    shape = (60_000, *model.event_shape())
    data = np.random.default_rng(0).integers(0, model.levels, shape).astype(np.uint8)

    _, bare = train_throughput(model, args.batch_size, image_steps=args.steps // 2)
    cached = loop_throughput(args.model, data, args.steps, args.batch_size)
    with mock.patch.object(training, "epoch_order", order_every_step):
        uncached = loop_throughput(args.model, data, args.steps, args.batch_size)

    print(f"device: {device_description()}; {args.model} reference, batch {args.batch_size}\n")
    print("| | images/s | / bare step |")
    print("|---|---|---|")
    for label, value in [
        ("bare training step", bare),
        ("autoreg.train loop (permutation once per epoch)", cached),
        ("loop with the permutation drawn every step", uncached),
    ]:
        print(f"| {label} | {value:,.0f} | {value / bare:.2f} |")


if __name__ == "__main__":
    main()
