"""Time Efros-Leung texture synthesis of a 96x96 texture from the brick, grass and gravel images.

Run from the project root (the PixelCNN side of the comparison is added separately):

    python experiments/texture_speed.py [--data ../shared/data/images] [--out DIR]

Prints one line per image: the working source size, window, seconds and the output's spread.
With ``--out`` it also writes ``DIR/<name>_efros_leung.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from autoreg.texture import efros_leung

IMAGES = ("brick", "grass", "gravel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/images"))
    parser.add_argument("--out", type=Path, default=None, help="folder for the textures (PNG)")
    parser.add_argument("--size", type=int, default=96, help="output side in pixels")
    parser.add_argument("--window", type=int, default=11, help="neighbourhood side")
    parser.add_argument("--source-size", type=int, default=128, help="downscaled source side")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)

    print(
        f"efros-leung, {args.size}x{args.size} output, window {args.window}, "
        f"source downscaled to {args.source_size} px"
    )
    for name in IMAGES:
        source = np.asarray(Image.open(args.data / f"{name}.png").convert("L"))
        start = time.perf_counter()
        texture = efros_leung(
            source, args.size, window=args.window, seed=args.seed, source_size=args.source_size
        )
        seconds = time.perf_counter() - start
        print(f"{name:8s} {seconds:7.1f} s   output std {texture.std():5.1f}")
        if args.out is not None:
            Image.fromarray(texture).save(args.out / f"{name}_efros_leung.png")


if __name__ == "__main__":
    main()
