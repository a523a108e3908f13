"""Incremental sampling for the Row LSTM: O(1) network work per sub-pixel instead of a full pass.

A Row LSTM layer at pixel ``(i, j)`` needs only: its input at ``(i, j - k // 2 .. j)``, the
previous row's hidden states at columns ``j - k // 2 .. j + k // 2`` and the previous row's cell
state at column ``j``. The sampler runs on the cached samplers' loop (``raster_loop``): at the
start of each row ``row_fn`` computes every layer's state-to-state gates of the whole row from
the previous row's hidden states (O(W) per row, O(1) per pixel); ``pixel_fn`` then runs the
pixel's column through the network (the mask-A input convolution gathered from the image cache,
each layer's cell, the output head), once per colour. Features of colour group ``g`` depend only
on data channels ``< g`` of the pixel, so the logits of channel ``c`` are exact, and the features
stored after the last channel are final.

Per layer, three rolling caches of ``activation_cache`` (advanced at each row start): ``inputs``
(B, 1, W + 2p, 2h) the current row's layer inputs, padded by p = k // 2 columns; ``states``
(B, 2, W, 2h) ``[h | c]`` of the previous and the current row; ``recurrent`` (B, 1, W, 4h) the
current row's state-to-state gates.

Samples are those of ``ancestral.naive_sampler`` for the same key (a ``Sampler``; the
registry's default for ``row_lstm``): the same flat order and noise. The two compute the same
logits in different orders of float32 operations, so a draw could only differ at a near-exact
tie of the Gumbel-max; the tests (CPU and an H200 GPU) have met none.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax.numpy as jnp

from autoreg.sampling import activation_cache
from autoreg.sampling.raster_loop import RasterPlan, raster_sampler


class Caches(NamedTuple):
    """Per-layer rolling caches (tuples of L arrays; shapes in the module docstring)."""

    inputs: tuple
    states: tuple
    recurrent: tuple


def empty_caches(layers, batch: int, width: int) -> Caches:
    """Zero caches for the Row LSTM ``layers`` on rows of ``width`` pixels."""
    return Caches(
        inputs=tuple(
            activation_cache.empty_cache(
                batch, width, 2 * layer.hidden, activation_cache.taps_reach(layer.input_taps)
            )
            for layer in layers
        ),
        states=tuple(jnp.zeros((batch, 2, width, 2 * layer.hidden)) for layer in layers),
        recurrent=tuple(
            activation_cache.empty_cache(batch, width, 4 * layer.hidden, (0, 0)) for layer in layers
        ),
    )


def start_row(layers, i, image, caches: Caches) -> Caches:
    """``row_fn``: every layer's state-to-state gates of row ``i`` from row ``i - 1``'s states.

    After ``advance``, row 0 of ``states`` holds row ``i - 1`` (zeros above the image).
    """
    recurrent = tuple(
        layer.recurrent_gates(states[:, 0, :, : layer.hidden])[:, None]  # (B, 1, W, 4h)
        for layer, states in zip(layers, caches.states, strict=True)
    )
    return caches._replace(recurrent=recurrent)


def pixel_column(model, image_pad: tuple, j, image, caches: Caches):
    """``pixel_fn``: every layer at pixel ``j`` of the current row; (B, C, K) logits.

    Writes the pixel's layer inputs and ``[h | c]`` into the caches.
    """
    patches = activation_cache.gather(image, image_pad[1], model.input_taps, j, 1)
    r = model.input_from_patches(patches)  # (B, 1, 1, 2h)
    inputs, states = [], []
    for n, layer in enumerate(model.step_layers()):
        pad_x = activation_cache.taps_reach(layer.input_taps)[1]
        row_inputs = activation_cache.write(caches.inputs[n], pad_x, j, r)
        window = activation_cache.gather(row_inputs, pad_x, layer.input_taps, j, 1)
        z = layer.input_gates(window[:, 0, 0]) + caches.recurrent[n][:, 0, j]  # (B, 4h)
        c_prev = caches.states[n][:, 0, j, layer.hidden :]  # (B, h)
        h, c = layer.cell(z, c_prev)  # (B, h) each
        states.append(
            caches.states[n].at[:, 1, j].set(jnp.concatenate([h, c], axis=-1))
        )  # (B, 2, W, 2h)
        inputs.append(row_inputs)
        r = r + layer.output_from_hidden(h)[:, None, None]  # (B, 1, 1, 2h)
    logits = model.output_logits(r[:, 0, 0])  # (B, C, K)
    return logits, caches._replace(inputs=tuple(inputs), states=tuple(states))


@raster_sampler
def incremental_sampler(model, shape, labels) -> RasterPlan:
    """Row LSTM sampler with per-layer row state: ``naive_sampler``'s samples.

    A ``Sampler`` (of this ``raster_sampler`` plan) for ``nnx.split`` of a ``RowLSTM``; x and the
    samples are (B, H, W, C) images; labels must be None.
    """
    batch, _, width, _ = shape
    layers = model.step_layers()
    image_pad = activation_cache.taps_reach(model.input_taps)
    return RasterPlan(
        image_pad=image_pad,
        caches=empty_caches(layers, batch, width),
        row_fn=functools.partial(start_row, layers),
        pixel_fn=functools.partial(pixel_column, model, image_pad),
    )
