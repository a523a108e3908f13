"""Cached sampling for the Gated PixelCNN (Ramachandran et al. 2017).

The vertical stack at row ``i`` reads only rows above ``i``, so it runs once per row, over the
whole row, when the row starts: each layer gathers its taps from the cache of the layer below,
writes its gated output row into its own cache, and keeps the row of its vertical-to-horizontal
term. The horizontal stack then runs per pixel (once per colour sub-step): each layer gathers its
taps from the cache of the horizontal layer below, adds the kept vertical term at this column,
and writes its output at this pixel. The arithmetic is the model's own (``from_patches``,
``finish_vertical``, ``finish_horizontal``, the head), so logits match the full forward pass.
"""

from __future__ import annotations

import functools

import jax
from flax import nnx

from autoreg.samplers import activation_cache
from autoreg.samplers.raster_loop import sample_raster


@functools.partial(jax.jit, static_argnums=0)
def cached_gated_pixelcnn_sampler(graphdef, state, key, x, observed, labels, temperature):
    """``naive_sampler``'s samples for a Gated PixelCNN, each layer computed once per sub-pixel.

    Args:
      graphdef, state: ``nnx.split`` of a ``GatedPixelCNN``.
      key: PRNG key.
      x: (B, H, W, C) int32, read only where ``observed``.
      observed: (B, H, W, C) bool.
      labels: (B,) int32 class labels for a conditional model, else None.
      temperature: scalar float32.

    Returns:
      (B, H, W, C) int32 samples.
    """
    model = nnx.merge(graphdef, state)
    model.check_labels(labels)
    batch, _, width, colours = x.shape
    layers = list(model.layers)
    features = model.config.features
    biases = [layer.condition(labels) for layer in layers]  # (vertical, horizontal) (B, 2F)

    # The image cache serves both first-layer kernels; layer l's outputs feed layer l + 1.
    image_pad = tuple(
        max(a, b)
        for a, b in zip(
            activation_cache.taps_reach(layers[0].vertical.taps),
            activation_cache.taps_reach(layers[0].horizontal.taps),
            strict=True,
        )
    )
    v_pads = [activation_cache.taps_reach(layer.vertical.taps) for layer in layers[1:]]
    h_pads = [activation_cache.taps_reach(layer.horizontal.taps) for layer in layers[1:]]
    v_caches = tuple(activation_cache.empty_cache(batch, width, features, pad) for pad in v_pads)
    h_caches = tuple(activation_cache.empty_cache(batch, width, features, pad) for pad in h_pads)
    # Per layer, this row's vertical-to-horizontal term: (B, 1, W, 2F).
    v_to_h_rows = tuple(
        activation_cache.empty_cache(batch, width, 2 * features, (0, 0)) for _ in layers
    )

    def row_fn(image, caches):
        v_caches, h_caches, _ = caches
        v_in, v_in_pad = image, image_pad
        new_v_caches, v_to_h_rows = [], []
        for n, layer in enumerate(layers):
            patches = activation_cache.gather(v_in, v_in_pad[1], layer.vertical.taps, 0, width)
            v_pre, v_out = layer.finish_vertical(
                layer.vertical.from_patches(patches), biases[n][0]
            )  # (B, 1, W, 2F), (B, 1, W, F)
            v_to_h_rows.append(layer.vertical_to_horizontal(v_pre))  # (B, 1, W, 2F)
            if n + 1 < len(layers):
                v_in, v_in_pad = v_caches[n], v_pads[n]
                v_in = activation_cache.write(v_in, v_in_pad[1], 0, v_out)
                new_v_caches.append(v_in)
        return tuple(new_v_caches), h_caches, tuple(v_to_h_rows)

    def pixel_fn(j, image, caches):
        v_caches, h_caches, v_to_h_rows = caches
        h_in, h_in_pad, h = image, image_pad, None
        new_h_caches, skip = [], None
        for n, layer in enumerate(layers):
            patches = activation_cache.gather(h_in, h_in_pad[1], layer.horizontal.taps, j, 1)
            v_to_h = jax.lax.dynamic_slice_in_dim(v_to_h_rows[n], j, 1, axis=2)  # (B, 1, 1, 2F)
            h, s = layer.finish_horizontal(
                layer.horizontal.from_patches(patches), v_to_h, h, biases[n][1]
            )  # (B, 1, 1, F) or None, (B, 1, 1, S)
            skip = s if skip is None else skip + s
            if n + 1 < len(layers):
                h_in, h_in_pad = h_caches[n], h_pads[n]
                h_in = activation_cache.write(h_in, h_in_pad[1], j, h)
                new_h_caches.append(h_in)
        logits = model.head(skip).reshape(batch, colours, model.levels)  # (B, C, K)
        return logits, (v_caches, tuple(new_h_caches), v_to_h_rows)

    return sample_raster(
        key,
        x,
        observed,
        temperature,
        levels=model.levels,
        image_pad=image_pad,
        caches=(v_caches, h_caches, v_to_h_rows),
        row_fn=row_fn,
        pixel_fn=pixel_fn,
    )
