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
from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.errors import InputError
from autoreg.models.config_checks import (
    DEPTH,
    KERNEL,
    LEVELS,
    WIDTH,
    Bounds,
    check_at_least,
    check_conv_impl,
    check_image_config,
    check_image_shape,
    check_odd,
)
from autoreg.models.masked_stream import MaskedStreamModel

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


class PixelRNNLayer(nnx.Module):
    """What the residual LSTM layers of both models share: their cell (``num_colours`` set)."""

    num_colours: int

    def cell(self, z: jax.Array, c_prev: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One LSTM step of the layer's units, in its colour-grouped gate layout.

        Args:
          z: (..., 4h) summed gate pre-activations (input-to-state plus state-to-state).
          c_prev: (..., h) previous cell state.

        Returns:
          (h, c), each (..., h) (``lstm_update``).
        """
        return lstm_update(z, c_prev, self.num_colours)


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

    BOUNDS: ClassVar[Bounds] = dict(
        levels=LEVELS,
        image_shape=check_image_shape,
        hidden=WIDTH,
        num_layers=DEPTH,
        output_channels=WIDTH,
        first_kernel=KERNEL,
        conv_impl=check_conv_impl,
    )

    def __post_init__(self):
        c = check_image_config(self)
        if self.hidden < c or self.hidden % c:
            raise InputError(
                f"hidden must be a positive multiple of C={c} (one block of units per colour), "
                f"got {self.hidden}"
            )
        check_at_least(self, c, "output_channels", why=f"C={c}")
        check_odd(self, "first_kernel")


class PixelRNN(MaskedStreamModel):
    """Mask-A input layer, residual LSTM layers, the shared output head (subclasses add the
    layers).

    ``model(x) -> logits``: x (B, H, W, C) int in 0..K-1, logits (B, H, W, C, K).
    """

    def __init__(self, config, layers: list, *, rngs: nnx.Rngs):
        self.config = config
        width = 2 * config.hidden
        self.init_input(width, rngs)
        self.layers = nnx.List(layers)
        self.init_head(width, rngs)

    @classmethod
    def widest_activation(cls, config: PixelRNNConfig) -> int:
        """The gate pre-activations of a layer (``4h``) or the head's hidden layer."""
        return max(GATES * config.hidden, config.output_channels)

    @classmethod
    def network_depth(cls, config: PixelRNNConfig) -> int:
        """The residual LSTM layers."""
        return config.num_layers

    def step_layers(self) -> tuple:
        """The residual LSTM layers in order (their step methods are documented by the Row
        LSTM's and the Diagonal BiLSTM's layer classes)."""
        return tuple(self.layers)

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        self.check_labels(labels)
        r = self.embed(x)  # (B, H, W, 2h)
        for layer in self.layers:
            r = layer(r)  # (B, H, W, 2h)
        return self.output_logits(r)  # (B, H, W, C, K)
