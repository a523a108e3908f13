"""Train the shipped Video PixelCNN on Moving MNIST within a CPU budget.

Moving MNIST as in Srivastava et al. 2015 (two digits bouncing, 20 frames), here at 32x32
frames (digits scaled to 14 pixels) so that a laptop CPU trains it; ``autoreg.data``
generates the training clips from MNIST's training digits with its documented seed.

    python experiments/train_video.py ../shared/data/mnist.npz runs/video --minutes 40

or continue from a checkpoint (the shipped one, say) with a new schedule:

    python experiments/train_video.py ../shared/data/mnist.npz runs/video2 \
        --init autoreg/assets/video_pixelcnn --steps 1600 --learning-rate 1e-3

Then ship it:

    python -c "import autoreg; autoreg.save_checkpoint(autoreg.load_checkpoint('runs/video'), \
'autoreg/assets/video_pixelcnn')"
"""

from __future__ import annotations

import argparse

import autoreg
from autoreg.data import load_moving_mnist
from autoreg.models.config_io import count_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", help="mnist.npz")
    parser.add_argument("workdir")
    parser.add_argument("--minutes", type=float, default=40.0, help="training time budget")
    parser.add_argument(
        "--size", type=int, default=32, help="a new model's frame side (--init: the checkpoint's)"
    )
    parser.add_argument("--clips", type=int, default=10_000, help="training clips")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5000, help="the schedule's length")
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="peak learning rate")
    parser.add_argument("--init", help="start from this checkpoint (default: a new model)")
    args = parser.parse_args()

    if args.init:
        model = autoreg.load_checkpoint(args.init)
    else:
        model = autoreg.create_model(
            "video_pixelcnn", preset="small", image_shape=(args.size, args.size, 1)
        )
    size = model.config.image_shape[0]  # --init: the checkpoint's frame size, not --size
    train_set = load_moving_mnist(args.mnist, split="train", num=args.clips, size=size)
    test_set = load_moving_mnist(args.mnist, split="test", num=64, size=size)
    print(f"{count_params(model):,} parameters; {train_set.examples.shape} training clips")
    config = autoreg.TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_steps=100,
        ema_decay=0.995,
        time_limit=args.minutes * 60,
        checkpoint_every=200,
        eval_every=400,
        eval_examples=32,
        sample_every=-1,
        log_every=20,
    )
    autoreg.train(model, train_set, test_set, workdir=args.workdir, config=config)


if __name__ == "__main__":
    main()
