"""Rolling caches of one layer's activations for cached sampling, read as ``gather_taps`` reads.

A cache holds the last ``pad_y + 1`` rows of one layer's activations, zero-padded left and right:
``(B, pad_y + 1, W + 2 * pad_x, F)``. While the sampler is on row ``i``, cache row ``pad_y``
holds image row ``i``, cache row ``pad_y - 1`` image row ``i - 1``, and so on; rows above the
image and columns outside it are zeros, as ``gather_taps`` pads them. ``advance`` moves the
window down one row at the start of each image row. Writing a pixel (or a row) and gathering
the taps of a pixel (or a row) are each one slice at a dynamic column, and the gathered patches
are laid out exactly as ``gather_taps`` lays them out for the full image.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Kept(NamedTuple):
    """State the row loop carries but never advances (attention keys of every pixel so far)."""

    value: jax.Array


def is_kept(tree) -> bool:
    """True for a ``Kept`` (a leaf for ``jax.tree.map(advance, ...)``)."""
    return isinstance(tree, Kept)


def taps_reach(taps) -> tuple[int, int]:
    """(rows above, columns either side) that a tuple of ``(dy, dx)`` taps reaches."""
    return max(-dy for dy, _ in taps), max(abs(dx) for _, dx in taps)


def empty_cache(batch: int, width: int, features: int, pad: tuple) -> jax.Array:
    """Zeros of shape (B, pad_y + 1, W + 2 * pad_x, F)."""
    pad_y, pad_x = pad
    return jnp.zeros((batch, pad_y + 1, width + 2 * pad_x, features), jnp.float32)


def advance(cache: jax.Array) -> jax.Array:
    """Move to the next image row: drop the oldest row, start a zero current row.

    A ``Kept`` comes back unchanged.
    """
    if is_kept(cache):
        return cache
    return jnp.concatenate([cache[:, 1:], jnp.zeros_like(cache[:, :1])], axis=1)


def write(cache: jax.Array, pad_x: int, j, value: jax.Array) -> jax.Array:
    """Store ``value`` (B, 1, cols, F) at columns ``j ..`` of the current row."""
    return jax.lax.dynamic_update_slice(cache, value, (0, cache.shape[1] - 1, j + pad_x, 0))


def gather(cache: jax.Array, pad_x: int, taps, j, cols: int) -> jax.Array:
    """Patches of the current row's columns ``j .. j+cols-1``: (B, 1, cols, taps * F).

    Channel block ``t`` is the cached activation at ``(i + dy, j + dx)`` for ``taps[t]``, zero
    outside the image, exactly as ``gather_taps`` gives it for the whole image.
    """
    reach_y, reach_x = taps_reach(taps)
    rows = cache.shape[1]
    if reach_y >= rows or reach_x > pad_x:
        raise ValueError(f"taps reach {(reach_y, reach_x)} beyond the cache ({rows} rows, {pad_x})")
    batch, features = cache.shape[0], cache.shape[-1]
    span = cols + 2 * reach_x
    window = jax.lax.dynamic_slice(
        cache[:, rows - 1 - reach_y :],
        (0, 0, j + pad_x - reach_x, 0),
        (batch, reach_y + 1, span, features),
    )  # (B, reach_y + 1, cols + 2 * reach_x, F)
    if cols > 1:
        pieces = [
            window[:, reach_y + dy : reach_y + dy + 1, reach_x + dx : reach_x + dx + cols]
            for dy, dx in taps
        ]
        return jnp.concatenate(pieces, axis=-1)
    # One pixel: taps that follow each other in the window's raster order are one slice of
    # the flattened window (mask-A/B taps are two such runs), which keeps the ops per step few.
    flat = window.reshape(batch, -1, features)  # (B, (reach_y + 1) * span, F)
    pieces = []
    for start, stop in tap_runs([(reach_y + dy) * span + reach_x + dx for dy, dx in taps]):
        pieces.append(flat[:, start:stop].reshape(batch, 1, 1, (stop - start) * features))
    return jnp.concatenate(pieces, axis=-1)


def tap_runs(indices: list) -> list:
    """Consecutive runs ``[(start, stop), ...]`` of a list of integers, in order."""
    runs = []
    for index in indices:
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs
