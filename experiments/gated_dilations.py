"""Does dilating the Gated PixelCNN's later layers help at an equal number of training images?

Trains the ``reference`` preset and the ``dilated`` preset (the same parameters, later layers
dilated 1, 2, 1, 4, 1, 2 as in the UvA deep learning tutorial's Gated PixelCNN) one after the
other on MNIST, class-conditional, with the same batches, seed and schedule, and prints their
test bits/dim on the first ``--eval-examples`` test digits at every ``--eval-every`` steps, and
each run's training images per second (the two runs share the machine in turn, not at once).

    python experiments/gated_dilations.py --data ../shared/data/mnist.npz --steps 1000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRESETS = ("reference", "dilated")


def train(preset: str, args, workdir: Path) -> tuple[dict, float]:
    """Run ``autoreg train``; returns ({step: test bits/dim}, images per second)."""
    command = [
        sys.executable, "-m", "autoreg.cli", "train", "--model", "gated_pixelcnn",
        "--preset", preset, "--num-classes", "10", "--data", args.data,
        "--workdir", str(workdir), "--steps", str(args.steps),
        "--batch-size", str(args.batch_size), "--eval-every", str(args.eval_every),
        "--eval-examples", str(args.eval_examples), "--checkpoint-every", str(args.steps),
        "--log-every", "50", "--no-progress", "--seed", "0",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    bits = {r["step"]: r["test_bits_per_dim"] for r in records if "test_bits_per_dim" in r}
    return bits, args.steps * args.batch_size / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/mnist.npz")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-examples", type=int, default=1000)
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in PRESETS:
            results[preset] = train(preset, args, Path(tmp) / preset)
    steps = sorted(set().union(*(bits for bits, _ in results.values())))
    lines = [
        f"Gated PixelCNN on MNIST (class-conditional), batch {args.batch_size}, test bits/dim "
        f"on {args.eval_examples} test digits",
        "",
        "| step | images | " + " | ".join(PRESETS) + " |",
        "|---|---|" + "---|" * len(PRESETS),
    ]
    for step in steps:
        row = [f"{results[p][0].get(step, float('nan')):.3f}" for p in PRESETS]
        lines.append(f"| {step} | {step * args.batch_size} | " + " | ".join(row) + " |")
    speeds = ", ".join(f"{p} {results[p][1]:.1f}" for p in PRESETS)
    lines += ["", f"training images/s, compile and evaluation included: {speeds}"]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
