"""Speed of the reference PixelCNN: forward pass, training step, generic (naive) sampler.

    python experiments/pixelcnn_speed.py [--naive-positions N]

Prints the forward time on 16 MNIST-size images, training throughput at batch 32
(forward + backward + Adam, compile excluded), and the naive sampler's time for 16 images
(extrapolated from its first N positions when N < 784, and said so).
"""

from __future__ import annotations

import argparse

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
from autoreg.models.functional import apply_split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--naive-positions",
        type=int,
        default=784,
        help="positions of the naive sampler to time (784: all)",
    )
    parser.add_argument("--model", default="pixelcnn")
    args = parser.parse_args()
    model = autoreg.create_model(args.model, preset="reference")
    print(
        f"{args.model} reference preset: {parameter_count(model):,} parameters; "
        f"device {device_description()}"
    )
    graphdef, state = nnx.split(model)
    x = np.random.default_rng(0).integers(0, 256, size=(16, 28, 28, 1)).astype(np.int32)
    compile_fwd, forward = timed(apply_split, graphdef, state, x, None)
    print(f"forward, batch 16:            {forward * 1e3:9.1f} ms  (compile {compile_fwd:.1f} s)")
    compile_train, images_per_sec = train_throughput(model, 32)
    print(
        f"training step, batch 32:      {images_per_sec:9.1f} images/s  "
        f"(compile {compile_train:.1f} s)"
    )
    total = 784
    seconds = sampler_seconds(model, "naive", 16, positions=min(args.naive_positions, total))
    how = (
        "measured"
        if args.naive_positions >= total
        else (f"extrapolated from {args.naive_positions} of {total} positions")
    )
    print(
        f"naive sampler, 16 images:     {seconds:9.1f} s  ({how}; "
        f"{seconds / forward:.0f}x one forward pass)"
    )


if __name__ == "__main__":
    main()
