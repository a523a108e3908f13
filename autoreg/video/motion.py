"""Are our models using motion? A video model against its own variants and simple predictors.

A model that uses motion finds the future likelier given the observed frames in their order
than given them shuffled, and likelier given them at all than with its context removed (its
decoder alone: a model of single frames). And its sampled futures beat predictors that know
no motion: the last observed frame repeated, an empty frame, and the nearest training clip's
continuation (Yuen & Torralba 2010, ``autoreg.video.nearest``).

``motion_report`` measures both, over clips whose first ``context`` frames are observed and
whose other frames are the truth to predict:

- nats per predicted frame (teacher-forced): observed frames in order, shuffled, and none;
- per predicted frame, the MSE and SSIM against the truth of one sample (the mean over the
  ``samples`` drawn per clip of each one's error), of the mean of the samples, and of the
  baselines. MSE is summed over a frame's pixels with intensities in [0, 1] and averaged over
  clips, as video-prediction papers report it for Moving MNIST (Srivastava et al. 2015); SSIM
  (Wang et al. 2004, scikit-image's) is per frame, averaged over clips.

``motion_figure`` draws the errors against the predicted frame, one line per predictor.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import ClassVar

import jax
import numpy as np
from flax import nnx

from autoreg.errors import InputError
from autoreg.likelihood import log_prob_per_position
from autoreg.memory import evaluation_batch
from autoreg.validation import check_count, check_examples

__all__ = ["MotionReport", "future_nats", "motion_evaluation", "motion_figure", "motion_report"]

SAMPLE, MEAN, NEAREST, LAST, EMPTY = (
    "sample",
    "mean of samples",
    "nearest",
    "last frame",
    "empty frame",
)
MAX_SSIM_WINDOW = 7  # scikit-image's default window side
DEFAULT_NEAREST_CLIPS = 1000  # Moving MNIST training sequences the nearest baseline searches


@dataclasses.dataclass(frozen=True)
class MotionReport:
    name: ClassVar[str] = "motion"  # its key in a JSON record of an evaluation

    """What ``motion_report`` measured.

    Attributes:
      context: observed frames per clip.
      frames: predicted frames per clip.
      clips: clips measured.
      samples: futures sampled per clip (0: none, only the baselines' errors).
      nats_per_frame: nats per predicted frame given the observed frames in order.
      nats_per_frame_shuffled: the same with each clip's observed frames shuffled.
      nats_per_frame_no_context: the same under the decoder alone (no observed frame).
      mse: predictor -> its MSE at each predicted frame (a list of ``frames``).
      ssim: predictor -> its SSIM at each predicted frame.
    """

    context: int
    frames: int
    clips: int
    samples: int
    nats_per_frame: float
    nats_per_frame_shuffled: float
    nats_per_frame_no_context: float
    mse: dict
    ssim: dict

    def as_dict(self) -> dict:
        """The fields as a dict (JSON-ready)."""
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """The report in lines of text: the likelihoods, then a table of each predictor's MSE
        and SSIM at each predicted frame."""
        out = [
            f"motion: {self.nats_per_frame:.2f} nats per predicted frame given the observed "
            f"frames in order, {self.nats_per_frame_shuffled:.2f} shuffled, "
            f"{self.nats_per_frame_no_context:.2f} with none ({self.context} observed, "
            f"{self.frames} predicted frames, {self.clips} clips)"
        ]
        header = " ".join(f"{f:>7d}" for f in range(1, self.frames + 1))
        for title, errors, form in (("MSE", self.mse, "7.2f"), ("SSIM", self.ssim, "7.4f")):
            out.append(f"{title + ' at predicted frame':<24s}{header}")
            out += [
                f"  {name:<22s}" + " ".join(f"{v:{form}}" for v in values)
                for name, values in errors.items()
            ]
        return out

    def figure(self, path) -> Path:
        """``motion_figure`` of this report."""
        return motion_figure(self, path)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _frame_nats(graphdef, state, x, alone: bool) -> jax.Array:
    """(B, T) negative log-likelihood of each frame of ``x`` (B, T, H, W, C) in nats."""
    model = nnx.merge(graphdef, state)
    logits = model.single_frame_logits(x) if alone else model(x)
    return -log_prob_per_position(logits, x).sum(axis=(2, 3, 4))


def future_nats(model, clips, context: int, *, alone: bool = False, batch_size: int = 64):
    """Nats per predicted frame of each clip: the frames after the first ``context``.

    Args:
      model: a video model.
      clips: (N, T, H, W, C) integers in 0..K-1, T > ``context``.
      context: the observed frames.
      alone: score each frame under the decoder alone (``single_frame_logits``).
      batch_size: clips per forward pass, at most (fewer if memory is short).

    Returns:
      (N,) float64: the mean over the predicted frames of their negative log-likelihood.
    """
    batch = evaluation_batch(model, len(clips), clips.shape[1:], batch_size)
    graphdef, state = nnx.split(model)
    nats = [
        np.asarray(_frame_nats(graphdef, state, clips[i : i + batch], alone), np.float64)
        for i in range(0, len(clips), batch)
    ]
    return np.concatenate(nats)[:, context:].mean(axis=1)


def shuffled(clips: np.ndarray, context: int, seed: int) -> np.ndarray:
    """``clips`` with each one's first ``context`` frames in another order (a random
    permutation, never the identity when ``context`` > 1)."""
    rng = np.random.default_rng(seed)
    out = clips.copy()
    for n in range(len(clips)):
        order = rng.permutation(context)
        if context > 1 and (order == np.arange(context)).all():
            order = np.roll(order, 1)
        out[n, :context] = clips[n, order]
    return out


def ssim_window(height: int, width: int) -> int:
    """The odd side of the SSIM window for frames of ``height`` x ``width`` (at most 7)."""
    side = min(MAX_SSIM_WINDOW, height, width)
    side -= 1 - side % 2
    if side < 3:
        raise InputError(f"SSIM needs frames of at least 3x3, got {height}x{width}")
    return side


def frame_errors(predicted: np.ndarray, truth: np.ndarray) -> tuple[list, list]:
    """(MSE, SSIM) at each predicted frame, averaged over clips.

    Args:
      predicted: (N, F, H, W, C) intensities in [0, 1].
      truth: the same shape.

    Returns:
      Two lists of F floats.
    """
    from skimage.metrics import structural_similarity

    mse = ((predicted - truth) ** 2).sum(axis=(2, 3, 4)).mean(axis=0)  # (F,)
    window = ssim_window(*truth.shape[2:4])
    ssim = [
        np.mean(
            [
                structural_similarity(p, t, data_range=1.0, channel_axis=-1, win_size=window)
                for p, t in zip(predicted[:, f], truth[:, f], strict=True)
            ]
        )
        for f in range(truth.shape[1])
    ]
    return [float(v) for v in mse], [float(v) for v in ssim]


def sampled_futures(model, key, clips, context: int, samples: int, progress: bool):
    """(N, samples, F, H, W, C) exact samples of each clip's frames after ``context``."""
    from autoreg.generate import complete

    x = np.repeat(clips, samples, axis=0)  # (N * S, T, H, W, C): clip n in rows n * S ...
    observed = np.zeros(x.shape, bool)
    observed[:, :context] = True  # a prefix of the data order: sampled exactly
    out = complete(model, key, x, observed, method="exact", progress=progress)
    return np.asarray(out)[:, context:].reshape(len(clips), samples, -1, *clips.shape[2:])


def predictions(model, key, clips, context, samples, train_clips, progress) -> dict:
    """Predictor -> its (N, F, H, W, C) predicted frames, or (N, S, F, ...) for ``SAMPLE``,
    as intensities in [0, 1]."""
    scale = 1.0 / (model.levels - 1)
    observed = clips[:, :context]
    frames = clips.shape[1] - context
    out = {
        LAST: np.repeat(observed[:, -1:], frames, axis=1) * scale,
        EMPTY: np.zeros(clips[:, context:].shape),
    }
    if train_clips is not None:
        from autoreg.video.nearest import nearest_futures

        found = nearest_futures(train_clips, observed, frames=frames, num=1, context=context)
        out[NEAREST] = found.futures[:, 0] * scale
    if samples:
        futures = sampled_futures(model, key, clips, context, samples, progress) * scale
        out[SAMPLE] = futures
        out[MEAN] = futures.mean(axis=1)
    return out


def predictor_errors(predicted: dict, truth: np.ndarray) -> tuple[dict, dict]:
    """Predictor -> its MSE, and predictor -> its SSIM, at each predicted frame; a sample's
    are each sample's errors averaged over the samples."""
    mse, ssim = {}, {}
    for name, frames in predicted.items():
        if name == SAMPLE:  # (N, S, F, H, W, C)
            errors = [frame_errors(frames[:, s], truth) for s in range(frames.shape[1])]
            mse[name] = np.mean([e[0] for e in errors], axis=0).tolist()
            ssim[name] = np.mean([e[1] for e in errors], axis=0).tolist()
        else:
            mse[name], ssim[name] = frame_errors(frames, truth)
    return mse, ssim


def motion_report(
    model,
    clips,
    *,
    context: int,
    samples: int = 0,
    key=0,
    train_clips=None,
    batch_size: int = 64,
    progress: bool = True,
) -> MotionReport:
    """The tests of motion on ``clips``: likelihoods, and the errors of sampled futures and of
    the baselines (module docstring).

    Args:
      model: a video model.
      clips: (N, T, H, W, C) integers in 0..K-1: ``context`` observed frames, then the
        ``T - context`` frames to predict.
      context: observed frames per clip, at least 1 and fewer than T.
      samples: futures sampled per clip (0: the likelihoods and the baselines only).
      key: a JAX PRNG key or an int seed, of the samples and of the shuffles.
      train_clips: (M, T', H, W, C) clips for the nearest-neighbour baseline (its database,
        T' >= T); None leaves that baseline out.
      batch_size: clips per forward pass of the likelihoods, at most.
      progress: show progress bars while sampling.

    Returns:
      A ``MotionReport``.

    Raises:
      InputError: clips the model does not take, a context out of 1..T-1, a negative count,
        frames too small for SSIM (3x3), or as for ``autoreg.complete`` and
        ``nearest_futures``.

    Examples:
      >>> from autoreg.video.motion import motion_report
      >>> model = autoreg.create_model("video_pixelcnn", preset="tiny", image_shape=(4, 4, 1),
      ...                              levels=4)
      >>> clips = np.random.default_rng(0).integers(0, 4, (2, 4, 4, 4, 1))
      >>> report = motion_report(model, clips, context=2, samples=2, progress=False)
      >>> report.frames, sorted(report.mse)
      (2, ['empty frame', 'last frame', 'mean of samples', 'sample'])
    """
    clips = np.asarray(clips)
    check_examples(model, clips, "clips")
    if (
        isinstance(context, bool)
        or not isinstance(context, int)
        or not 0 < context < clips.shape[1]
    ):
        raise InputError(f"context must be in 1..{clips.shape[1] - 1} frames, got {context!r}")
    samples = 0 if samples == 0 else check_count(samples, "samples")
    key = jax.random.key(key) if isinstance(key, int) else key
    seed = int(jax.random.randint(jax.random.fold_in(key, 1), (), 0, 2**31 - 1))
    clips = clips.astype(np.int32)
    nats = {
        name: float(future_nats(model, x, context, alone=alone, batch_size=batch_size).mean())
        for name, x, alone in (
            ("in order", clips, False),
            ("shuffled", shuffled(clips, context, seed), False),
            ("alone", clips, True),
        )
    }
    predicted = predictions(model, key, clips, context, samples, train_clips, progress)
    mse, ssim = predictor_errors(predicted, clips[:, context:] / (model.levels - 1))
    return MotionReport(
        context,
        clips.shape[1] - context,
        len(clips),
        samples,
        nats["in order"],
        nats["shuffled"],
        nats["alone"],
        mse,
        ssim,
    )


def motion_figure(report: MotionReport, path) -> Path:
    """A PNG of the MSE and SSIM against the predicted frame, one line per predictor.

    Args:
      report: a ``MotionReport`` (with the errors of some predictor).
      path: the PNG file to write (atomically, as ``autoreg.image_io.save_picture`` does).

    Returns:
      ``path``.
    """
    from autoreg.figures import figure_pixels, new_figure
    from autoreg.image_io import save_picture

    figure = new_figure(900, 360)
    axes = figure.subplots(1, 2)
    steps = np.arange(1, report.frames + 1)
    for ax, (title, errors) in zip(axes, (("MSE", report.mse), ("SSIM", report.ssim)), strict=True):
        for name, values in errors.items():
            ax.plot(steps, values, marker="o", label=name)
        ax.set(xlabel="predicted frame", ylabel=title, title=f"{title} per frame", xticks=steps)
    axes[0].legend(fontsize="small")
    return save_picture(figure_pixels(figure), Path(path), 1)


def motion_evaluation(
    model,
    dataset,
    source,
    *,
    context: int | None = None,
    futures: int | None = None,
    nearest_clips: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> MotionReport:
    """``motion_report`` of a video model on the clips it was evaluated on (``autoreg eval``).

    Args:
      model: a video model.
      dataset: the ``Dataset`` of clips it was evaluated on.
      source: where they came from; for Moving MNIST, its training sequences are the nearest
        neighbours' database (a set of clips is its own test split: no baseline from it).
      context: observed frames per clip (default: half of each clip).
      futures: futures sampled per clip (default: none).
      nearest_clips: training sequences the nearest-neighbour baseline searches (default
        ``DEFAULT_NEAREST_CLIPS``; 0: no such baseline).
      seed: seed of the samples and of the shuffles.
      progress: show progress bars.

    Returns:
      The ``MotionReport``.
    """
    from autoreg.data import load_for_model
    from autoreg.data.video import moving_mnist_path

    clips = dataset.examples
    context = clips.shape[1] // 2 if context is None else context
    train = None
    if moving_mnist_path(source) is not None and nearest_clips != 0:
        limit = DEFAULT_NEAREST_CLIPS if nearest_clips is None else nearest_clips
        train = load_for_model(model, source, split="train", limit=limit).examples
    return motion_report(
        model,
        clips,
        context=context,
        samples=futures or 0,
        key=seed,
        train_clips=train,
        progress=progress,
    )
