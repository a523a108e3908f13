"""Cached sampling for PixelSNAIL: a key/value cache per attention layer, activation caches for
the convolutions.

Each step runs the network at the current pixel only (once per colour sub-step), on the cached
samplers' loop (``raster_loop``). The mask-A input convolution gathers its taps from the image
cache; each gated block writes its 3x3 convolution's input at this pixel into a rolling cache and
gathers the taps from it (as the PixelCNN's cached sampler does); each attention layer attends
from this pixel's query to the keys and values of the pixels before it, kept in a cache of all
``D = H * W`` pixels (``Kept``: the row loop does not advance it; slots not yet written are
masked out, so the work per step is that of one row of the forward pass's attention), then
writes this pixel's key and value (final after the last colour) for the pixels after it.

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
from flax import nnx

from autoreg.models.pixelsnail import position_features
from autoreg.sampling import activation_cache
from autoreg.sampling.raster_loop import sample_raster


class Caches(NamedTuple):
    """Rolling caches of the blocks' 3x3 inputs, and the kept keys/values and row index."""

    conv: tuple  # per block (B, 2, W + 2, F/2)
    keys: tuple  # per attention layer Kept((B, heads, D, dk))
    values: tuple  # per attention layer Kept((B, heads, D, dv))
    row: activation_cache.Kept  # () int32, the current row


def empty_caches(model, batch: int, height: int, width: int) -> Caches:
    """Zero caches for sampling (B, H, W, C) images."""
    cfg = model.config
    d = height * width

    def kept(channels):
        return tuple(
            activation_cache.Kept(jnp.zeros((batch, cfg.heads, d, channels)))
            for _ in model.attentions
        )

    return Caches(
        conv=tuple(
            activation_cache.empty_cache(
                batch,
                width,
                block.spatial_features,
                activation_cache.taps_reach(block.spatial_taps),
            )
            for block in model.blocks
        ),
        keys=kept(cfg.key_channels),
        values=kept(cfg.value_channels),
        row=activation_cache.Kept(jnp.int32(0)),
    )


def start_row(i, image, caches: Caches) -> Caches:
    """``row_fn``: remember the row index (the attention's position is ``i * W + j``)."""
    return caches._replace(row=activation_cache.Kept(jnp.asarray(i, jnp.int32)))


def attend_at(attention, h, position, positions, keys, values):
    """One attention layer at one pixel: (B, F) stream -> (B, F), and the updated caches.

    Attends to the cached pixels before ``position``, then stores this pixel's key and value.
    """
    q = attention.queries(h)  # (B, heads, dk)
    visible = jnp.arange(keys.shape[2]) < position  # (D,)
    attended = attend_one(q, keys, values, visible)  # (B, heads, dv)
    k, v = attention.keys_values(h, jnp.broadcast_to(positions[position], (h.shape[0], 2)))
    keys = jax.lax.dynamic_update_slice_in_dim(keys, k[:, :, None], position, axis=2)
    values = jax.lax.dynamic_update_slice_in_dim(values, v[:, :, None], position, axis=2)
    return attention.output(h, attended), keys, values


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
    patches = activation_cache.gather(image, image_pad[1], model.input_taps, j, 1)
    h = model.input_from_patches(patches)  # (B, 1, 1, F)
    conv, keys, values = [], list(caches.keys), list(caches.values)
    n = 0  # attention layers passed
    for (block, attention), cache in zip(model.layers(), caches.conv, strict=True):
        pad_x = activation_cache.taps_reach(block.spatial_taps)[1]
        cache = activation_cache.write(cache, pad_x, j, block.spatial_input(h))
        patches = activation_cache.gather(cache, pad_x, block.spatial_taps, j, 1)
        h = block.finish(h, block.spatial_from_patches(patches), labels)  # (B, 1, 1, F)
        conv.append(cache)
        if attention is not None:
            out, k, v = attend_at(
                attention, h[:, 0, 0], position, positions, keys[n].value, values[n].value
            )
            h = out[:, None, None]
            keys[n], values[n] = activation_cache.Kept(k), activation_cache.Kept(v)
            n += 1
    caches = caches._replace(conv=tuple(conv), keys=tuple(keys), values=tuple(values))
    return model.head(h[:, 0, 0]), caches  # (B, C, K)


@functools.partial(jax.jit, static_argnums=0)
def cached_pixelsnail_sampler(graphdef, state, key, x, observed, labels, temperature):
    """``naive_sampler``'s samples for a PixelSNAIL, each layer computed once per sub-pixel.

    A ``Sampler`` (arguments as documented there) for ``nnx.split`` of a ``PixelSNAIL``; x and
    the samples are (B, H, W, C) images; labels (B,) for a class-conditional model.
    """
    model = nnx.merge(graphdef, state)
    model.check_labels(labels)
    batch, height, width, _ = x.shape
    image_pad = activation_cache.taps_reach(model.input_taps)
    return sample_raster(
        key,
        x,
        observed,
        temperature,
        levels=model.levels,
        image_pad=image_pad,
        caches=empty_caches(model, batch, height, width),
        row_fn=start_row,
        pixel_fn=functools.partial(pixel_column, model, image_pad, labels),
    )
