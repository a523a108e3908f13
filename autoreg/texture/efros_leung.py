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

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

from autoreg.errors import InputError
from autoreg.memory import check_fits, efros_leung_bytes
from autoreg.texture.source import working_source
from autoreg.validation import check_count


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
      InputError: a source that is not uint8 (H, W[, C]) or is smaller than the window; a bad
        size, window, threshold or source_size; a ``MemoryBudgetError`` for a texture too
        large for memory.

    Example:
      >>> brick = np.random.default_rng(0).integers(0, 256, (24, 24, 3), dtype=np.uint8)
      >>> efros_leung(brick, 16, window=5).shape  # for a photograph: window=11, source_size=128
      (16, 16, 3)
    """
    source, height, width = _check_arguments(
        source, size, window, error_threshold, max_error, source_size, seed_size
    )
    channels = source.shape[2] if source.ndim == 3 else 1
    what = f"an Efros-Leung texture of {height}x{width} pixels"
    check_fits(what, efros_leung_bytes(height, width, channels, window))
    squeeze = source.ndim == 2
    src = _working_source(source, window, source_size)  # (h, w, C)
    rng = np.random.default_rng(seed)
    table = patch_table(src, window)
    canvas = Canvas.empty(height, width, src.shape[2], window // 2)
    _place_seed(src, canvas, seed_size, rng)
    _grow(canvas, table, error_threshold, max_error, rng)
    return canvas.out[..., 0] if squeeze else canvas.out


class PatchTable(NamedTuple):
    """Every complete ``window x window`` neighbourhood of the source, ready for the SSD search.

    N is the number of complete windows, L = window * window * C the length of one flattened.
    """

    windows: np.ndarray  # (N, L) float32 neighbourhoods ``s``, intensities in [0, 1]
    design: np.ndarray  # (N, 2L) float32 rows ``[s^2, s]``
    centres: np.ndarray  # (N, C) uint8, the value each neighbourhood offers
    gauss: np.ndarray  # (L,) Gaussian weight of each entry of a flattened window


class Canvas(NamedTuple):
    """The texture being grown, padded by the window radius so every neighbourhood is a slice."""

    out: np.ndarray  # (height, width, C) uint8, the texture
    values: np.ndarray  # (height + 2r, width + 2r, C) float32 known intensities in [0, 1]
    filled: np.ndarray  # (height + 2r, width + 2r) bool, which pixels of ``values`` are known
    radius: int  # r = window // 2

    @classmethod
    def empty(cls, height: int, width: int, channels: int, radius: int) -> Canvas:
        """A canvas with nothing filled."""
        values = np.zeros((height + 2 * radius, width + 2 * radius, channels), np.float32)
        filled = np.zeros(values.shape[:2], bool)
        out = np.zeros((height, width, channels), np.uint8)
        return cls(out, values, filled, radius)

    @property
    def window(self) -> int:
        """Side of the neighbourhoods compared."""
        return 2 * self.radius + 1

    @property
    def inner(self) -> np.ndarray:
        """(height, width) bool view of ``filled`` without the padding: the pixels done."""
        height, width = self.out.shape[:2]
        return self.filled[self.radius : self.radius + height, self.radius : self.radius + width]


def _working_source(source: np.ndarray, window: int, source_size: int | None) -> np.ndarray:
    """(H, W[, C]) uint8 -> (h, w, C) downscaled source, checked to hold a whole window."""
    src = working_source(source, source_size)  # (h, w, C)
    if min(src.shape[:2]) < window:
        raise InputError(
            f"the source ({src.shape[0]}x{src.shape[1]} after downscaling) is smaller than the "
            f"{window}x{window} window; use a smaller window or a larger source_size"
        )
    return src


def patch_table(src: np.ndarray, window: int) -> PatchTable:
    """The table of every complete ``window x window`` neighbourhood of an (h, w, C) source."""
    radius = window // 2
    channels = src.shape[2]
    windows = sliding_window_view(src.astype(np.float32) / 255.0, (window, window), axis=(0, 1))
    windows = windows.transpose(0, 1, 3, 4, 2).reshape(-1, window * window * channels)  # (N, L)
    centres = src[radius : src.shape[0] - radius, radius : src.shape[1] - radius]
    centres = centres.reshape(-1, channels)  # (N, C)
    design = np.ascontiguousarray(np.concatenate([windows * windows, windows], axis=1))  # (N, 2L)
    gauss = np.repeat(gaussian_window(window).reshape(-1), channels)  # (L,)
    return PatchTable(windows, design, centres, gauss)


def _grow(canvas: Canvas, table: PatchTable, error_threshold: float, max_error: float, rng) -> None:
    """Fill the canvas pass by pass; raise ``max_error`` by 10 % after a pass that fills nothing."""
    inner = canvas.inner  # (height, width) view: fills show through
    while not inner.all():
        ys, xs = _frontier(inner, canvas.window, rng)
        progress = False
        for y, x in zip(ys, xs, strict=True):
            progress |= _fill_pixel(canvas, table, y, x, error_threshold, max_error, rng)
        if not progress:
            max_error *= 1.1


def _frontier(inner: np.ndarray, window: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """The unfilled pixels touching the filled region, most known neighbours first.

    Args:
      inner: (height, width) bool, the pixels filled so far.
      window: side of the neighbourhood whose known pixels are counted.
      rng: NumPy generator; ties are broken in a random order.

    Returns:
      (n,) rows and (n,) columns of the frontier pixels, in the order to fill them.
    """
    frontier = ndimage.binary_dilation(inner, np.ones((3, 3), bool)) & ~inner  # this layer
    box = np.ones((window, window))
    counts = ndimage.convolve(inner.astype(np.float64), box, mode="constant")  # known nbrs
    ys, xs = np.nonzero(frontier)
    order = rng.permutation(len(ys))
    order = order[np.argsort(-counts[ys[order], xs[order]], kind="stable")]
    return ys[order], xs[order]


def _fill_pixel(canvas, table, y, x, error_threshold, max_error, rng) -> bool:
    """Copy a matching source centre to output pixel (y, x) if its best match is good enough.

    Returns:
      Whether the pixel was filled (its best normalised SSD is at most ``max_error``).
    """
    window, radius = canvas.window, canvas.radius
    channels = canvas.values.shape[2]
    template = canvas.values[y : y + window, x : x + window].reshape(-1)  # (L,)
    known = np.repeat(canvas.filled[y : y + window, x : x + window].reshape(-1), channels)  # (L,)
    weights = table.gauss * known
    choice, best = match(table.design, table.windows, template, weights, error_threshold, rng)
    if best > max_error:
        return False
    canvas.out[y, x] = table.centres[choice]
    canvas.values[y + radius, x + radius] = table.centres[choice] / 255.0
    canvas.filled[y + radius, x + radius] = True
    return True


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


def _place_seed(src: np.ndarray, canvas: Canvas, seed_size: int, rng) -> None:
    """Copy a random ``seed_size`` square of the (h, w, C) source to the centre of the canvas."""
    height, width = canvas.out.shape[:2]
    sh, sw = min(seed_size, height, src.shape[0]), min(seed_size, width, src.shape[1])
    sy = rng.integers(0, src.shape[0] - sh + 1)
    sx = rng.integers(0, src.shape[1] - sw + 1)
    oy, ox = (height - sh) // 2, (width - sw) // 2
    patch = src[sy : sy + sh, sx : sx + sw]  # (sh, sw, C)
    canvas.out[oy : oy + sh, ox : ox + sw] = patch
    py, px = canvas.radius + oy, canvas.radius + ox  # the same place in the padded arrays
    canvas.values[py : py + sh, px : px + sw] = patch / 255.0
    canvas.filled[py : py + sh, px : px + sw] = True


def _check_arguments(source, size, window, error_threshold, max_error, source_size, seed_size):
    """Check the arguments of ``efros_leung``; return the source and the output height, width."""
    if not isinstance(source, np.ndarray) or source.dtype != np.uint8:
        raise InputError(
            f"source must be a uint8 NumPy array, got {getattr(source, 'dtype', type(source))}"
        )
    if source.ndim not in (2, 3) or (source.ndim == 3 and not 1 <= source.shape[2] <= 4):
        raise InputError(f"source must be (H, W) or (H, W, C) with C <= 4, got {source.shape}")
    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        size = (int(size), int(size))
    if not (
        isinstance(size, tuple | list)
        and len(size) == 2
        and all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in size)
        and min(size) >= 1
    ):
        raise InputError(f"size must be a positive int or (height, width), got {size!r}")
    if not isinstance(window, int | np.integer) or window < 3 or window % 2 == 0:
        raise InputError(f"window must be an odd integer >= 3, got {window!r}")
    if not (isinstance(error_threshold, int | float) and error_threshold >= 0):
        raise InputError(f"error_threshold must be a number >= 0, got {error_threshold!r}")
    if not (isinstance(max_error, int | float) and max_error > 0):
        raise InputError(f"max_error must be a positive number, got {max_error!r}")
    if source_size is not None and (
        not isinstance(source_size, int | np.integer) or source_size < window
    ):
        raise InputError(f"source_size must be None or an integer >= window, got {source_size!r}")
    check_count(seed_size, "seed_size")
    if min(source.shape[:2]) < window:
        raise InputError(
            f"source of shape {source.shape} is smaller than the {window}x{window} window"
        )
    return source, int(size[0]), int(size[1])
