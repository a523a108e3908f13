"""Row LSTM (van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural Networks", 3.1).

Each layer runs an LSTM down the image one row at a time (``lax.scan`` over rows). The gates of
row ``i`` are the sum of

- an input-to-state 1xk convolution over row ``i`` of the layer input, mask B: the ``k // 2``
  pixels to the left plus the current pixel, whose colour groups are masked so that group ``g``
  sees input groups ``<= g``; computed for the whole image at once;
- a state-to-state 1xk convolution over the hidden states of row ``i - 1`` (centred, unmasked:
  the previous row is entirely in the past, colours included).

With the gate channels split into colour groups (``pixelrnn``), hidden unit group ``g`` at a
pixel only receives group ``<= g`` input at that pixel, so R, G, B keep their order.

Receptive field: a triangle. The hidden state at ``(i, j)`` sees row ``i - d`` only at columns
``j - (d + 1) * (k // 2) .. j + d * (k // 2)`` (widened by the first layer's reach), so context to
the upper right beyond the triangle's edge and far left in the current rows is never seen, however
many layers are stacked; the Diagonal BiLSTM sees the whole context.

Sampling: ``autoreg.sampling.row_lstm_incremental`` keeps each layer's previous-row state and
computes one sub-pixel at a time in O(1) network work (the registry's default for ``row_lstm``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.models.config_checks import KERNEL, Bounds, check_odd
from autoreg.models.layers import MaskedConv2D
from autoreg.models.pixelrnn import (
    PixelRNN,
    PixelRNNConfig,
    PixelRNNLayer,
    gate_bias,
    recurrent_init,
)


@dataclasses.dataclass(frozen=True)
class RowLSTMConfig(PixelRNNConfig):
    """Hyper-parameters of a Row LSTM: those of every PixelRNN, plus its kernel size."""

    kernel: int = 3  # k of the 1xk input-to-state and state-to-state convolutions (odd)

    BOUNDS: ClassVar[Bounds] = dict(PixelRNNConfig.BOUNDS, kernel=KERNEL)

    def __post_init__(self):
        super().__post_init__()
        check_odd(self, "kernel")


PRESETS = {
    # For tests: compiles in a few seconds.
    "tiny": dict(hidden=6, num_layers=2, kernel=3, output_channels=8, first_kernel=3),
    # Within 20% of the parameters of the PixelCNN reference preset (~0.31M for 28x28x1, K=256).
    "reference": dict(hidden=36, num_layers=7, kernel=3, output_channels=128, first_kernel=7),
}


class RowLSTMLayer(PixelRNNLayer):
    """One residual Row LSTM layer: (B, H, W, 2h) -> (B, H, W, 2h)."""

    def __init__(self, hidden: int, kernel: int, num_colours: int, impl: str, rngs: nnx.Rngs):
        self.num_colours = num_colours
        self.kernel = kernel
        conv = dict(mask_type="B", num_colours=num_colours, impl=impl, rngs=rngs)
        self.input_to_state = MaskedConv2D(2 * hidden, 4 * hidden, (1, kernel), **conv)
        self.input_to_state.bias.set_value(gate_bias(hidden, num_colours))
        # (k, h, 4h): tap t looks at column j + t - k // 2 of the previous row.
        self.state_to_state = nnx.Param(recurrent_init(rngs, (kernel, hidden, 4 * hidden)))
        self.output = MaskedConv2D(hidden, 2 * hidden, 1, **conv)

    @property
    def input_taps(self) -> tuple:
        """(0, dx) taps of the input-to-state convolution: ``-k // 2 .. 0``, in its order."""
        return self.input_to_state.taps

    @property
    def hidden(self) -> int:
        """h: LSTM units of the layer."""
        return self.state_to_state.shape[1]

    def input_gates(self, window: jax.Array) -> jax.Array:  # (B, (k // 2 + 1) * 2h) -> (B, 4h)
        """Input-to-state gates of one pixel from its row window (taps (0, -k//2) .. (0, 0))."""
        return self.input_to_state.from_patches(window)

    def output_from_hidden(self, h: jax.Array) -> jax.Array:  # (..., h) -> (..., 2h)
        """The 1x1 projection of the hidden state that the layer adds to its input."""
        return self.output.from_patches(h)

    def recurrent_gates(self, h_prev: jax.Array) -> jax.Array:
        """State-to-state convolution of the previous row: (B, W, h) -> (B, W, 4h)."""
        k, w = self.kernel, h_prev.shape[1]
        padded = jnp.pad(h_prev, ((0, 0), (k // 2, k // 2), (0, 0)))
        taps = jnp.concatenate([padded[:, t : t + w] for t in range(k)], axis=-1)  # (B, W, k h)
        kernel = self.state_to_state[...]
        return taps @ kernel.reshape(-1, kernel.shape[-1])

    def __call__(self, r: jax.Array) -> jax.Array:
        b, _, w, _ = r.shape
        hidden = self.state_to_state.shape[1]
        z_input = self.input_to_state(r)  # (B, H, W, 4h)

        def row(carry, z_row):  # z_row: (B, W, 4h)
            h_prev, c_prev = carry  # (B, W, h) each
            h, c = self.cell(z_row + self.recurrent_gates(h_prev), c_prev)
            return (h, c), h

        zeros = jnp.zeros((b, w, hidden), r.dtype)
        _, hs = jax.lax.scan(row, (zeros, zeros), jnp.moveaxis(z_input, 1, 0))  # (H, B, W, h)
        return r + self.output(jnp.moveaxis(hs, 0, 1))  # (B, H, W, 2h)


class RowLSTM(PixelRNN):
    """Row LSTM: ``model(x) -> logits``, x (B, H, W, C) int in 0..K-1, logits (B, H, W, C, K).

    Receptive field: the triangle above each pixel (see the module docstring), not the full
    context.
    """

    name = "row_lstm"

    def __init__(self, config: RowLSTMConfig, *, rngs: nnx.Rngs):
        c = config.image_shape[2]
        layers = [
            RowLSTMLayer(config.hidden, config.kernel, c, config.conv_impl, rngs)
            for _ in range(config.num_layers)
        ]
        super().__init__(config, layers, rngs=rngs)
