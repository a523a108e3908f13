"""Incremental sampling for the Diagonal BiLSTM: about one forward pass of work per sample.

Each layer has two LSTMs (see ``autoreg.models.diagonal_bilstm``). In image coordinates:

- the left-to-right state of pixel ``(i, j)`` reads the states of ``(i - 1, j)`` (above) and
  ``(i, j - 1)`` (left), and continues the left neighbour's cell: it can be computed pixel by
  pixel in raster order, once the layer input at ``(i, j)`` is known;
- the right-to-left state of ``(i, j)`` reads ``(i - 1, j)`` and ``(i, j + 1)``; the layer uses
  it shifted down one row, so row ``i`` only needs the right-to-left states of row ``i - 1``.
  Those are computed once, when row ``i - 1`` is finished, by one scan over its columns from
  right to left (all layers at once: their inputs of that row are all final by then).

The loop is the cached samplers' (``raster_loop``): ``row_fn`` runs the right-to-left scans of
the previous row and moves the left-to-right states down; ``pixel_fn`` runs every layer at one
pixel (once per colour: features of colour group ``g`` read only channels ``< g`` of the pixel,
so the logits of the channel being drawn are exact and the states stored after the last channel
are final). The mask-A input convolution gathers its taps from the image cache.

Every cache is a rolling cache of ``activation_cache`` (advanced at each row start), one per
layer: ``left_h`` (B, 2, 1 + W, h) the left-to-right states of the previous and current row,
with a zero column for ``j - 1 = -1``; ``left_c`` (B, 1, 1 + W, h) the current row's cells;
``inputs`` (B, 2, W, 2h) the layer inputs of the previous and current row; ``right_h`` (B, 2, W,
h) the right-to-left states of the row before the previous one and of the previous one.

Samples are ``naive_sampler``'s for the same key (a ``Sampler``; the registry's default for
``diagonal_bilstm``): the same positions, the same noise, and the model's own arithmetic per
pixel (``left_gates``, ``right_gates``, ``recurrent_kernel``, ``cell``, ``output_from_hidden``,
``output_logits``), summed in another order than the skewed forward pass, so a draw could
differ only at a tie of the Gumbel-max within float rounding (tested equal).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from autoreg.sampling import activation_cache
from autoreg.sampling.raster_loop import RasterPlan, raster_sampler


class Caches(NamedTuple):
    """Per-layer rolling caches (tuples of L arrays; shapes in the module docstring)."""

    left_h: tuple
    left_c: tuple
    inputs: tuple
    right_h: tuple


def empty_caches(num_layers: int, batch: int, width: int, hidden: int) -> Caches:
    """Zero caches for ``num_layers`` layers of ``hidden`` units on rows of ``width`` pixels."""

    def zeros(rows, cols, features):
        return tuple(jnp.zeros((batch, rows, cols, features)) for _ in range(num_layers))

    return Caches(
        left_h=zeros(2, width + 1, hidden),
        left_c=zeros(1, width + 1, hidden),
        inputs=zeros(2, width, 2 * hidden),
        right_h=zeros(2, width, hidden),
    )


def right_to_left_rows(layers, inputs: jax.Array, above: jax.Array) -> jax.Array:
    """Right-to-left states of one finished row, for every layer at once.

    Args:
      inputs: (L, B, W, 2h) the layers' inputs on the row.
      above: (L, B, W, h) their right-to-left states on the row above (zeros for row 0).

    Returns:
      (L, B, W, h) the states, scanned from column W - 1 down to 0.
    """
    z_input = jnp.stack([layer.right_gates(x) for layer, x in zip(layers, inputs, strict=True)])
    kernel = jnp.stack([layer.recurrent_kernel(1) for layer in layers])  # (L, 2h, 4h)

    def column(carry, inputs):
        h_next, c_next = carry  # (L, B, h): the state of the pixel to the right
        z_col, above_col = inputs  # (L, B, 4h), (L, B, h)
        recurrent = jnp.einsum(
            "lbk,lkn->lbn", jnp.concatenate([above_col, h_next], axis=-1), kernel
        )
        h, c = layers[0].cell(z_col + recurrent, c_next)  # one colour layout for all layers
        return (h, c), h

    zeros = jnp.zeros_like(above[:, :, 0])
    columns = (jnp.moveaxis(z_input, 2, 0), jnp.moveaxis(above, 2, 0))  # (W, L, B, .)
    _, hs = jax.lax.scan(column, (zeros, zeros), columns, reverse=True)  # (W, L, B, h)
    return jnp.moveaxis(hs, 0, 2)


def finish_row_above(layers, i, image, caches: Caches) -> Caches:
    """``row_fn``: the right-to-left states of row ``i - 1``, now that it is complete.

    After ``advance``, row 0 of ``inputs`` holds row ``i - 1``'s layer inputs and row 0 of
    ``right_h`` the states of row ``i - 2``; the new states go to row 1, which the pixels of
    row ``i`` read. Row 0 has no row above: its right-to-left map stays zero.
    """
    inputs = jnp.stack([cache[:, 0] for cache in caches.inputs])  # (L, B, W, 2h)
    above = jnp.stack([cache[:, 0] for cache in caches.right_h])  # (L, B, W, h)
    states = right_to_left_rows(layers, inputs, above) * (i > 0)  # (L, B, W, h)
    right_h = tuple(
        cache.at[:, 1].set(state) for cache, state in zip(caches.right_h, states, strict=True)
    )
    return caches._replace(right_h=right_h)


def pixel_column(model, image_pad: tuple, j, image, caches: Caches):
    """``pixel_fn``: every layer at pixel ``j`` of the current row; (B, C, K) logits.

    Writes the pixel's layer inputs and left-to-right states into the caches.
    """
    patches = activation_cache.gather(image, image_pad[1], model.input_taps, j, 1)
    r = model.input_from_patches(patches)[:, 0, 0]  # (B, 2h)
    new = {field: [] for field in Caches._fields if field != "right_h"}
    for n, layer in enumerate(model.step_layers()):
        inputs = caches.inputs[n].at[:, 1, j].set(r)
        left_h, left_c = caches.left_h[n], caches.left_c[n]
        above, left = left_h[:, 0, j + 1], left_h[:, 1, j]  # (B, h) each
        recurrent = jnp.concatenate([above, left], axis=-1) @ layer.recurrent_kernel(0)
        h, c = layer.cell(layer.left_gates(r) + recurrent, left_c[:, 0, j])
        new["left_h"].append(left_h.at[:, 1, j + 1].set(h))
        new["left_c"].append(left_c.at[:, 0, j + 1].set(c))
        new["inputs"].append(inputs)
        r = r + layer.output_from_hidden(h + caches.right_h[n][:, 1, j])  # (B, 2h)
    caches = Caches(**{k: tuple(v) for k, v in new.items()}, right_h=caches.right_h)
    return model.output_logits(r), caches  # (B, C, K)


@raster_sampler
def diagonal_bilstm_sampler(model, shape, labels) -> RasterPlan:
    """``naive_sampler``'s samples for a Diagonal BiLSTM, about one forward pass of work.

    A ``Sampler`` (of this ``raster_sampler`` plan) for ``nnx.split`` of a ``DiagonalBiLSTM``; x
    and the samples are (B, H, W, C) images; labels must be None.
    """
    batch, _, width, _ = shape
    layers = model.step_layers()
    image_pad = activation_cache.taps_reach(model.input_taps)
    return RasterPlan(
        image_pad=image_pad,
        caches=empty_caches(len(layers), batch, width, layers[0].hidden),
        row_fn=functools.partial(finish_row_above, layers),
        pixel_fn=functools.partial(pixel_column, model, image_pad),
    )
