"""The PixelRNN family's shared pieces (Row LSTM and Diagonal BiLSTM each add their layer).

- ``PixelRNNConfig``: the hyper-parameters both models have.
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

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.models.base import AutoregressiveModel
from autoreg.models.config_checks import check_at_least, check_image_config, check_odd
from autoreg.models.layers import MaskedConv2D, scale_to_unit

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


@dataclasses.dataclass(frozen=True)
class PixelRNNConfig:
    """Hyper-parameters every PixelRNN has; the Row LSTM adds its kernel size."""

    levels: int = 256  # K: values per sub-pixel (256 for 8-bit, 2 for binarized)
    image_shape: tuple[int, int, int] = (28, 28, 1)  # (H, W, C)
    hidden: int = 36  # h: LSTM units per layer (a multiple of C); the residual stream has 2h
    num_layers: int = 7  # residual LSTM layers
    output_channels: int = 128  # width of the hidden 1x1 mask-B output layer
    first_kernel: int = 7  # size of the mask-A input convolution
    conv_impl: str = "auto"  # "taps" (CPU), "conv" (XLA convolution) or "auto"

    def __post_init__(self):
        c = check_image_config(self)
        if self.hidden < c or self.hidden % c:
            raise ValueError(
                f"hidden must be a positive multiple of C={c} (one block of units per colour), "
                f"got {self.hidden}"
            )
        check_at_least(self, c, "output_channels", why=f"C={c}")
        check_odd(self, "first_kernel")


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

    @property
    def input_kernel_size(self) -> tuple[int, int]:
        """(kh, kw) of the mask-A input convolution."""
        return self.input_conv.kernel_size

    @property
    def input_taps(self) -> tuple:
        """The (dy, dx) taps of the mask-A input convolution, in the order it reads them."""
        return self.input_conv.taps

    def input_from_patches(self, patches: jax.Array) -> jax.Array:  # (..., taps * C) -> (..., 2h)
        """The input convolution's output from scaled pixels gathered in tap order."""
        return self.input_conv.from_patches(patches)

    def head(self, r: jax.Array) -> jax.Array:
        """Residual stream to logits: (..., 2h) -> (..., C, K)."""
        y = self.hidden_out.from_patches(jax.nn.relu(r))  # (..., output_channels)
        logits = self.logits_out.from_patches(jax.nn.relu(y))  # (..., C * K)
        return logits.reshape(*logits.shape[:-1], -1, self.levels)

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        self.check_labels(labels)
        r = self.input_conv(scale_to_unit(x, self.levels))  # (B, H, W, 2h)
        for layer in self.layers:
            r = layer(r)  # (B, H, W, 2h)
        return self.head(r)  # (B, H, W, C, K)
