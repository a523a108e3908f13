"""Nearest-neighbour video prediction: continue the observed frames as the closest clip did.

The non-parametric baseline for "what happens next", after Yuen & Torralba (2010), "A
data-driven approach for event prediction": no training, a database of clips is the model. A
window is ``context`` consecutive frames of a database clip followed by at least ``frames``
more; the observed clip's last ``context`` frames are compared with every window under the sum
of squared differences (SSD), and the ``frames`` frames after each of the ``num`` nearest
windows are its predicted futures.

All windows are compared at once through frame-to-frame SSDs: with observed frames ``a_k`` and
database frames ``b_j``, ``|a_k - b_j|^2 = |a_k|^2 + |b_j|^2 - 2 a_k . b_j`` is one matrix
product per chunk of clips, and the SSD of the window starting at frame ``s`` is the diagonal
sum ``sum_k |a_k - b_{s+k}|^2``. The products are float64 sums of integers below 2^53, hence
exact: equal windows tie exactly, and ties go to the lowest clip index, then the lowest offset.
Chunks are sized so that the search fits ``autoreg.memory``'s budget.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from autoreg.errors import InputError, InputTypeError
from autoreg.memory import check_fits, memory_budget
from autoreg.validation import check_count


class NearestFutures(NamedTuple):
    """The ``num`` nearest windows of each observed clip and what followed them, nearest first.

    B is the number of observed clips, ``num`` the matches per clip.
    """

    futures: np.ndarray  # (B, num, frames, H, W, C) uint8, the frames after each match
    distances: np.ndarray  # (B, num) float64 SSD of each match (exact integers)
    clip_index: np.ndarray  # (B, num) int64 database clip of each match
    offset: np.ndarray  # (B, num) int64 frame of that clip where the continuation starts


def nearest_futures(
    train_clips: np.ndarray,
    observed: np.ndarray,
    *,
    frames: int,
    num: int = 1,
    context: int | None = None,
    chunk: int | None = None,
) -> NearestFutures:
    """Predict the next frames of each observed clip by its nearest windows in a database.

    Args:
      train_clips: (N, T, H, W, C) integer clips with values in 0..255 (uint8), the database.
      observed: (B, t, H, W, C) integer clips with values in 0..255, the frames seen so far.
      frames: frames to predict after each match.
      num: matches (futures) per observed clip.
      context: observed frames compared, the last ``context`` of the ``t`` (default: all t).
      chunk: at most this many database clips compared at once (default: as many as the
        memory budget allows); the result does not depend on it.

    Returns:
      A ``NearestFutures``: (B, num, frames, H, W, C) uint8 futures with their (B, num)
      distances, clip indices and offsets (continuation starts), nearest first, ties broken by
      the lowest clip index, then offset.

    Raises:
      InputTypeError: clips that are not integer arrays.
      InputError: wrong ranks, frame shapes that differ between the database and the observed
        clips, values outside 0..255, a non-positive ``frames``, ``num``, ``context`` or
        ``chunk``, ``context`` above t, database clips shorter than ``context + frames``, more
        matches asked for than there are windows; a ``MemoryBudgetError`` when even one clip at
        a time does not fit in memory.

    Example:
      >>> clips = np.random.default_rng(0).integers(0, 256, (3, 10, 4, 4, 1), dtype=np.uint8)
      >>> found = nearest_futures(clips, clips[1:2, 2:5], frames=4, num=2)  # seen: 2..4 of clip 1
      >>> found.futures.shape  # (B, num, frames, H, W, C)
      (1, 2, 4, 4, 4, 1)
      >>> int(found.clip_index[0, 0]), int(found.offset[0, 0]), float(found.distances[0, 0])
      (1, 5, 0.0)
      >>> bool((found.futures[0, 0] == clips[1, 5:9]).all())  # clip 1 went on with frames 5..8
      True
    """
    train_clips, observed, context = _check_arguments(
        train_clips, observed, frames, num, context, chunk
    )
    n_clips, length = train_clips.shape[:2]
    batch = observed.shape[0]
    pixels = math.prod(train_clips.shape[2:])  # P = H * W * C
    starts = length - context - frames + 1  # S window starts per clip
    span = starts + context - 1  # frames of a clip that windows use
    per_clip = _search_chunk(batch, context, span, starts, pixels, n_clips, frames, num, chunk)
    query = observed[:, -context:].reshape(batch * context, pixels).astype(np.float64)  # (Bc, P)
    query_sq = np.einsum("ip,ip->i", query, query).reshape(batch, context, 1, 1)
    best_d = np.zeros((batch, 0))  # (B, k) SSDs of the best windows so far
    best_i = np.zeros((batch, 0), np.int64)  # (B, k) their window indices n * S + s
    for first in range(0, n_clips, per_clip):
        part = train_clips[first : first + per_clip, :span]  # (n, span, H, W, C)
        n = part.shape[0]
        base = part.reshape(n * span, pixels).astype(np.float64)  # (n * span, P)
        base_sq = np.einsum("jp,jp->j", base, base).reshape(1, 1, n, span)
        cross = (query @ base.T).reshape(batch, context, n, span)
        frame_ssd = query_sq + base_sq - 2.0 * cross  # (B, context, n, span)
        ssd = frame_ssd[:, 0, :, :starts].copy()  # (B, n, S)
        for k in range(1, context):  # diagonal sum: observed frame k against clip frame s + k
            ssd += frame_ssd[:, k, :, k : k + starts]
        index = first * starts + np.arange(n * starts)  # (n * S,) window indices, ascending
        best_d = np.concatenate([best_d, ssd.reshape(batch, n * starts)], axis=1)
        best_i = np.concatenate([best_i, np.broadcast_to(index, (batch, n * starts))], axis=1)
        # Earlier windows come first, so a stable sort breaks ties by clip index, then offset.
        order = np.argsort(best_d, axis=1, kind="stable")[:, :num]
        best_d = np.take_along_axis(best_d, order, axis=1)
        best_i = np.take_along_axis(best_i, order, axis=1)
    clip_index, start = np.divmod(best_i, starts)  # (B, num) each
    offset = start + context
    steps = offset[..., None] + np.arange(frames)  # (B, num, frames)
    futures = train_clips[clip_index[..., None], steps]  # (B, num, frames, H, W, C)
    return NearestFutures(futures, best_d, clip_index, offset)


def _search_chunk(batch, context, span, starts, pixels, n_clips, frames, num, chunk) -> int:
    """Database clips per chunk: ``chunk``, or fewer if the search would not fit in memory.

    Kept throughout: the float64 observed windows and the uint8 futures with their bookkeeping.
    Per database clip of a chunk: its float64 frames, three (B, context, span) float64 arrays
    (products, their double, frame SSDs), and the (B, S) window SSDs with the indices, copies
    and sort order of the merge with the best so far.
    """
    kept = 8 * batch * context * (pixels + 1) + batch * num * (frames * pixels + 64)
    work = 8 * span * (pixels + 1) + 24 * batch * context * span + 40 * batch * starts
    what = (
        f"the nearest-neighbour search for {batch} clip{'s' * (batch != 1)} of {context} "
        f"frames of {pixels} values"
    )
    budget = memory_budget()
    check_fits(what, kept + work, budget, advice="observe fewer clips at a time")
    return max(1, min(n_clips, (budget - kept) // work, chunk or n_clips))


def _check_arguments(train_clips, observed, frames, num, context, chunk):
    """Check the arguments of ``nearest_futures``; return the uint8 clips and the context."""
    for name, clips in (("train_clips", train_clips), ("observed", observed)):
        dtype = getattr(clips, "dtype", None)
        if not isinstance(clips, np.ndarray) or not np.issubdtype(dtype, np.integer):
            got = type(clips).__name__ if dtype is None else dtype
            raise InputTypeError(f"{name} must be an integer (uint8) NumPy array, got {got}")
    if train_clips.ndim != 5:
        raise InputError(f"train_clips must be (N, T, H, W, C), got shape {train_clips.shape}")
    if observed.ndim != 5:
        raise InputError(f"observed must be (B, t, H, W, C), got shape {observed.shape}")
    if train_clips.shape[2:] != observed.shape[2:]:
        raise InputError(
            f"frames of train_clips {train_clips.shape[2:]} and observed {observed.shape[2:]} "
            "differ in (H, W, C): they must have the same size and channels"
        )
    if 0 in train_clips.shape or 0 in observed.shape:
        raise InputError(
            f"train_clips {train_clips.shape} and observed {observed.shape} must not be empty"
        )
    frames = check_count(frames, "frames")
    num = check_count(num, "num")
    if chunk is not None:
        check_count(chunk, "chunk")
    seen = observed.shape[1]
    context = seen if context is None else check_count(context, "context")
    if context > seen:
        raise InputError(f"context ({context}) is more than the {seen} observed frames")
    length = train_clips.shape[1]
    if length < context + frames:
        raise InputError(
            f"the database clips of {length} frames are too short for context + frames = "
            f"{context} + {frames}"
        )
    windows = train_clips.shape[0] * (length - context - frames + 1)
    if num > windows:
        raise InputError(f"num ({num}) is more than the {windows} windows of the database")
    return _as_uint8(train_clips, "train_clips"), _as_uint8(observed, "observed"), context


def _as_uint8(clips: np.ndarray, name: str) -> np.ndarray:
    """Integer clips as uint8, or an InputError for values outside 0..255."""
    if clips.dtype == np.uint8:
        return clips
    check_fits(f"a uint8 copy of {name} {clips.shape}", clips.size)
    low, high = int(clips.min()), int(clips.max())
    if low < 0 or high > 255:
        raise InputError(f"{name} values must be in 0..255, got {low}..{high}")
    return clips.astype(np.uint8)
