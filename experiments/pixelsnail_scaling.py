"""How PixelSNAIL's cost grows with the number of positions (attention is quadratic in them).

    python experiments/pixelsnail_scaling.py [--batch 16] [--repeats 3]

For the reference preset on 8x8x1, 28x28x1 and 32x32x3 images: training images/s (forward,
backward and Adam), the forward pass on a batch, and the cached sampler on the same batch (the
sampler and the forward pass take turns, so their ratio is measured under the same load), with
PixelCNN's figures beside them for the convolution-only cost. Compile time is excluded.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np
from benchmark_utils import best_times, device_description, train_throughput
from flax import nnx

import autoreg
from autoreg.models.functional import apply_split

SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3)]


def row(name: str, shape: tuple, batch: int, repeats: int) -> dict:
    """Training img/s, forward and sampling seconds of ``name`` on ``shape`` images."""
    model = autoreg.create_model(name, preset="reference", image_shape=shape)
    _, train = train_throughput(model, batch)
    graphdef, state = nnx.split(model)
    x = np.random.default_rng(0).integers(0, 256, (batch, *shape)).astype(np.int32)
    sampler = autoreg.MODELS[name].samplers[autoreg.sampling_methods(model)[0]]
    args = (jax.random.key(0), np.zeros_like(x), np.zeros(x.shape, bool), None, np.float32(1.0))
    times = best_times(
        {
            "forward": lambda: apply_split(graphdef, state, x, None),
            "sample": lambda: sampler(graphdef, state, *args),
        },
        repeats,
    )
    return dict(train=train, **times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="images per call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each, best kept")
    args = parser.parse_args()
    print(f"device: {device_description()}; reference presets, batch {args.batch}\n")
    print(
        "| model | image | positions | train img/s | forward | cached sampling | "
        "sampling / forward |"
    )
    print("|---|---|---|---|---|---|---|")
    for shape in SHAPES:
        for name in ("pixelsnail", "pixelcnn"):
            r = row(name, shape, args.batch, args.repeats)
            print(
                f"| {name} | {'x'.join(map(str, shape))} | {int(np.prod(shape))} | "
                f"{r['train']:.1f} | {r['forward'] * 1e3:.1f} ms | {r['sample']:.2f} s | "
                f"{r['sample'] / r['forward']:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
