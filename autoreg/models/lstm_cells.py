"""Pieces shared by the PixelRNN models (Row LSTM, Diagonal BiLSTM).

- Colour-grouped LSTM gates. The ``4n`` gate pre-activations of ``n`` hidden units are laid out
  as ``(C, 4, n // C)``: colour group, gate (i, f, o, g), unit. With ``n`` a multiple of ``C``
  this is exactly the grouping ``colour_groups`` gives a ``4n``-channel map, so a mask-B
  input-to-state convolution feeds gate group ``g`` only from input groups ``<= g`` at the
  current pixel, and the cell update (elementwise) keeps hidden unit group ``g`` fed by gate
  group ``g`` only.
- ``PixelRNN``: the skeleton of section 3.4 of the paper: a mask-A input convolution to ``2h``
  channels, residual LSTM layers (``2h -> 4h`` gates, ``h`` hidden units, a 1x1 mask-B
  convolution back to ``2h`` added to the layer input), then ReLU, 1x1 mask B, ReLU, 1x1 mask B
  to ``K`` logits per sub-pixel.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.models.base import AutoregressiveModel
from autoreg.models.layers import CONV_IMPLS, MaskedConv2D
from autoreg.models.pixelcnn import scale_to_unit

GATES = 4  # input, forget, output, candidate


def split_gates(z: jax.Array, num_colours: int) -> tuple[jax.Array, ...]:
    """(..., 4n) pre-activations -> four (..., n) arrays i, f, o, g (layout (C, 4, n // C))."""
    *lead, width = z.shape
    n = width // GATES
    z = z.reshape(*lead, num_colours, GATES, n // num_colours)  # (..., C, 4, n / C)
    return tuple(z[..., k, :].reshape(*lead, n) for k in range(GATES))


def lstm_update(z: jax.Array, c_prev: jax.Array, num_colours: int) -> tuple[jax.Array, jax.Array]:
    """One LSTM step from summed gate pre-activations (eq. 3 of the paper).

    Args:
      z: (..., 4n) pre-activations (input-to-state plus state-to-state).
      c_prev: (..., n) previous cell state.
      num_colours: C, the number of colour groups of the layout.

    Returns:
      (h, c), each (..., n): ``c = sigmoid(f) c_prev + sigmoid(i) tanh(g)``,
      ``h = sigmoid(o) tanh(c)``.
    """
    i, f, o, g = split_gates(z, num_colours)
    c = jax.nn.sigmoid(f) * c_prev + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c


def gate_bias(hidden: int, num_colours: int, forget: float = 1.0) -> jax.Array:
    """(4 * hidden,) gate bias: ``forget`` on the forget gates, 0 elsewhere (layout as above)."""
    bias = jnp.zeros((num_colours, GATES, hidden // num_colours), jnp.float32)
    return bias.at[:, 1].set(forget).reshape(-1)


def recurrent_init(rngs: nnx.Rngs, shape: tuple[int, ...]) -> jax.Array:
    """Fan-in scaled truncated normal for a state-to-state kernel ``(..., taps, n, 4n)``."""
    *lead, taps, n, out = shape
    init = nnx.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
    return init(rngs.params(), (*lead, taps * n, out), jnp.float32).reshape(shape)


def check_pixelrnn_config(config) -> None:
    """ValueError for PixelRNN hyper-parameters that cannot build a causal model."""
    if len(config.image_shape) != 3 or min(config.image_shape) < 1:
        raise ValueError(f"image_shape must be (H, W, C) with positive sizes: {config.image_shape}")
    c = config.image_shape[2]
    if config.levels < 2:
        raise ValueError(f"levels must be at least 2, got {config.levels}")
    if config.hidden < c or config.hidden % c:
        raise ValueError(
            f"hidden must be a positive multiple of C={c} (one block of units per colour), "
            f"got {config.hidden}"
        )
    if config.output_channels < c:
        raise ValueError(f"output_channels must be at least C={c}, got {config.output_channels}")
    if config.num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {config.num_layers}")
    if config.first_kernel < 1 or config.first_kernel % 2 == 0:
        raise ValueError(f"first_kernel must be a positive odd size, got {config.first_kernel}")
    if config.conv_impl not in CONV_IMPLS:
        raise ValueError(f"conv_impl must be one of {CONV_IMPLS}, got {config.conv_impl!r}")


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters (entries of ``nnx.Param`` arrays)."""
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


class PixelRNN(AutoregressiveModel):
    """Mask-A input layer, residual LSTM layers, mask-B output head (subclasses add the layers).

    ``model(x) -> logits``: x (B, H, W, C) int in 0..K-1, logits (B, H, W, C, K).
    """

    def __init__(self, config, layers: list, *, rngs: nnx.Rngs):
        self.config = config
        c = config.image_shape[2]
        conv = dict(num_colours=c, impl=config.conv_impl, rngs=rngs)
        width = 2 * config.hidden
        self.input_conv = MaskedConv2D(c, width, config.first_kernel, mask_type="A", **conv)
        self.layers = nnx.List(layers)
        self.hidden_out = MaskedConv2D(width, config.output_channels, 1, mask_type="B", **conv)
        self.logits_out = MaskedConv2D(
            config.output_channels, c * config.levels, 1, mask_type="B", **conv
        )

    def head(self, r: jax.Array) -> jax.Array:
        """Residual stream to logits: (..., 2h) -> (..., C, K)."""
        y = self.hidden_out.from_patches(jax.nn.relu(r))  # (..., output_channels)
        logits = self.logits_out.from_patches(jax.nn.relu(y))  # (..., C * K)
        return logits.reshape(*logits.shape[:-1], -1, self.levels)

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        if labels is not None:
            raise ValueError(f"{self.name} is unconditional: it takes no labels")
        r = self.input_conv(scale_to_unit(x, self.levels))  # (B, H, W, 2h)
        for layer in self.layers:
            r = layer(r)  # (B, H, W, 2h)
        return self.head(r)  # (B, H, W, C, K)
