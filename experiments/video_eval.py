"""Evaluate a Video PixelCNN on the Moving MNIST test split in the protocol of the VPN paper.

Kalchbrenner et al. 2016 ("Video Pixel Networks", section on Moving MNIST): 20-frame clips of
two digits from MNIST's test set, 10 frames observed and 10 predicted; "for this dataset only"
the loss is the sigmoid cross-entropy of prior work (Srivastava et al. 2015) with the grey
levels as targets, ``H(z, y) = -sum_i z_i log y_i + (1 - z_i) log(1 - y_i)`` over a frame's
pixels, in nats per predicted frame. The targets are not binary, so even a perfect prediction
(``y = z``) costs their entropy: the paper's lower bound, 86.3 nats/frame at 64x64.

Our model is a 256-way softmax (the exact discrete likelihood). Each pixel's predictive
probability of "on" for the VPN loss is its predictive mean grey level, ``y_i = E[v_i] / 255``
under the model's conditional given every earlier position (the teacher-forced conditional, as
the VPN's loss is computed). The script prints, over the 10 predicted frames:

- the VPN loss of the model, and the lower bound on the same clips (``y = z``);
- the same lower bound at 64x64, as a check of our Moving MNIST against the paper's 86.3;
- the model's own negative log-likelihood, in nats per frame and bits per dim (256 levels).

    python experiments/video_eval.py video_pixelcnn ../shared/data/mnist.npz --clips 1000
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import autoreg
from autoreg.data import load_moving_mnist
from autoreg.pretrained import SHIPPED, load_pretrained

CONTEXT = 10  # observed frames; the next 10 are scored
TINY = 1e-7  # keeps log(y) finite where a prediction is exactly 0 or 1


def sigmoid_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-frame ``-sum z log y + (1 - z) log(1 - y)``: (..., H, W, C) -> (...,) nats."""
    y = np.clip(y, TINY, 1 - TINY)
    h = -(z * np.log(y) + (1 - z) * np.log(1 - y))
    return h.reshape(*h.shape[:-3], -1).sum(-1)


def lower_bound(mnist: str, size: int, clips: int) -> float:
    """The VPN's lower bound on ``clips`` test clips at ``size``: the targets' own entropy."""
    test = load_moving_mnist(mnist, split="test", num=clips, size=size).examples
    z = test[:, CONTEXT:].astype(np.float64) / 255.0
    return float(sigmoid_cross_entropy(z, z).mean())


def score(model, clips: np.ndarray, batch: int) -> dict:
    """VPN loss, lower bound and the model's NLL over the predicted frames of ``clips``."""
    levels = model.levels
    grey = jnp.arange(levels, dtype=jnp.float32) / (levels - 1)

    @jax.jit
    def predict(x):  # (B, T, H, W, C) -> mean grey (B, T', H, W, C), NLL (B, T')
        log_p = jax.nn.log_softmax(model(x)[:, CONTEXT:], axis=-1)  # (B, T', H, W, C, K)
        mean = (jnp.exp(log_p) * grey).sum(-1)
        picked = jnp.take_along_axis(log_p, x[:, CONTEXT:, ..., None], axis=-1)[..., 0]
        return mean, -picked.reshape(*picked.shape[:2], -1).sum(-1)

    losses, bounds, nlls = [], [], []
    for start in range(0, len(clips), batch):
        x = clips[start : start + batch].astype(np.int32)
        mean, nll = (np.asarray(a, np.float64) for a in predict(jnp.asarray(x)))
        z = x[:, CONTEXT:].astype(np.float64) / (levels - 1)
        losses.append(sigmoid_cross_entropy(z, mean))
        bounds.append(sigmoid_cross_entropy(z, z))
        nlls.append(nll)
    pixels = int(np.prod(clips.shape[2:]))
    nll = float(np.concatenate(nlls).mean())
    return {
        "vpn_loss_nats_per_frame": float(np.concatenate(losses).mean()),
        "lower_bound_nats_per_frame": float(np.concatenate(bounds).mean()),
        "nll_nats_per_frame": nll,
        "bits_per_dim": nll / pixels / np.log(2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "checkpoint", help="a Video PixelCNN checkpoint or work directory, or video_pixelcnn"
    )
    parser.add_argument("mnist", help="mnist.npz")
    parser.add_argument("--clips", type=int, default=1000, help="test clips scored")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    if args.checkpoint in SHIPPED:
        model = load_pretrained(args.checkpoint)
    else:
        model = autoreg.load_checkpoint(args.checkpoint)
    size = model.config.image_shape[0]
    test = load_moving_mnist(args.mnist, split="test", num=args.clips, size=size).examples
    started = time.perf_counter()
    figures = score(model, test, args.batch_size)
    figures.update(
        clips=args.clips,
        frame_size=size,
        seconds=round(time.perf_counter() - started, 1),
        lower_bound_64x64_nats_per_frame=lower_bound(args.mnist, 64, args.clips),
        vpn_paper={"vpn": 87.6, "lower_bound": 86.3, "frame_size": 64},
    )
    print(json.dumps(figures, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
