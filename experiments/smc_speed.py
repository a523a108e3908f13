"""Completion by SMC on the cached samplers, side by side with sampling and with the reference.

For each shipped MNIST model (``--models``), on the first ``--digits`` test digits with a middle
box hidden (``box:8,6,20,22``: rows 8-19, columns 6-21, 192 pixels), prints in one run:

- ``sample``: drawing ``digits * particles`` digits with the model's cached sampler;
- ``smc``: completing the digits with ``particles`` particles each by the particle filter on
  the cached sampler (the registry's default filter), and its ratio to ``sample`` (the
  target: at most 3);
- ``reference``: the same completion by the reference filter, which re-runs the network on
  every particle at each position of the hole, and the speed-up of ``smc`` over it; and
  whether the two returned the same completions for the same key.

Compilation is excluded (one warm-up call of each; the reference is compiled ahead of time, as
it runs for minutes); ``sample`` and ``smc`` take turns and report the best of ``--repeats``
runs, the reference the best of ``--reference-repeats``.

Then the two commands a newcomer runs from the README, timed whole (compilation and loading
included): the Python line ``autoreg.complete(model, key, x, ~observed, particles=64)`` on 4
digits with the top half hidden (the shipped PixelCNN), and the command line
``autoreg complete --model gated_pixelcnn --data mnist.npz --index 0 1 --occlude
box:8,6,20,22``.

    python experiments/smc_speed.py --out experiments/results/smc_speed_cpu.md
    python experiments/smc_speed.py --models pixelcnn --reference-repeats 0  # no reference
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from benchmark_utils import best_times, device_description
from flax import nnx

from autoreg.occlusion import occlusion_mask
from autoreg.pretrained import load_pretrained
from autoreg.registry import particle_filter, sampling_method

BOX = "box:8,6,20,22"
README_SMC_LINE = """
import time, jax, numpy as np, autoreg
from autoreg.pretrained import load_pretrained
start = time.perf_counter()
model = load_pretrained("pixelcnn")
x = autoreg.data.load({data!r}, split="test").examples[:4]
observed = np.zeros((28, 28), bool)
observed[:14] = True
out = autoreg.complete(model, jax.random.key(1), x, ~observed, particles=64)
np.asarray(out)
print(time.perf_counter() - start)
"""


def completion_times(name: str, mnist: dict, digits: int, particles: int, repeats: int, ref: int):
    """Seconds of sampling, cached SMC and reference SMC for the shipped model ``name``."""
    model = load_pretrained(name)
    graphdef, state = nnx.split(model)
    x = jnp.asarray(mnist["x_test"][:digits, :, :, None], jnp.int32)
    labels = jnp.asarray(mnist["y_test"][:digits], jnp.int32) if model.num_classes else None
    observed = jnp.asarray(np.broadcast_to(occlusion_mask(BOX, 28, 28)[:, :, None], x.shape))
    chains = digits * particles
    blank = jnp.zeros((chains, 28, 28, 1), jnp.int32)
    chain_labels = None if labels is None else jnp.repeat(labels, particles)
    key, temperature, threshold = jax.random.key(0), jnp.float32(1), jnp.float32(0.5)
    sampler = sampling_method(model, None)
    cached = particle_filter(model, None)
    reference = particle_filter(model, "naive")
    args = (graphdef, state, key, x, observed, labels, temperature, particles, threshold)
    times = best_times(
        {
            "sample": lambda: sampler(
                graphdef, state, key, blank, blank != 0, chain_labels, temperature
            ),
            "smc": lambda: cached(*args),
        },
        repeats,
    )
    fast, _ = cached(*args)
    if ref > 0:  # compiled ahead of time, then timed on its own: it runs for minutes
        compiled = reference.sampler.lower(*args).compile()
        dynamic = args[1:7] + args[8:]  # without the static graphdef and particle count
        best = float("inf")
        for _ in range(ref):
            start = time.perf_counter()
            slow, _ = jax.block_until_ready(compiled(*dynamic))
            best = min(best, time.perf_counter() - start)
        times["reference"] = best
        times["same"] = bool((np.asarray(fast) == np.asarray(slow)).all())
    return times


def timed_command(command: list[str]) -> float:
    """Wall seconds of a whole process (loading and compiling included)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="pixelcnn,gated_pixelcnn,pixelsnail")
    parser.add_argument("--data", default=str(Path(__file__).parents[2] / "shared/data/mnist.npz"))
    parser.add_argument("--digits", type=int, default=2)
    parser.add_argument("--particles", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-repeats", type=int, default=1, help="0: no reference")
    parser.add_argument("--no-commands", action="store_true", help="skip the README commands")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    mnist = dict(np.load(args.data))
    chains = args.digits * args.particles
    lines = [
        f"Device: {device_description()}, JAX {jax.__version__}. Middle box {BOX} of "
        f"{args.digits} MNIST test digits, {args.particles} particles each; sampling "
        f"{chains} digits with the cached sampler for comparison. Seconds, compilation "
        "excluded.",
        "",
        f"| model | sample {chains} | SMC (cached) | SMC / sample | reference SMC | speed-up "
        "| same completions |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for name in args.models.split(","):
        t = completion_times(
            name, mnist, args.digits, args.particles, args.repeats, args.reference_repeats
        )
        ref = t.get("reference")
        row = f"| {name} | {t['sample']:.2f} | {t['smc']:.2f} | {t['smc'] / t['sample']:.2f} | " + (
            f"{ref:.1f} | {ref / t['smc']:.0f}x | {'yes' if t['same'] else 'NO'} |"
            if ref
            else "- | - | - |"
        )
        lines.append(row)
        print(row, flush=True)
    if not args.no_commands:
        python_line = timed_command([sys.executable, "-c", README_SMC_LINE.format(data=args.data)])
        cli = timed_command(
            [
                sys.executable,
                "-m",
                "autoreg.cli",
                "complete",
                "--model",
                "gated_pixelcnn",
                "--data",
                args.data,
                "--index",
                "0",
                "1",
                "--occlude",
                BOX,
                "--out",
                "/tmp/smc_speed_grid.png",
            ]
        )
        extra = [
            "",
            "Whole commands, wall seconds (loading and compilation included):",
            "",
            f"- README's Python SMC line (shipped PixelCNN, 4 digits, top half hidden, 64 "
            f"particles): {python_line:.1f} s",
            f"- `autoreg complete --model gated_pixelcnn --data mnist.npz --index 0 1 "
            f"--occlude {BOX}` (2 digits x 4 completions, 64 particles): {cli:.1f} s",
        ]
        lines += extra
        print("\n".join(extra), flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
