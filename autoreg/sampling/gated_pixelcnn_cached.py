"""Cached sampling for the Gated PixelCNN (Ramachandran et al. 2017).

The vertical stack at row ``i`` reads only rows above ``i``, so it runs once per row, over the
whole row, when the row starts: each layer gathers its taps from the cache of the layer below,
writes its gated output row into its own cache, and keeps the row of its vertical-to-horizontal
term. The horizontal stack then runs per pixel (once per colour sub-step): each layer gathers its
taps from the cache of the horizontal layer below, adds the kept vertical term at this column,
and writes its output at this pixel. The arithmetic is the model's own (``*_from_patches``,
``finish_vertical``, ``finish_horizontal``, ``output_logits``), so logits match the full
forward pass.

``naive_sampler``'s samples for the same key (a ``Sampler``); the registry's default for
``gated_pixelcnn``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax

from autoreg.sampling import activation_cache
from autoreg.sampling.raster_loop import RasterPlan, raster_sampler


class Layout(NamedTuple):
    """Cache paddings: of the image (read by the first layer) and of each later layer's input."""

    image_pad: tuple  # (rows above, columns either side) of the image cache
    v_pads: list  # per layer after the first: padding of its vertical input's cache
    h_pads: list  # per layer after the first: padding of its horizontal input's cache


def cache_layout(layers) -> Layout:
    """The paddings every cache needs for the taps of the layer that reads it."""
    first_v = activation_cache.taps_reach(layers[0].vertical_taps)
    first_h = activation_cache.taps_reach(layers[0].horizontal_taps)
    return Layout(
        image_pad=tuple(max(a, b) for a, b in zip(first_v, first_h, strict=True)),
        v_pads=[activation_cache.taps_reach(layer.vertical_taps) for layer in layers[1:]],
        h_pads=[activation_cache.taps_reach(layer.horizontal_taps) for layer in layers[1:]],
    )


def empty_caches(layout: Layout, num_layers: int, batch: int, width: int, features: int):
    """Zero caches ``(vertical inputs, horizontal inputs, vertical-to-horizontal rows)``."""
    v_caches = tuple(activation_cache.empty_cache(batch, width, features, p) for p in layout.v_pads)
    h_caches = tuple(activation_cache.empty_cache(batch, width, features, p) for p in layout.h_pads)
    # Per layer, this row's vertical-to-horizontal term: (B, 1, W, 2F).
    v_to_h_rows = tuple(
        activation_cache.empty_cache(batch, width, 2 * features, (0, 0)) for _ in range(num_layers)
    )
    return v_caches, h_caches, v_to_h_rows


def vertical_row(layers, layout: Layout, biases, width: int, i, image, caches):
    """Run the vertical stack over the current row (``row_fn`` of ``sample_raster``).

    ``i`` is the row index (unused: the caches already hold the rows above). Writes each
    layer's gated output row into the next layer's vertical cache and keeps each
    layer's vertical-to-horizontal term of the row; the horizontal caches pass through.
    """
    v_caches, h_caches, _ = caches
    v_in, v_in_pad = image, layout.image_pad
    new_v_caches, v_to_h_rows = [], []
    for n, layer in enumerate(layers):
        patches = activation_cache.gather(v_in, v_in_pad[1], layer.vertical_taps, 0, width)
        v_to_h, v_out = layer.finish_vertical(
            layer.vertical_from_patches(patches), biases[n][0]
        )  # (B, 1, W, 2F), (B, 1, W, F)
        v_to_h_rows.append(v_to_h)
        if n + 1 < len(layers):
            v_in, v_in_pad = v_caches[n], layout.v_pads[n]
            v_in = activation_cache.write(v_in, v_in_pad[1], 0, v_out)
            new_v_caches.append(v_in)
    return tuple(new_v_caches), h_caches, tuple(v_to_h_rows)


def horizontal_pixel(model, layout: Layout, biases, j, image, caches):
    """Run the horizontal stack at column ``j`` (``pixel_fn`` of ``sample_raster``).

    Returns:
      (B, C, K) logits of the pixel, and the caches with this pixel's outputs written.
    """
    v_caches, h_caches, v_to_h_rows = caches
    layers = model.step_layers()
    h_in, h_in_pad, h = image, layout.image_pad, None
    new_h_caches, skip = [], None
    for n, layer in enumerate(layers):
        patches = activation_cache.gather(h_in, h_in_pad[1], layer.horizontal_taps, j, 1)
        v_to_h = jax.lax.dynamic_slice_in_dim(v_to_h_rows[n], j, 1, axis=2)  # (B, 1, 1, 2F)
        h, s = layer.finish_horizontal(
            layer.horizontal_from_patches(patches), v_to_h, h, biases[n][1]
        )  # (B, 1, 1, F) or None, (B, 1, 1, S)
        skip = s if skip is None else skip + s
        if n + 1 < len(layers):
            h_in, h_in_pad = h_caches[n], layout.h_pads[n]
            h_in = activation_cache.write(h_in, h_in_pad[1], j, h)
            new_h_caches.append(h_in)
    logits = model.output_logits(skip)[:, 0, 0]  # (B, C, K)
    return logits, (v_caches, tuple(new_h_caches), v_to_h_rows)


@raster_sampler
def cached_gated_pixelcnn_sampler(model, shape, labels) -> RasterPlan:
    """``naive_sampler``'s samples for a Gated PixelCNN, each layer computed once per sub-pixel.

    A ``Sampler`` (of this ``raster_sampler`` plan) for ``nnx.split`` of a ``GatedPixelCNN``; x
    and the samples are (B, H, W, C) images; labels (B,) for a class-conditional model.
    """
    batch, _, width, _ = shape
    layers = model.step_layers()
    layout = cache_layout(layers)
    biases = [layer.condition(labels) for layer in layers]  # (vertical, horizontal) (B, 2F)
    return RasterPlan(
        image_pad=layout.image_pad,
        caches=empty_caches(layout, len(layers), batch, width, model.config.features),
        row_fn=functools.partial(vertical_row, layers, layout, biases, width),
        pixel_fn=functools.partial(horizontal_pixel, model, layout, biases),
    )
