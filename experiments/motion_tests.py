"""The tests of motion of a video model on Moving MNIST test clips, written to results/.

Whether the model's futures use motion: its likelihood of the predicted frames given the
observed ones in order, shuffled and removed, and the per-frame MSE and SSIM of its sampled
futures against the last observed frame, an empty frame and the nearest training clip
(``autoreg.video.motion``). One run, one machine:

    python experiments/motion_tests.py video_pixelcnn ../shared/data/mnist.npz --futures 4
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import autoreg
from autoreg.data import load_for_model
from autoreg.pretrained import load_pretrained
from autoreg.video.motion import motion_evaluation

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a shipped model name or a checkpoint directory")
    parser.add_argument("mnist", help="the MNIST .npz the sequences are made from")
    parser.add_argument("--clips", type=int, default=100, help="test clips (default 100)")
    parser.add_argument("--context", type=int, default=10, help="observed frames (default 10)")
    parser.add_argument("--futures", type=int, default=4, help="samples per clip (default 4)")
    parser.add_argument("--nearest-clips", type=int, default=1000)
    parser.add_argument("--out", default="motion_tests_cpu", help="name of the results files")
    args = parser.parse_args()

    model = (
        autoreg.load_checkpoint(args.model)
        if Path(args.model).exists()
        else load_pretrained(args.model)
    )
    source = f"moving_mnist:{args.mnist}"
    clips = load_for_model(model, source, split="test", limit=args.clips)
    start = time.perf_counter()
    report = motion_evaluation(
        model,
        clips,
        source,
        context=args.context,
        futures=args.futures,
        nearest_clips=args.nearest_clips,
    )
    seconds = time.perf_counter() - start
    lines = report.lines()
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    record = {
        "model": args.model,
        "source": source,
        "machine": f"{platform.processor() or platform.machine()}, CPU",
        "seconds": round(seconds, 1),
        **report.as_dict(),
    }
    (RESULTS / f"{args.out}.json").write_text(json.dumps(record, indent=2))
    table = "\n".join(["```", *lines, "```"])
    (RESULTS / f"{args.out}.md").write_text(
        f"# Tests of motion: {args.model} on {args.clips} Moving MNIST test clips\n\n"
        f"{args.context} observed frames, {report.frames} predicted, {args.futures} futures "
        f"per clip, nearest neighbours among {args.nearest_clips} training sequences; "
        f"{seconds:.0f} s on this machine's CPU. MSE: summed over a frame's pixels with "
        f"intensities in [0, 1], averaged over clips; SSIM per frame, averaged.\n\n{table}\n"
    )
    report.figure(RESULTS / f"{args.out}.png")


if __name__ == "__main__":
    main()
