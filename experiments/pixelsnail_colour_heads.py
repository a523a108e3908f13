"""PixelSNAIL's cached sampler with one colour group's heads per sub-step, against the sampler
of an earlier commit that attended with every head at every sub-step, in one run.

    python experiments/pixelsnail_colour_heads.py [--old-rev f46f548] [--batch 16] [--repeats 3]

Reads the old ``autoreg/sampling/pixelsnail_cached.py`` out of git, runs both samplers and the
forward pass in turns on the reference preset (32x32x3, then 28x28x1, where C = 1 and nothing
should change), checks that both give the same samples for the same key, and prints the times.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import jax
import numpy as np
from benchmark_utils import best_times, device_description
from flax import nnx

import autoreg
from autoreg.models.functional import apply_split
from autoreg.sampling.pixelsnail_cached import cached_pixelsnail_sampler


def old_sampler(rev: str):
    """``cached_pixelsnail_sampler`` as of git revision ``rev``."""
    import importlib.util

    source = subprocess.run(
        ["git", "show", f"{rev}:autoreg/sampling/pixelsnail_cached.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_pixelsnail_cached.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_pixelsnail_cached", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cached_pixelsnail_sampler


def table_row(shape: tuple, old, batch: int, repeats: int) -> str:
    """One row of the table: both samplers and the forward pass on ``shape`` images."""
    model = autoreg.create_model("pixelsnail", preset="reference", image_shape=shape, seed=3)
    graphdef, state = nnx.split(model)
    x = np.zeros((batch, *shape), np.int32)
    call = (jax.random.key(0), x, np.zeros(x.shape, bool), None, np.float32(1.0))
    same = np.array_equal(
        np.asarray(old(graphdef, state, *call)),
        np.asarray(cached_pixelsnail_sampler(graphdef, state, *call)),
    )
    t = best_times(
        {
            "forward": lambda: apply_split(graphdef, state, x, None),
            "old": lambda: old(graphdef, state, *call),
            "new": lambda: cached_pixelsnail_sampler(graphdef, state, *call),
        },
        repeats,
    )
    f = t["forward"]
    return (
        f"| {'x'.join(map(str, shape))} | {same} | {f * 1e3:.1f} ms | "
        f"{t['old']:.2f} s ({t['old'] / f:.1f}x) | {t['new']:.2f} s ({t['new'] / f:.1f}x) | "
        f"{t['old'] / t['new']:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-rev", default="f46f548", help="commit of the old sampler")
    parser.add_argument("--batch", type=int, default=16, help="images per call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each, best kept")
    args = parser.parse_args()
    old = old_sampler(args.old_rev)
    print(f"device: {device_description()}; reference preset, batch {args.batch}\n")
    print("| image | same samples | forward | old sampler | new sampler | old / new |")
    print("|---|---|---|---|---|---|")
    for shape in [(32, 32, 3), (28, 28, 1)]:
        print(table_row(shape, old, args.batch, args.repeats), flush=True)


if __name__ == "__main__":
    main()
