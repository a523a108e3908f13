"""Efros & Leung (1999), "Texture Synthesis by Non-parametric Sampling", vectorised with NumPy.

The texture grows pixel by pixel from a small seed patch cut from the source. Each pass takes the
layer of unfilled pixels that touch the filled region, most-constrained first (the most filled
pixels in their window). For each pixel, the known part of its ``window x window`` neighbourhood
is compared with every complete neighbourhood of the source under a Gaussian-weighted sum of
squared differences (SSD); the pixel copies the centre of a source neighbourhood drawn uniformly
among those within ``(1 + error_threshold)`` of the best match. A pixel whose best match is worse
than ``max_error`` waits; when a whole pass fills nothing, ``max_error`` grows by 10 %.

The SSD against all source windows at once is one matrix-vector product: with weights ``g``
(Gaussian times the known-pixel mask) and template ``t``, ``sum g (t - s)^2 = [s^2, s] @ [g,
-2 g t] + sum g t^2``, where the rows ``[s^2, s]`` of every source window are computed once.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

from autoreg.texture.source import downscale


def efros_leung(
    source: np.ndarray,
    size: int | tuple[int, int],
    *,
    window: int = 11,
    seed: int = 0,
    error_threshold: float = 0.1,
    max_error: float = 0.3,
    source_size: int | None = 128,
    seed_size: int = 3,
) -> np.ndarray:
    """Synthesise a texture like ``source`` by Efros-Leung non-parametric sampling.

    Args:
      source: (H, W) or (H, W, C) uint8 example texture.
      size: output side ``n`` (an n x n texture) or ``(height, width)``.
      window: odd side of the square neighbourhood compared; it should span the texture's
        largest regular feature (at the working resolution set by ``source_size``).
      seed: seed of the random generator: same arguments and seed, same texture.
      error_threshold: epsilon; candidates are source windows whose SSD is at most
        ``(1 + epsilon)`` times the best one.
      max_error: a pixel is filled only when its best normalised SSD (intensities in [0, 1]) is
        below this; raised by 10 % whenever a pass fills nothing.
      source_size: the source is first downscaled (box filter) so that its longer side is at
        most this many pixels; None uses it as it is. The search costs time proportional to the
        number of source pixels, and downscaling makes the features fit the window.
      seed_size: side of the square seed patch, cut at random from the source and placed at
        the centre of the output.

    Returns:
      (height, width) or (height, width, C) uint8 texture (the source's number of axes); every
      value is a pixel of the (downscaled) source.

    Raises:
      ValueError: a source that is not uint8 (H, W[, C]) or is smaller than the window; a bad
        size, window, threshold or source_size.

    Example:
      >>> brick = np.asarray(Image.open("brick.png"))
      >>> texture = efros_leung(brick, 96, window=11, source_size=128)
    """
    source, height, width = _check_arguments(
        source, size, window, error_threshold, max_error, source_size, seed_size
    )
    squeeze = source.ndim == 2
    src = downscale(source if source.ndim == 3 else source[..., None], source_size)  # (h, w, C)
    if min(src.shape[:2]) < window:
        raise ValueError(
            f"the source ({src.shape[0]}x{src.shape[1]} after downscaling) is smaller than the "
            f"{window}x{window} window; use a smaller window or a larger source_size"
        )
    rng = np.random.default_rng(seed)
    radius = window // 2
    channels = src.shape[2]

    # Every complete source window, flattened: (N, L) with L = window * window * C.
    windows = sliding_window_view(src.astype(np.float32) / 255.0, (window, window), axis=(0, 1))
    windows = windows.transpose(0, 1, 3, 4, 2).reshape(-1, window * window * channels)
    centres = src[radius : src.shape[0] - radius, radius : src.shape[1] - radius]
    centres = centres.reshape(-1, channels)  # (N, C) uint8, the value each window offers
    design = np.ascontiguousarray(np.concatenate([windows * windows, windows], axis=1))  # (N, 2L)
    gauss = np.repeat(gaussian_window(window).reshape(-1), channels)  # (L,)

    # The canvas, padded by the window radius so that every neighbourhood is a plain slice.
    canvas = np.zeros((height + 2 * radius, width + 2 * radius, channels), np.float32)
    filled = np.zeros(canvas.shape[:2], bool)
    out = np.zeros((height, width, channels), np.uint8)
    _place_seed(src, out, canvas, filled, radius, seed_size, rng)

    box = np.ones((window, window))
    inner = filled[radius : radius + height, radius : radius + width]  # a view of the output
    while not inner.all():
        frontier = ndimage.binary_dilation(inner, np.ones((3, 3), bool)) & ~inner  # this layer
        counts = ndimage.convolve(inner.astype(np.float64), box, mode="constant")  # known nbrs
        ys, xs = np.nonzero(frontier)
        order = rng.permutation(len(ys))
        order = order[np.argsort(-counts[ys[order], xs[order]], kind="stable")]
        progress = False
        for y, x in zip(ys[order], xs[order], strict=True):
            template = canvas[y : y + window, x : x + window].reshape(-1)  # (L,)
            known = np.repeat(filled[y : y + window, x : x + window].reshape(-1), channels)
            choice, best = match(design, windows, template, gauss * known, error_threshold, rng)
            if best > max_error:
                continue
            out[y, x] = centres[choice]
            canvas[y + radius, x + radius] = centres[choice] / 255.0
            filled[y + radius, x + radius] = True
            progress = True
        if not progress:
            max_error *= 1.1
    return out[..., 0] if squeeze else out


def match(design, windows, template, weights, error_threshold, rng) -> tuple[int, float]:
    """Draw a source window among the best matches of a partly known template.

    Args:
      design: (N, 2L) float32 rows ``[s^2, s]`` of the source windows.
      windows: (N, L) float32 source windows ``s``.
      template: (L,) float32 neighbourhood (any value where unknown).
      weights: (L,) Gaussian weights times the known mask.
      error_threshold: epsilon of the ``(1 + epsilon) * best`` cut.
      rng: NumPy generator.

    Returns:
      The index of the drawn window and the best normalised SSD.
    """
    total = weights.sum()
    wt = weights * template
    # float32 pass over all windows, then exact float64 SSD on the near-best ones. np.einsum
    # rather than ``@``: a matrix-vector product is memory-bound, and multi-threaded BLAS on a
    # busy machine makes it ten times slower, not faster.
    ssd = np.einsum("nl,l->n", design, np.concatenate([weights, -2.0 * wt]).astype(np.float32))
    ssd = np.maximum(ssd + float(wt @ template), 0.0) / total
    near = np.flatnonzero(ssd <= ssd.min() * (1.0 + error_threshold) + 1e-5)
    diff = windows[near].astype(np.float64) - template
    exact = (diff * diff) @ weights / total  # (n,)
    best = exact.min()
    candidates = near[exact <= best * (1.0 + error_threshold) + 1e-12]
    return int(rng.choice(candidates)), float(best)


def gaussian_window(window: int) -> np.ndarray:
    """(window, window) Gaussian weights with sigma = window / 6.4, as in the paper."""
    sigma = window / 6.4
    r = np.arange(window) - window // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2.0 * sigma**2))
    return g / g.sum()


def _place_seed(src, out, canvas, filled, radius, seed_size, rng) -> None:
    """Copy a random ``seed_size`` square of the source to the centre of the output."""
    height, width = out.shape[:2]
    sh, sw = min(seed_size, height, src.shape[0]), min(seed_size, width, src.shape[1])
    sy = rng.integers(0, src.shape[0] - sh + 1)
    sx = rng.integers(0, src.shape[1] - sw + 1)
    oy, ox = (height - sh) // 2, (width - sw) // 2
    patch = src[sy : sy + sh, sx : sx + sw]
    out[oy : oy + sh, ox : ox + sw] = patch
    canvas[radius + oy : radius + oy + sh, radius + ox : radius + ox + sw] = patch / 255.0
    filled[radius + oy : radius + oy + sh, radius + ox : radius + ox + sw] = True


def _check_arguments(source, size, window, error_threshold, max_error, source_size, seed_size):
    if not isinstance(source, np.ndarray) or source.dtype != np.uint8:
        raise ValueError(
            f"source must be a uint8 NumPy array, got {getattr(source, 'dtype', type(source))}"
        )
    if source.ndim not in (2, 3) or (source.ndim == 3 and not 1 <= source.shape[2] <= 4):
        raise ValueError(f"source must be (H, W) or (H, W, C) with C <= 4, got {source.shape}")
    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        size = (int(size), int(size))
    if not (
        isinstance(size, tuple | list)
        and len(size) == 2
        and all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in size)
        and min(size) >= 1
    ):
        raise ValueError(f"size must be a positive int or (height, width), got {size!r}")
    if not isinstance(window, int | np.integer) or window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 3, got {window!r}")
    if not (isinstance(error_threshold, int | float) and error_threshold >= 0):
        raise ValueError(f"error_threshold must be a number >= 0, got {error_threshold!r}")
    if not (isinstance(max_error, int | float) and max_error > 0):
        raise ValueError(f"max_error must be a positive number, got {max_error!r}")
    if source_size is not None and (
        not isinstance(source_size, int | np.integer) or source_size < window
    ):
        raise ValueError(f"source_size must be None or an integer >= window, got {source_size!r}")
    if not isinstance(seed_size, int | np.integer) or seed_size < 1:
        raise ValueError(f"seed_size must be a positive integer, got {seed_size!r}")
    if min(source.shape[:2]) < window:
        raise ValueError(
            f"source of shape {source.shape} is smaller than the {window}x{window} window"
        )
    return source, int(size[0]), int(size[1])
