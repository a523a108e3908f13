"""Incremental sampling for the Row LSTM: O(1) network work per sub-pixel instead of a full pass.

A Row LSTM layer at pixel ``(i, j)`` needs only: its input at ``(i, j - k // 2 .. j)``, the
previous row's hidden states at columns ``j - k // 2 .. j + k // 2`` and the previous row's cell
state at column ``j``. The sampler keeps, per layer, the previous row's ``(h, c)``, the current
row's ``(h, c)`` as it is filled, and the current row's layer inputs; at the start of a row it
computes the state-to-state gates of the whole row once (O(W) per row, O(1) per pixel).

Each sub-pixel ``(i, j, c)`` then recomputes the whole pixel column through the network (the
mask-A input convolution at one position, each layer's cell, the output head) from the samples
so far. Features of colour group ``g`` depend only on data channels ``< g`` of the pixel, so the
logits of channel ``c`` are exact, and the features stored after the last channel are final.

Samples are bit-identical to ``ancestral.naive_sampler`` for the same key (same flat
order, same ``draw_categorical`` noise). The two compute the same logits in different orders of
float32 operations, so a draw could only differ at a near-exact tie of the Gumbel-max; the tests
(CPU and an H200 GPU) have met none.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.models.layers import scale_to_unit
from autoreg.models.pixelrnn import lstm_update
from autoreg.models.row_lstm import RowLSTM
from autoreg.sampling.ancestral import draw_categorical, reject_features


class RowState(NamedTuple):
    """Sampling state; ``L`` layers, ``h`` hidden units, ``p = k // 2``, ``r`` and ``x`` padding."""

    samples: jax.Array  # (B, H, W, C) int32: observed values and samples so far
    scaled: jax.Array  # (B, H + ry, W + 2 rx, C) float32: samples in [-1, 1], zero padding
    h_prev: jax.Array  # (L, B, W, h) hidden states of the previous row
    c_prev: jax.Array  # (L, B, W, h) cell states of the previous row
    h_row: jax.Array  # (L, B, W, h) hidden states of the current row, filled left to right
    c_row: jax.Array  # (L, B, W, h) cell states of the current row
    inputs: jax.Array  # (L, B, p + W, 2h) layer inputs of the current row, p zero columns first


def first_layer_at(model: RowLSTM, scaled: jax.Array, i, j) -> jax.Array:
    """The mask-A input convolution at pixel ``(i, j)``: (B, 2h)."""
    kh, kw = model.input_kernel_size
    ry, rx = kh // 2, kw // 2
    b, c = scaled.shape[0], scaled.shape[-1]
    patch = jax.lax.dynamic_slice(scaled, (0, i, j, 0), (b, ry + 1, kw, c))  # (B, ry + 1, kw, C)
    rows = jnp.array([ry + dy for dy, _ in model.input_taps])
    cols = jnp.array([rx + dx for _, dx in model.input_taps])
    return model.input_from_patches(patch[:, rows, cols, :].reshape(b, -1))  # (B, 2h)


def pixel_logits(model: RowLSTM, state: RowState, recurrent: jax.Array, i, j):
    """Logits of every channel of pixel ``(i, j)`` from the state; stores its features.

    Args:
      recurrent: (L, B, W, 4h) state-to-state gates of row ``i``.

    Returns:
      (logits (B, C, K), state with the pixel's layer inputs and (h, c) written).
    """
    r = first_layer_at(model, state.scaled, i, j)  # (B, 2h)
    inputs, h_row, c_row = state.inputs, state.h_row, state.c_row
    for layer_index, layer in enumerate(model.layers):
        p = layer.kernel // 2
        inputs = inputs.at[layer_index, :, p + j].set(r)
        # Taps (0, -p) .. (0, 0) of the input-to-state convolution, in its tap order.
        window = jax.lax.dynamic_slice_in_dim(inputs[layer_index], j, p + 1, axis=1)  # (B, p+1, 2h)
        z = layer.input_gates(window.reshape(r.shape[0], -1))  # (B, 4h)
        z = z + recurrent[layer_index, :, j]
        h, c = lstm_update(z, state.c_prev[layer_index, :, j], layer.num_colours)  # (B, h) each
        h_row = h_row.at[layer_index, :, j].set(h)
        c_row = c_row.at[layer_index, :, j].set(c)
        r = r + layer.output_from_hidden(h)  # (B, 2h)
    state = state._replace(inputs=inputs, h_row=h_row, c_row=c_row)
    return model.head(r), state  # (B, C, K)


@functools.partial(jax.jit, static_argnums=0)
def incremental_sampler(graphdef, state, key, x, observed, labels, temperature, *, features=None):
    """Row LSTM sampler with per-layer row state: ``naive_sampler``'s samples.

    A ``Sampler`` (arguments as documented there) for ``nnx.split`` of a ``RowLSTM``; x and the
    samples are (B, H, W, C) images; labels must be None.
    """
    model = nnx.merge(graphdef, state)
    model.check_labels(labels)
    reject_features(model, features)
    b, height, width, colours = x.shape
    kh, kw = model.input_kernel_size
    num_layers, hidden = len(model.layers), model.config.hidden
    p = model.config.kernel // 2
    samples = jnp.where(observed, x, 0).astype(jnp.int32)
    scaled = jnp.pad(
        scale_to_unit(samples, model.levels), ((0, 0), (kh // 2, 0), (kw // 2,) * 2, (0, 0))
    )
    zeros = jnp.zeros((num_layers, b, width, hidden), jnp.float32)
    inputs = jnp.zeros((num_layers, b, p + width, 2 * hidden), jnp.float32)
    init = RowState(samples, scaled, zeros, zeros, zeros, zeros, inputs)

    def row(i, st: RowState) -> RowState:
        recurrent = jnp.stack(
            [layer.recurrent_gates(st.h_prev[n]) for n, layer in enumerate(model.layers)]
        )  # (L, B, W, 4h)

        def sub_pixel(q, st: RowState) -> RowState:
            j, c = q // colours, q % colours
            logits, st = pixel_logits(model, st, recurrent, i, j)  # (B, C, K)
            position = (i * width + j) * colours + c
            drawn = draw_categorical(key, position, logits[:, c], temperature)  # (B,)
            value = jnp.where(observed[:, i, j, c], x[:, i, j, c], drawn).astype(jnp.int32)
            samples = st.samples.at[:, i, j, c].set(value)
            scaled = st.scaled.at[:, i + kh // 2, j + kw // 2, c].set(
                scale_to_unit(value, model.levels)
            )
            return st._replace(samples=samples, scaled=scaled)

        st = jax.lax.fori_loop(0, width * colours, sub_pixel, st)
        return st._replace(h_prev=st.h_row, c_prev=st.c_row)

    return jax.lax.fori_loop(0, height, row, init).samples
