"""Cached sampling for PixelSNAIL: a key/value cache per attention layer, activation caches for
the convolutions.

Each step runs the network at the current pixel only (once per colour sub-step), on the cached
samplers' loop (``raster_loop``). The mask-A input convolution gathers its taps from the image
cache; each gated block writes its 3x3 convolution's input at this pixel into a rolling cache and
gathers the taps from it (as the PixelCNN's cached sampler does); each attention layer attends
from this pixel's query to the keys and values of the pixels before it, kept in a cache of all
``D = H * W`` pixels (``Kept``: the row loop does not advance it; slots not yet written are
masked out, so the work per step is that of one row of the forward pass's attention). A key
reads its pixel's own values, which are complete only once the pixel's last colour is drawn, so
each layer keeps its input stream at the pixel and writes the pixel's key and value at the next
pixel's step.

Colour sub-steps (C > 1) attend with one colour group's heads only: at sub-step ``c`` the heads
of group ``c`` attend and those of groups ``< c`` keep the outputs they had at their own
sub-steps (kept per layer in ``attended``). That is exact: a group's query reads only the
stream's groups ``<= g``, which do not change once colour ``g`` is being drawn (they depend on
the colours before ``g``), and the logits of colour ``c`` read only head groups ``<= c``; the
heads of groups ``> c``, stale at this sub-step, are attended afresh at their own. So each pixel
attends once in all, not once per colour.

The arithmetic is the model's own (``spatial_input``, ``finish``, ``queries``, ``keys_values``,
``output``, ``head``; ``attend_one`` is ``attend`` for a single query), so samples are
``naive_sampler``'s for the same key (a ``Sampler``; the registry's default for
``pixelsnail``), up to float rounding in sums taken in another order (a draw could differ only
at a near-exact tie; tested equal).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from autoreg.models.pixelsnail import position_features
from autoreg.sampling import activation_cache
from autoreg.sampling.raster_loop import RasterPlan, raster_sampler


class Caches(NamedTuple):
    """Rolling caches of the blocks' 3x3 inputs, and the kept keys/values and row index."""

    conv: tuple  # per block (B, 2, W + 2, F/2)
    keys: tuple  # per attention layer Kept(per colour group (B, heads / C, D, dk))
    values: tuple  # per attention layer Kept(per colour group (B, heads / C, D, dv))
    streams: tuple  # per attention layer Kept((B, 2, F)): its input at the pixel before / this
    attended: tuple  # per attention layer Kept((B, heads, dv)): the heads' outputs at this pixel
    pixel: activation_cache.Kept  # () int32, the position whose stream is in ``streams[:, 1]``
    colour: activation_cache.Kept  # () int32, the colour sub-step of ``pixel``
    row: activation_cache.Kept  # () int32, the current row


def empty_caches(model, batch: int, height: int, width: int) -> Caches:
    """Zero caches for sampling (B, H, W, C) images."""
    cfg = model.config
    d = height * width
    colours = cfg.image_shape[2]
    layers = model.step_layers()
    blocks = [block for block, _ in layers]
    attentions = [attention for _, attention in layers if attention is not None]

    def kept(channels):
        group = (batch, cfg.heads_per_colour, d, channels)
        return tuple(
            activation_cache.Kept(tuple(jnp.zeros(group) for _ in range(colours)))
            for _ in attentions
        )

    return Caches(
        conv=tuple(
            activation_cache.empty_cache(
                batch,
                width,
                block.spatial_features,
                activation_cache.taps_reach(block.spatial_taps),
            )
            for block in blocks
        ),
        keys=kept(cfg.key_channels),
        values=kept(cfg.value_channels),
        streams=tuple(
            activation_cache.Kept(jnp.zeros((batch, 2, cfg.channels))) for _ in attentions
        ),
        attended=tuple(
            activation_cache.Kept(jnp.zeros((batch, cfg.heads, cfg.value_channels)))
            for _ in attentions
        ),
        pixel=activation_cache.Kept(jnp.int32(-1)),
        colour=activation_cache.Kept(jnp.int32(0)),
        row=activation_cache.Kept(jnp.int32(0)),
    )


def start_row(i, image, caches: Caches) -> Caches:
    """``row_fn``: remember the row index (the attention's position is ``i * W + j``)."""
    return caches._replace(row=activation_cache.Kept(jnp.asarray(i, jnp.int32)))


def attend_at(attention, h, position, new_pixel, colour, kept: tuple, before: tuple):
    """One attention layer at one pixel: (B, F) stream -> (B, F), and the updated caches.

    First stores the key and value of the pixel before, now that its values are all drawn:
    its stream, its scaled values and position features (``before``: (B, C), (B, 2)); then
    attends from this pixel to the pixels before it with the heads of colour group
    ``colour`` (the module docstring says why the other groups need not). Repeated at every
    colour sub-step (the same write each time).

    Args:
      new_pixel: whether this is the pixel's first sub-step (the kept stream of "this pixel"
        is then the pixel before's).
      colour: () int32, the colour sub-step.
      kept: (keys and values: per colour group (B, heads / C, D, dk or dv); streams (B, 2, F):
        the input at the pixel before and at this pixel; attended (B, heads, dv): the heads'
        outputs at this pixel so far).
    """
    keys, values, streams, attended = kept
    previous_stream = jnp.where(new_pixel, streams[:, 1], streams[:, 0])  # (B, F)
    k, v = attention.keys_values(previous_stream, *before)  # (B, heads, dk), (B, heads, dv)
    previous = jnp.maximum(position - 1, 0)  # slot 0 is rewritten at position 1
    group = attended.shape[1] // len(keys)  # heads of one colour group

    def store(caches: tuple, new: jax.Array) -> tuple:  # new: (B, heads, d)
        return tuple(
            jax.lax.dynamic_update_slice_in_dim(
                cache, new[:, g * group : (g + 1) * group, None], previous, axis=2
            )
            for g, cache in enumerate(caches)
        )

    keys, values = store(keys, k), store(values, v)
    visible = jnp.arange(keys[0].shape[2]) < position  # (D,)
    q = attention.queries(h)  # (B, heads, dk)

    def attend_group(g):  # -> (B, heads / C, dv): colour group g's heads
        return lambda: attend_one(q[:, g * group : (g + 1) * group], keys[g], values[g], visible)

    # One branch per group, each reading its own caches in place (slicing one cache of all
    # heads at a traced group copies it, and was slower than attending with every head).
    branches = [attend_group(g) for g in range(len(keys))]
    fresh = branches[0]() if len(branches) == 1 else jax.lax.switch(colour, branches)
    attended = jax.lax.dynamic_update_slice_in_dim(attended, fresh, colour * group, axis=1)
    streams = jnp.stack([previous_stream, h], axis=1)  # (B, 2, F)
    return attention.output(h, attended), (keys, values, streams, attended)


def pixel_before(image: jax.Array, pad_x: int, j, width: int) -> jax.Array:
    """(B, C) scaled values of the pixel before column ``j`` of the current row, from the image
    cache (the previous row's last pixel when ``j == 0``)."""
    left = jax.lax.dynamic_slice_in_dim(image[:, -1], j - 1 + pad_x, 1, axis=1)[:, 0]
    above = image[:, -2, width - 1 + pad_x]
    return jnp.where(j == 0, above, left)


def attend_one(q, keys, values, visible) -> jax.Array:
    """``attend`` for one query per example, on caches laid out (B, heads, D, d).

    The same operations as ``attend`` (scaled scores, masked softmax, zero where nothing is
    visible); the layout keeps each head's keys contiguous, so a step reads the caches once
    instead of transposing them.
    """
    scores = jnp.einsum("bhd,bhsd->bhs", q, keys) / np.sqrt(q.shape[-1]).astype(np.float32)
    scores = jnp.where(visible, scores, -jnp.inf)
    any_visible = visible.any()
    weights = jax.nn.softmax(jnp.where(any_visible, scores, 0.0), axis=-1)
    weights = jnp.where(any_visible, weights, 0.0)  # (B, heads, D)
    return jnp.einsum("bhs,bhsd->bhd", weights, values)


def pixel_column(model, image_pad: tuple, labels, j, image, caches: Caches):
    """``pixel_fn``: every layer at pixel ``j`` of the current row; (B, C, K) logits."""
    height, width, _ = model.config.image_shape
    position = caches.row.value * width + j
    positions = jnp.asarray(position_features(height, width))  # (D, 2)
    batch = image.shape[0]
    before = (
        pixel_before(image, image_pad[1], j, width),
        jnp.broadcast_to(positions[jnp.maximum(position - 1, 0)], (batch, 2)),
    )
    patches = activation_cache.gather(image, image_pad[1], model.input_taps, j, 1)
    h = model.input_from_patches(patches)  # (B, 1, 1, F)
    new_pixel = caches.pixel.value != position
    colour = jnp.where(new_pixel, 0, caches.colour.value + 1)  # () int32
    conv, kept = [], []
    for (block, attention), cache in zip(model.step_layers(), caches.conv, strict=True):
        pad_x = activation_cache.taps_reach(block.spatial_taps)[1]
        cache = activation_cache.write(cache, pad_x, j, block.spatial_input(h))
        patches = activation_cache.gather(cache, pad_x, block.spatial_taps, j, 1)
        h = block.finish(h, block.spatial_from_patches(patches), labels)  # (B, 1, 1, F)
        conv.append(cache)
        if attention is not None:
            n = len(kept)
            state = tuple(
                cache[n].value
                for cache in (caches.keys, caches.values, caches.streams, caches.attended)
            )
            out, state = attend_at(
                attention, h[:, 0, 0], position, new_pixel, colour, state, before
            )
            kept.append([activation_cache.Kept(a) for a in state])
            h = out[:, None, None]
    keys, values, streams, attended = (
        (tuple(c) for c in zip(*kept, strict=True)) if kept else ((),) * 4
    )
    caches = caches._replace(
        conv=tuple(conv),
        keys=keys,
        values=values,
        streams=streams,
        attended=attended,
        pixel=activation_cache.Kept(position),
        colour=activation_cache.Kept(colour),
    )
    return model.output_logits(h[:, 0, 0]), caches  # (B, C, K)


@raster_sampler
def cached_pixelsnail_sampler(model, shape, labels) -> RasterPlan:
    """``naive_sampler``'s samples for a PixelSNAIL, each layer computed once per sub-pixel.

    A ``Sampler`` (of this ``raster_sampler`` plan) for ``nnx.split`` of a ``PixelSNAIL``; x and
    the samples are (B, H, W, C) images; labels (B,) for a class-conditional model.
    """
    batch, height, width, _ = shape
    image_pad = activation_cache.taps_reach(model.input_taps)
    return RasterPlan(
        image_pad=image_pad,
        caches=empty_caches(model, batch, height, width),
        row_fn=start_row,
        pixel_fn=functools.partial(pixel_column, model, image_pad, labels),
    )
