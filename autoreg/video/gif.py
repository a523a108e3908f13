"""Animated GIFs of video: sampled clips side by side, and observed frames with their futures.

Every tile of a GIF plays a clip; the tiles of a grid play in step. Small frames are upscaled by
an integer factor, nearest neighbour (``autoreg.image_io.default_scale``: at least 256 px wide
by default), and each tile has a thin border that says what it shows: white for observed
frames, green for the true future, red for a predicted (sampled) future. Files are written
atomically (``autoreg.atomic``): a reader never sees a half-written GIF.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from autoreg.atomic import atomic_write, check_writable
from autoreg.errors import InputError
from autoreg.image_io import check_scale, to_uint8
from autoreg.memory import check_fits, check_picture
from autoreg.validation import check_count

BORDER = 2  # pixels of border around each tile (after upscaling): 4 between two tiles
DEFAULT_DURATION_MS = 200  # milliseconds per frame: 5 frames a second
OBSERVED, TRUTH, PREDICTED = 0, 1, 2  # what a tile shows at a step, by its border's colour
COLOURS = np.array([(255, 255, 255), (40, 170, 40), (220, 40, 40)], np.uint8)  # by the above


def video_grid(clips: np.ndarray, *, columns: int | None = None, scale: int = 1) -> np.ndarray:
    """The frames of an animation that plays ``clips`` side by side, in step.

    Args:
      clips: (N, T, H, W, C) uint8 clips, C = 1 or 3.
      columns: tiles per row (default: all N in one row).
      scale: integer upscaling of each frame, nearest neighbour.

    Returns:
      (T, rows * (H * scale + 4), columns * (W * scale + 4), 3) uint8 frames, each tile in a
      white border of ``BORDER`` pixels; the last row's missing tiles are white.

    Raises:
      InputError: clips that are not (N, T, H, W, 1|3) uint8, or a bad ``columns``/``scale``.

    Examples:
      >>> from autoreg.video.gif import video_grid
      >>> clips = np.zeros((3, 5, 4, 4, 1), np.uint8)  # 3 clips of 5 frames of 4x4
      >>> video_grid(clips, scale=2).shape  # (T, 8 + 4, 3 * (8 + 4), 3)
      (5, 12, 36, 3)
    """
    clips = _check_frames(clips, "clips", 5)
    n, frames = clips.shape[:2]
    columns = n if columns is None else check_count(columns, "columns")
    rows = -(-n // columns)
    blank = np.full((rows * columns - n, *clips.shape[1:]), 255, np.uint8)
    tiles = np.concatenate([clips, blank]).reshape(rows, columns, *clips.shape[1:])
    return _tile(tiles, np.full((rows, columns, frames), OBSERVED), scale)


def futures_grid(
    observed: np.ndarray, futures: np.ndarray, truth: np.ndarray | None = None, *, scale: int = 1
) -> np.ndarray:
    """The frames of an animation of observed frames and their futures, one row per future.

    The first row plays the observed frames, then the true future (green border) when it is
    known, else holds the last observed frame; a truth shorter than the futures holds its
    last frame. Each further row plays the observed frames, then one predicted future (red
    border). The rows play in step: they agree until the prediction starts.

    Args:
      observed: (t, H, W, C) uint8 observed frames, C = 1 or 3.
      futures: (num, frames, H, W, C) uint8 predicted futures.
      truth: (f, H, W, C) uint8, the frames that really followed (f <= frames), or None.
      scale: integer upscaling of each frame, nearest neighbour.

    Returns:
      (t + frames, (num + 1) * (H * scale + 4), W * scale + 4, 3) uint8 frames.

    Raises:
      InputError: arrays that are not uint8 frames of one shape (H, W, C), a truth longer than
        the futures, or a bad ``scale``.

    Examples:
      >>> from autoreg.video.gif import futures_grid
      >>> seen, futures = np.zeros((3, 4, 4, 1), np.uint8), np.ones((2, 5, 4, 4, 1), np.uint8)
      >>> futures_grid(seen, futures).shape  # (3 + 5, 3 rows of 4 + 4, 4 + 4, 3)
      (8, 24, 8, 3)
    """
    observed = _check_frames(observed, "observed", 4)
    futures = _check_frames(futures, "futures", 5)
    num, frames = futures.shape[:2]
    seen = len(observed)
    if futures.shape[2:] != observed.shape[1:]:
        raise InputError(
            f"futures have frames of {futures.shape[2:]}, observed {observed.shape[1:]}"
        )
    if truth is None:
        truth, known = observed[-1:], 0
    else:
        truth = _check_frames(truth, "truth", 4)
        known = len(truth)
        if truth.shape[1:] != observed.shape[1:] or known > frames:
            raise InputError(
                f"truth {truth.shape} must be at most {frames} frames of {observed.shape[1:]}"
            )
    held = np.concatenate([truth, np.repeat(truth[-1:], frames - len(truth), axis=0)])
    first = np.concatenate([observed, held[:frames]])[None]  # (1, t + frames, H, W, C)
    rest = np.concatenate([np.broadcast_to(observed, (num, *observed.shape)), futures], axis=1)
    tiles = np.concatenate([first, rest])[:, None]  # (num + 1, 1, t + frames, H, W, C)
    kinds = np.full((num + 1, 1, seen + frames), OBSERVED)
    kinds[0, 0, seen : seen + known] = TRUTH
    kinds[1:, 0, seen:] = PREDICTED
    return _tile(tiles, kinds, scale)


def write_gif(path, frames: np.ndarray, *, duration_ms: int = DEFAULT_DURATION_MS) -> Path:
    """Write frames as an animated GIF that loops forever, atomically.

    Frames with at most 256 colours in all (gray video, the grids of this module at K <= 253
    levels) are written exactly; others are reduced to 256 colours per frame. Consecutive equal
    frames are stored once, shown for their summed duration (PIL's way).

    Args:
      path: the ``.gif`` to write.
      frames: (T, H, W, C) uint8 frames, C = 1 or 3.
      duration_ms: milliseconds each frame shows (GIF counts in tens; viewers show frames
        under 20 ms more slowly).

    Returns:
      The path written.

    Raises:
      InputError: frames that are not (T, H, W, 1|3) uint8, a path that does not end in
        ``.gif`` or cannot be written, or a ``duration_ms`` that is not a positive integer.

    Examples:
      >>> from autoreg.video.gif import write_gif
      >>> frames = np.stack([np.full((4, 4, 1), 60 * t, np.uint8) for t in range(3)])
      >>> path = write_gif("fade.gif", frames, duration_ms=100)
      >>> autoreg.data.load_clips(path)[0, :, 0, 0, 0].tolist()
      [0, 60, 120]
    """
    frames = _check_frames(frames, "frames", 4)
    check_count(duration_ms, "duration_ms")
    path = check_writable(path, (".gif",))
    images = _to_images(frames)
    options = dict(save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return atomic_write(path, lambda t: images[0].save(t, "GIF", optimize=False, **options))


def write_samples_gif(
    path,
    samples: np.ndarray,
    levels: int,
    *,
    scale: int | None = None,
    duration_ms: int = DEFAULT_DURATION_MS,
) -> Path:
    """Write sampled clips side by side as one GIF (``video_grid``), values 0..K-1 shown
    0..255.

    Args:
      path: the ``.gif`` to write.
      samples: (N, T, H, W, C) integers in 0..levels-1.
      levels: K.
      scale: integer upscaling (default: at least 256 px wide; 1: native size).
      duration_ms: milliseconds per frame.

    Returns:
      The path written.

    Raises:
      InputError: as for ``video_grid`` and ``write_gif``, or a GIF too large for memory.

    Examples:
      >>> from autoreg.video.gif import write_samples_gif
      >>> samples = np.stack([np.full((2, 4, 4, 1), t) for t in range(3)], axis=1)  # 3 frames
      >>> path = write_samples_gif("samples.gif", samples, levels=4, scale=1)
      >>> gif = autoreg.data.load_clips(path)  # 2 tiles of 4 + 4 px side by side
      >>> gif.shape, gif[0, :, 4, 4, 0].tolist()  # inside the first tile: levels 0, 1, 2 of 4
      ((1, 3, 8, 16, 1), [0, 85, 170])
    """
    samples = np.asarray(samples)
    if samples.ndim != 5:
        raise InputError(f"samples must be (N, T, H, W, C), got shape {samples.shape}")
    n, steps, *frame_shape = samples.shape
    scale = gif_scale(tuple(frame_shape), 1, n, steps, scale)
    check_writable(path, (".gif",))  # before the grid is drawn
    grid = video_grid(to_uint8(samples, levels), scale=scale)
    return write_gif(path, grid, duration_ms=duration_ms)


def write_futures_gif(
    path,
    observed: np.ndarray,
    futures: np.ndarray,
    truth: np.ndarray | None = None,
    *,
    scale: int | None = None,
    duration_ms: int = DEFAULT_DURATION_MS,
) -> Path:
    """Write the GIF of ``futures_grid``: observed frames then the truth, then one row per
    predicted future.

    Args:
      path: the ``.gif`` to write.
      observed: (t, H, W, C) uint8 observed frames.
      futures: (num, frames, H, W, C) uint8 predicted futures.
      truth: (f, H, W, C) uint8 true future (f <= frames), or None.
      scale: integer upscaling (default: at least 256 px wide; 1: native size).
      duration_ms: milliseconds per frame.

    Returns:
      The path written.

    Raises:
      InputError: as for ``futures_grid`` and ``write_gif``, or a GIF too large for memory.

    Examples:
      >>> from autoreg.video.gif import write_futures_gif
      >>> seen = np.stack([np.full((8, 8, 1), v, np.uint8) for v in (0, 20)])
      >>> futures = np.stack([np.full((2, 8, 8, 1), 50 * f, np.uint8) for f in (1, 2)], axis=1)
      >>> path = write_futures_gif("futures.gif", seen, futures, scale=2)  # 2 futures, 2 frames
      >>> autoreg.data.load_clips(path).shape  # 3 rows of 16 + 4 px, 2 + 2 frames
      (1, 4, 60, 20, 3)
    """
    observed, futures = _check_frames(observed, "observed", 4), _check_frames(futures, "futures", 5)
    steps = len(observed) + futures.shape[1]
    scale = gif_scale(observed.shape[1:], 1 + len(futures), 1, steps, scale)
    check_writable(path, (".gif",))  # before the grid is drawn
    grid = futures_grid(observed, futures, truth, scale=scale)
    return write_gif(path, grid, duration_ms=duration_ms)


def gif_scale(frame_shape: tuple, rows: int, columns: int, steps: int, scale=None) -> int:
    """The upscaling of a grid GIF, checked against the memory budget before any work.

    Args:
      frame_shape: (H, W, C) of one frame.
      rows: rows of tiles.
      columns: tiles per row.
      steps: frames of the animation.
      scale: a positive integer, or None for at least 256 px wide.

    Returns:
      The factor.

    Raises:
      InputError: a bad scale, or frames too large for memory
        (``autoreg.errors.MemoryBudgetError``).

    Examples:
      >>> from autoreg.video.gif import gif_scale
      >>> gif_scale((8, 8, 1), 1, 4, 10), gif_scale((64, 64, 1), 5, 1, 20, scale=1)
      (8, 1)
    """
    height, width = frame_shape[:2]
    scale = check_scale(scale, columns * width)
    shape = (rows * (height * scale + 2 * BORDER), columns * (width * scale + 2 * BORDER), 3)
    check_picture(shape, "a frame of the GIF")
    check_fits(f"a GIF of {steps} frames", 3 * steps * math.prod(shape), advice="scale it less")
    return scale


def _tile(tiles: np.ndarray, kinds: np.ndarray, scale: int) -> np.ndarray:
    """(R, Q, T, H, W, C) uint8 tiles with (R, Q, T) border kinds -> (T, gh, gw, 3) frames."""
    scale = check_count(scale, "scale")
    rows, columns, steps, height, width, channels = tiles.shape
    if channels == 1:
        tiles = np.repeat(tiles, 3, axis=-1)
    h, w = height * scale + 2 * BORDER, width * scale + 2 * BORDER
    cells = np.empty((rows, columns, steps, h, w, 3), np.uint8)
    cells[...] = COLOURS[kinds][:, :, :, None, None]  # the borders
    inner = tiles.repeat(scale, axis=3).repeat(scale, axis=4)  # nearest-neighbour upscaling
    cells[:, :, :, BORDER:-BORDER, BORDER:-BORDER] = inner
    return cells.transpose(2, 0, 3, 1, 4, 5).reshape(steps, rows * h, columns * w, 3)


def _to_images(frames: np.ndarray) -> list:
    """(T, H, W, C) uint8 -> PIL frames: gray ("L"), one exact palette for at most 256 colours
    in all ("P"), else RGB (reduced per frame by PIL)."""
    if frames.shape[-1] == 1 or np.all(frames == frames[..., :1]):
        return [Image.fromarray(f[..., 0], "L") for f in frames]
    packed = (frames[..., 0].astype(np.uint32) << 16) | (frames[..., 1].astype(np.uint32) << 8)
    packed |= frames[..., 2]  # (T, H, W) 0xRRGGBB
    colours, index = np.unique(packed, return_inverse=True)
    if len(colours) > 256:
        return [Image.fromarray(f, "RGB") for f in frames]
    palette = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
    images = []
    for f in index.reshape(packed.shape).astype(np.uint8):
        image = Image.fromarray(f, "P")
        image.putpalette(palette.astype(np.uint8).tobytes())
        images.append(image)
    return images


def _check_frames(frames, name: str, ndim: int) -> np.ndarray:
    """``frames`` as a uint8 array of rank ``ndim`` ending in C = 1 or 3, or an InputError."""
    frames = np.asarray(frames)
    axes = "(N, T, H, W, C)" if ndim == 5 else "(T, H, W, C)"
    if frames.ndim != ndim or frames.shape[-1] not in (1, 3) or 0 in frames.shape:
        raise InputError(f"{name} must be non-empty {axes} frames, C = 1 or 3; got {frames.shape}")
    if frames.dtype != np.uint8:
        raise InputError(f"{name} must be uint8 (0..255), got dtype {frames.dtype}")
    return frames
