"""Bits/dim versus training steps, from the metrics.jsonl files that ``autoreg train`` writes.

    python experiments/plot_curves.py --out experiments/results/curves.png \
        experiments/results/pretrained_h200/*.jsonl

Each file is one curve (named after the file or its work directory); the test bits/dim points
are drawn as lines, the training loss faintly. Needs matplotlib (pip install matplotlib).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def read_curves(path: Path) -> tuple[list, list]:
    """([(step, train bits/dim)], [(step, test bits/dim)]) of one metrics file."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    train = [(r["step"], r["train_bits_per_dim"]) for r in lines if "train_bits_per_dim" in r]
    test = [(r["step"], r["test_bits_per_dim"]) for r in lines if "test_bits_per_dim" in r]
    return train, test


def curve_name(path: Path) -> str:
    return path.parent.name if path.name == "metrics.jsonl" else path.stem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("metrics", nargs="+", type=Path, help="metrics.jsonl files")
    parser.add_argument("--out", default="curves.png", help="output PNG")
    parser.add_argument("--title", default="test bits/dim during training")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    for path in args.metrics:
        train, test = read_curves(path)
        name = curve_name(path)
        if test:
            line = axes.plot(*zip(*test, strict=True), marker="o", label=f"{name} (test)")[0]
            colour = line.get_color()
        else:
            colour = None
        if train:
            axes.plot(*zip(*train, strict=True), alpha=0.3, color=colour, linewidth=1)
    axes.set_xlabel("training step")
    axes.set_ylabel("bits/dim")
    axes.set_title(args.title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
