"""Diagonal BiLSTM (van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural Networks",
section 3.2).

Each layer runs two LSTMs along the diagonals of the image. The input map is skewed (row ``i``
shifted right by ``i``) so that each diagonal becomes a column; the LSTM then scans the columns
(``lax.scan``), and the state-to-state step is a 2x1 column convolution: in the original image
pixel ``(i, j)`` reads the hidden states of ``(i - 1, j)`` (above) and ``(i, j - 1)`` (left), and
its cell state continues the left neighbour's. The input-to-state step is a 1x1 convolution.

- Left to right: sees the quadrant above and to the left, the current pixel through a mask-B
  1x1 input convolution (colour group ``g`` only from input groups ``<= g``, with the gate
  channels split into colour groups as in ``pixelrnn``).
- Right to left: the same on the mirrored image, which would see the pixel to the right; its
  output map is shifted down one row, so the map at ``(i, j)`` is the state of ``(i - 1, j)``:
  rows above only, so its input convolution needs no colour mask.

The two maps are added, projected by a 1x1 mask-B convolution and added to the layer input.

Receptive field: the full context, from the first LSTM layer on, with one exception that the
paper's design implies. After one layer the state at ``(i, j)`` has seen every feature of rows
``< i`` (the left map covers columns ``<= j``, the shifted right map columns ``>= j``) and the
features of row ``i`` left of ``j``. The last sub-pixel of row ``i - 1`` (the B of its last pixel
for RGB), however, is in no feature of row ``i - 1`` (the mask-A input layer shows a sub-pixel only
to later positions), so pixel ``(i, j)`` sees it only through the input layer's reach, i.e. when
``j >= W - 1 - first_kernel // 2``; every later row sees it. The last pixel of the image depends on
every earlier sub-pixel.

Sampling: ``autoreg.sampling.diagonal_bilstm_incremental`` (the registry's default) computes
the left-to-right maps pixel by pixel and scans each finished row right to left once, so a whole
sample costs about one forward pass of network work.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.models.layers import MaskedConv2D
from autoreg.models.pixelrnn import (
    PixelRNN,
    PixelRNNConfig,
    PixelRNNLayer,
    gate_bias,
    recurrent_init,
)


@dataclasses.dataclass(frozen=True)
class DiagonalBiLSTMConfig(PixelRNNConfig):
    """Hyper-parameters of a Diagonal BiLSTM (``hidden`` units per direction)."""

    hidden: int = 33  # h: LSTM units per direction (a multiple of C); the residual stream has 2h


PRESETS = {
    # For tests: compiles in a few seconds.
    "tiny": dict(hidden=6, num_layers=2, output_channels=8, first_kernel=3),
    # Within 20% of the parameters of the PixelCNN reference preset (~0.31M for 28x28x1, K=256).
    "reference": dict(hidden=33, num_layers=7, output_channels=128, first_kernel=7),
}


def skew(x: jax.Array) -> jax.Array:
    """Shift row ``i`` right by ``i``: (..., H, W, F) -> (..., H, W + H - 1, F), zeros elsewhere.

    Column ``s`` of the result holds the diagonal ``i + j = s``.
    """
    *lead, h, w, f = x.shape
    padded = jnp.pad(x, [(0, 0)] * len(lead) + [(0, 0), (0, h), (0, 0)])  # (..., H, W + H, F)
    flat = padded.reshape(*lead, h * (w + h), f)[..., : h * (w + h - 1), :]
    return flat.reshape(*lead, h, w + h - 1, f)


def unskew(x: jax.Array, width: int) -> jax.Array:
    """Inverse of ``skew``: (..., H, W + H - 1, F) -> (..., H, W, F)."""
    *lead, h, s, f = x.shape
    flat = x.reshape(*lead, h * s, f)
    flat = jnp.pad(flat, [(0, 0)] * len(lead) + [(0, h), (0, 0)])
    return flat.reshape(*lead, h, s + 1, f)[..., :width, :]


def skewed_validity(height: int, width: int) -> np.ndarray:
    """(W + H - 1, H, 1) 0/1: whether skewed column ``s``, row ``i`` is a pixel of the image."""
    s = np.arange(width + height - 1)[:, None]
    i = np.arange(height)[None, :]
    return ((s - i >= 0) & (s - i < width)).astype(np.float32)[..., None]


class DiagonalBiLSTMLayer(PixelRNNLayer):
    """One residual Diagonal BiLSTM layer: (B, H, W, 2h) -> (B, H, W, 2h)."""

    def __init__(self, hidden: int, num_colours: int, impl: str, rngs: nnx.Rngs):
        self.num_colours = num_colours
        conv = dict(mask_type="B", impl=impl, rngs=rngs)
        self.left_input = MaskedConv2D(2 * hidden, 4 * hidden, 1, num_colours=num_colours, **conv)
        # Shifted down a row before use: the right map sees only rows above, all colours.
        self.right_input = MaskedConv2D(2 * hidden, 4 * hidden, 1, num_colours=1, **conv)
        for conv_in in (self.left_input, self.right_input):
            conv_in.bias.set_value(gate_bias(hidden, num_colours))
        # (direction, tap, h, 4h): direction 0 left-to-right, 1 right-to-left; tap 0 reads the
        # state above, tap 1 the state to the left (to the right on the mirrored image).
        self.state_to_state = nnx.Param(recurrent_init(rngs, (2, 2, hidden, 4 * hidden)))
        self.output = MaskedConv2D(hidden, 2 * hidden, 1, num_colours=num_colours, **conv)

    @property
    def hidden(self) -> int:
        """h: LSTM units per direction."""
        return self.state_to_state.shape[2]

    def left_gates(self, r: jax.Array) -> jax.Array:  # (..., 2h) -> (..., 4h)
        """Input-to-state gates of the left-to-right LSTM (1x1, mask B) at the same pixels."""
        return self.left_input.from_patches(r)

    def right_gates(self, r: jax.Array) -> jax.Array:  # (..., 2h) -> (..., 4h)
        """Input-to-state gates of the right-to-left LSTM (1x1, no colour mask)."""
        return self.right_input.from_patches(r)

    def recurrent_kernel(self, direction: int) -> jax.Array:
        """(2h, 4h) state-to-state kernel of a direction (0 left-to-right, 1 right-to-left):
        rows ``:h`` weigh the state above, rows ``h:`` the state before in the scan."""
        return self.state_to_state[...][direction].reshape(2 * self.hidden, 4 * self.hidden)

    def output_from_hidden(self, h: jax.Array) -> jax.Array:  # (..., h) -> (..., 2h)
        """The 1x1 mask-B projection of the summed maps that the layer adds to its input."""
        return self.output.from_patches(h)

    def __call__(self, r: jax.Array) -> jax.Array:
        b, height, width, _ = r.shape
        hidden = self.state_to_state.shape[2]
        kernel = self.state_to_state[...].reshape(2, 2 * hidden, 4 * hidden)
        mirrored = jnp.flip(self.right_input(r), axis=2)  # 1x1 convolution commutes with flips
        z_input = skew(jnp.stack([self.left_input(r), mirrored]))  # (2, B, H, S, 4h)
        valid = jnp.asarray(skewed_validity(height, width))  # (S, H, 1)

        def column(carry, inputs):
            h_prev, c_prev = carry  # (2, B, H, h) each: the previous diagonal
            z_col, valid_col = inputs  # (2, B, H, 4h), (H, 1)
            above = jnp.pad(h_prev, ((0, 0), (0, 0), (1, 0), (0, 0)))[:, :, :-1]
            z = z_col + jnp.einsum(
                "dbhk,dkn->dbhn", jnp.concatenate([above, h_prev], axis=-1), kernel
            )
            h, c = self.cell(z, c_prev)
            h, c = h * valid_col, c * valid_col  # zero state outside the image
            return (h, c), h

        zeros = jnp.zeros((2, b, height, hidden), r.dtype)
        _, hs = jax.lax.scan(column, (zeros, zeros), (jnp.moveaxis(z_input, 3, 0), valid))
        hs = unskew(jnp.moveaxis(hs, 0, 3), width)  # (2, B, H, W, h)
        right = jnp.flip(hs[1], axis=2)
        right = jnp.pad(right, ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]  # shift down one row
        return r + self.output(hs[0] + right)  # (B, H, W, 2h)


class DiagonalBiLSTM(PixelRNN):
    """Diagonal BiLSTM: ``model(x) -> logits``, x (B, H, W, C) int, logits (B, H, W, C, K).

    Receptive field: the full context, except the last sub-pixel of the previous row for pixels near
    the start of a row (see the module docstring).
    """

    name = "diagonal_bilstm"

    def __init__(self, config: DiagonalBiLSTMConfig, *, rngs: nnx.Rngs):
        c = config.image_shape[2]
        layers = [
            DiagonalBiLSTMLayer(config.hidden, c, config.conv_impl, rngs)
            for _ in range(config.num_layers)
        ]
        super().__init__(config, layers, rngs=rngs)
