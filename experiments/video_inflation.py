"""What inflation buys: a Video PixelCNN started from the shipped Gated PixelCNN against the
same model from random parameters, trained for the same steps on Moving MNIST 32x32.

Both models have the shipped image model's decoder (64 features, 7 layers) and the shipped
video model's context (``small``); the inflated one's decoder starts as the trained image
model (``autoreg.video.inflate``), the other's at random. Each trains for ``--steps`` steps of
``--batch`` clips of ``--frames`` frames on one machine, one after the other, and the test
nats per frame of ``--test-clips`` clips are written every ``--eval-every`` steps: a
learning curve per start, in ``results/video_inflation_cpu.{json,md}``.

    python experiments/video_inflation.py ../shared/data/mnist.npz --steps 300
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import tempfile
import time
from pathlib import Path

import autoreg
from autoreg.data import load_for_training
from autoreg.pretrained import load_pretrained
from autoreg.registry import make_config
from autoreg.video.inflation import DECODER_FIELDS, inflate

RESULTS = Path(__file__).parent / "results"


def curve(model, train_set, test_set, args) -> list[dict]:
    """Train ``model``; (step, seconds, test nats per frame) at each evaluation."""
    config = autoreg.TrainConfig(
        steps=args.steps,
        batch_size=args.batch,
        learning_rate=args.learning_rate,
        warmup_steps=10,
        eval_every=args.eval_every,
        eval_examples=len(test_set),
        checkpoint_every=args.steps,
        sample_every=-1,
        log_every=args.eval_every,
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        autoreg.train(model, train_set, test_set, workdir=workdir, config=config, progress=False)
        lines = (Path(workdir) / "metrics.jsonl").read_text().splitlines()
    seconds = time.perf_counter() - start
    dims = math.prod(test_set.examples.shape[2:])  # per frame
    points = [
        {"step": r["step"], "test_nats_per_frame": r["test_bits_per_dim"] * dims * math.log(2)}
        for r in map(json.loads, lines)
        if "test_bits_per_dim" in r
    ]
    return [{**p, "seconds": round(seconds * p["step"] / args.steps)} for p in points]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", help="the MNIST .npz the sequences are made from")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--train-clips", type=int, default=2000)
    parser.add_argument("--test-clips", type=int, default=32)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    args = parser.parse_args()

    image = load_pretrained("gated_pixelcnn")
    decoder = {name: getattr(image.config, name) for name in DECODER_FIELDS}
    config = make_config("video_pixelcnn", "small", frames=args.frames, **decoder)
    source = f"moving_mnist:{args.mnist}"
    train_set, test_set = load_for_training(
        source, config, kind="video", levels=256, num=args.train_clips
    )
    test_set = test_set.take(args.test_clips)
    starts = {
        "inflated from the shipped gated_pixelcnn": lambda: inflate(
            image, preset="small", frames=args.frames
        ),
        "random": lambda: autoreg.create_model(
            "video_pixelcnn", preset="small", frames=args.frames, **decoder
        ),
    }
    curves = {name: curve(build(), train_set, test_set, args) for name, build in starts.items()}
    RESULTS.mkdir(exist_ok=True)
    record = {
        "machine": f"{platform.processor() or platform.machine()}, CPU",
        "settings": vars(args),
        "curves": curves,
    }
    (RESULTS / "video_inflation_cpu.json").write_text(json.dumps(record, indent=2))
    steps = [p["step"] for p in next(iter(curves.values()))]
    rows = [
        f"| {name} | " + " | ".join(f"{p['test_nats_per_frame']:.1f}" for p in points) + " |"
        for name, points in curves.items()
    ]
    table = "\n".join(
        [
            "| start | " + " | ".join(f"step {s}" for s in steps) + " |",
            "|---|" + "---|" * len(steps),
            *rows,
        ]
    )
    seconds = {name: points[-1]["seconds"] for name, points in curves.items()}
    text = (
        "# Inflation: test nats per frame against training steps\n\n"
        f"Moving MNIST 32x32, {args.frames}-frame clips, batch {args.batch}, "
        f"{args.train_clips} training and {args.test_clips} test sequences, one CPU run; "
        f"seconds of training: {seconds}.\n\n{table}\n"
    )
    (RESULTS / "video_inflation_cpu.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
