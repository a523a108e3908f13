"""The Complete tab: hide part of an image and let a model fill it in.

The hidden region is the bottom half, the right half, a box, or a painted region; the
completion is exact when the hidden region is a suffix of the raster order, else sequential
Monte Carlo (``autoreg.complete``). The observed pixels come back unchanged.

How many particles a request may ask for is set from what a completion of the model costs on
this machine, measured (``measure_completion_cost``, when the page warms up): at most
``TIME_BUDGET`` seconds for the request (``particle_limit``).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import numpy as np

from autoreg.demo.inputs import batch_labels
from autoreg.errors import InputError
from autoreg.generate import complete, completion_method
from autoreg.image_io import completion_grid, picture_scale, upscale
from autoreg.memory import completion_plan
from autoreg.occlusion import occlusion_mask
from autoreg.rules import one_of

HIDDEN_REGIONS = ("bottom half", "right half", "box", "painted")
MAX_COUNT = 16  # completions one request may ask for
MAX_PARTICLES = 256  # SMC particles per completion, whatever the machine
TIME_BUDGET = 60.0  # seconds a completion request may be expected to take
DISPLAY_WIDTH = 768  # pixels: the grid is upscaled to at least this width


@dataclass(frozen=True)
class Completions:
    """What the Complete tab shows."""

    completions: np.ndarray  # (N, H, W, C) integers in 0..K-1
    observed: np.ndarray  # (H, W) bool: the pixels kept
    grid: np.ndarray  # (h, w, 3) uint8: occluded input (hidden magenta), completions, original
    scale: int  # the grid's upscaling factor
    method: str  # "smc", or the sampler that completed exactly (e.g. "cached")
    seconds: float


def observed_mask(hidden: str, height: int, width: int, *, box=None, painted=None) -> np.ndarray:
    """(H, W) bool mask of the OBSERVED pixels.

    Args:
      hidden: one of ``HIDDEN_REGIONS``.
      box: for ``"box"``: (y0, x0, y1, x1), rows y0..y1-1 and columns x0..x1-1 hidden.
      painted: for ``"painted"``: (h, w) bool, the painted region at the model's size.

    Raises:
      InputError: an unknown region, a bad box, no painted pixel, or nothing left observed.
    """
    if hidden == "bottom half":
        return occlusion_mask("bottom", height, width)
    if hidden == "right half":
        return occlusion_mask("right", height, width)
    if hidden == "box":
        if box is None or len(box) != 4:
            raise InputError("a box needs four numbers: Y0, X0, Y1, X1")
        return occlusion_mask("box:" + ",".join(str(int(v)) for v in box), height, width)
    if hidden != "painted":
        one_of(HIDDEN_REGIONS).check(hidden, "hidden region")
    if painted is None or not np.any(painted):
        raise InputError("paint the region to hide on the mask canvas first")
    observed = ~np.asarray(painted, bool)
    if not observed.any():
        raise InputError("the painted region hides the whole image; leave some pixels visible")
    return observed


def complete_image(
    model,
    image: np.ndarray,
    observed: np.ndarray,
    *,
    count: int = 4,
    method: str = "auto",
    particles: int = 16,
    seed: int = 0,
    label: int | None = None,
    max_particles: int = MAX_PARTICLES,
    on_progress: Callable[[float, str], None] | None = None,
) -> Completions:
    """Complete the hidden pixels of one image ``count`` times.

    Args:
      model: an image model.
      image: (H, W, C) integers in 0..K-1 of the model's shape.
      observed: (H, W) bool, the pixels kept.
      count: completions, 1..``MAX_COUNT``.
      method: ``"auto"``, ``"exact"`` or ``"smc"`` (see ``autoreg.complete``).
      particles: SMC particles per completion, 1..``max_particles``.
      seed: the PRNG seed.
      label: the class of a class-conditional model (ignored by an unconditional one).
      max_particles: the most particles this request may use (``particle_limit``).
      on_progress: called with ``(fraction done, text)`` after each row completed.

    Returns:
      The completions, the mask, the grid of the Complete tab, the method used and the time.

    Raises:
      InputError: counts out of range, a bad method or label, or a request over the memory
        limit (``autoreg.errors.MemoryBudgetError``).
    """
    count, particles = int(count), int(particles)
    if not 1 <= count <= MAX_COUNT:
        raise InputError(f"count must be in 1..{MAX_COUNT}, got {count}")
    if not 1 <= particles <= max_particles:
        raise InputError(
            f"particles must be in 1..{max_particles} for {count} completions with "
            f"{model.name} here (a request is kept to about {TIME_BUDGET:.0f} s), got {particles}"
        )
    shape = model.event_shape()
    used = completion_method(model, observed[None, :, :, None], method)
    completion_plan(model, count, shape, used, particles)
    labels = batch_labels(model, label, count)
    start = time.perf_counter()
    completions = np.asarray(
        complete(
            model,
            jax.random.key(int(seed)),
            np.repeat(image[None], count, axis=0),
            observed,
            labels=labels,
            method=method,
            particles=particles,
            progress=False,
            on_progress=on_progress,
        )
    )
    seconds = time.perf_counter() - start
    grid = completion_grid(image[None], completions[None], observed, model.levels)
    scale = picture_scale(grid.shape, -(-DISPLAY_WIDTH // grid.shape[1]))
    return Completions(completions, observed, upscale(grid, scale), scale, used, seconds)


def measure_completion_cost(model, *, count: int = 4, particles: int = 16) -> float:
    """Seconds per chain and row that SMC completion of ``model`` takes on this machine.

    Completes a blank image with the right half hidden, ``count`` times with ``particles``
    particles each, twice: the first run compiles (and warms up the page's default request),
    the second is timed.

    Args:
      model: an image model.
      count: completions per request.
      particles: particles per completion.

    Returns:
      The measured seconds divided by ``count * particles`` chains and H rows.
    """
    height, width, _ = model.event_shape()
    image = np.zeros(model.event_shape(), np.int32)
    observed = occlusion_mask("right", height, width)
    label = 0 if model.num_classes else None
    run = functools.partial(
        complete_image,
        model,
        image,
        observed,
        count=count,
        method="smc",
        particles=particles,
        label=label,
    )
    run()
    return run().seconds / (count * particles * height)


def particle_limit(seconds_per_chain_row: float, count: int, rows: int) -> int:
    """The most particles per completion that keep ``count`` completions of ``rows`` rows
    within ``TIME_BUDGET`` seconds at the measured cost (1..``MAX_PARTICLES``).

    Examples:
      >>> from autoreg.demo.complete import particle_limit
      >>> particle_limit(1e-4, count=4, rows=28)  # 60 s / (4 * 28 * 1e-4 s) = 5357: capped
      256
      >>> particle_limit(0.01, count=4, rows=28)
      53
    """
    chains = TIME_BUDGET / (seconds_per_chain_row * max(1, count) * rows)
    return int(min(MAX_PARTICLES, max(1, math.floor(chains))))
