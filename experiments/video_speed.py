"""Predicting futures with the Video PixelCNN's cached sampler, against one forward pass.

The setting of the VPN's Moving MNIST experiment: 64x64 grey frames, 10 observed, 10 predicted.
The sampler draws 4 futures of 10 frames from one clip's 10 observed frames (a batch of 4 clips
whose first 10 frames are observed); the forward passes compute the logits of the same batch of
4 whole 20-frame clips once (what training and likelihood evaluation cost per step), and of the
one clip alone. The sampler's time over a forward pass's is the ratio a cached sampler aims to
keep small (the naive sampler's would be about the number of positions sampled, 40,960).

    python experiments/video_speed.py [--preset reference] [--size 64] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np
from benchmark_utils import best_times, device_description, parameter_count
from flax import nnx

import autoreg

CONTEXT, FUTURE, FUTURES = 10, 10, 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="reference")
    parser.add_argument("--size", type=int, default=64, help="frame side")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    frames = CONTEXT + FUTURE
    model = autoreg.create_model(
        "video_pixelcnn", preset=args.preset, image_shape=(args.size, args.size, 1), frames=frames
    )
    shape = (FUTURES, frames, args.size, args.size, 1)
    clip = np.random.default_rng(0).integers(0, 256, shape[1:], dtype=np.int32)
    x = jnp.asarray(np.repeat(clip[None], FUTURES, axis=0))  # one clip, 4 futures
    observed = np.zeros(shape, bool)
    observed[:, :CONTEXT] = True
    observed = jnp.asarray(observed)
    graphdef, state = nnx.split(model)
    sampler = autoreg.MODELS["video_pixelcnn"].samplers["cached"]
    forward = jax.jit(lambda state, x: nnx.merge(graphdef, state)(x))
    key, temperature = jax.random.key(0), jnp.float32(1.0)
    times = best_times(
        {
            "forward": lambda: forward(state, x),
            "forward_one_clip": lambda: forward(state, x[:1]),
            "sample": lambda: sampler(graphdef, state, key, x, observed, None, temperature),
        },
        args.repeats,
    )
    figures = {
        "device": device_description(),
        "preset": args.preset,
        "parameters": parameter_count(model),
        "clip": list(shape),
        "forward_seconds": round(times["forward"], 3),
        "sample_seconds": round(times["sample"], 3),
        "forward_one_clip_seconds": round(times["forward_one_clip"], 3),
        "sample_over_forward": round(times["sample"] / times["forward"], 2),
        "sample_over_forward_one_clip": round(times["sample"] / times["forward_one_clip"], 2),
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
