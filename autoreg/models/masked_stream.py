"""What PixelCNN, the PixelRNNs and PixelSNAIL share around their own layers: the mask-A input
convolution of the image and the two-layer 1x1 mask-B output head (``masked_head``,
``head_logits``), which the Gated PixelCNN also uses behind its own first layer."""

from __future__ import annotations

import jax
from flax import nnx

from autoreg.models.base import RasterModel
from autoreg.models.layers import MaskedConv2D, scale_to_unit

__all__ = ["MaskedStreamModel", "head_logits", "masked_head"]


def masked_head(
    in_features: int, hidden: int, num_colours: int, levels: int, impl: str, rngs: nnx.Rngs
) -> tuple[MaskedConv2D, MaskedConv2D]:
    """The output head of every image family: two 1x1 mask-B convolutions.

    ``in -> hidden -> C * K``, colour-masked so that colour c's logits see colours up to c of
    the stream.

    Args:
      in_features: width of the stream entering the head.
      hidden: width of the hidden 1x1 layer.
      num_colours: C, the image's colour channels.
      levels: K, the values each sub-pixel takes.
      impl: the convolution implementation (``"taps"``, ``"conv"`` or ``"auto"``).
      rngs: the parameter initialisation's random streams.

    Returns:
      ``(hidden_layer, logits_layer)``, for ``head_logits``.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.models.masked_stream import masked_head
      >>> hidden, logits = masked_head(8, 8, 1, levels=4, impl="auto", rngs=nnx.Rngs(0))
      >>> type(hidden).__name__, type(logits).__name__
      ('MaskedConv2D', 'MaskedConv2D')
    """
    conv = dict(num_colours=num_colours, impl=impl, rngs=rngs)
    hidden_layer = MaskedConv2D(in_features, hidden, 1, mask_type="B", **conv)
    logits_layer = MaskedConv2D(hidden, num_colours * levels, 1, mask_type="B", **conv)
    return hidden_layer, logits_layer


def head_logits(hidden_layer, logits_layer, h: jax.Array, levels: int) -> jax.Array:
    """The output head at any positions: (..., F) stream -> (..., C, K) logits.

    ReLU, the hidden 1x1 layer, ReLU, the logits layer (its C * K outputs channel-major),
    reshaped to the one output shape of every image model.

    Args:
      hidden_layer: the first layer ``masked_head`` returns.
      logits_layer: the second layer ``masked_head`` returns.
      h: (..., F) features, F the head's ``in_features``.
      levels: K.

    Returns:
      (..., C, K) logits.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.models.masked_stream import head_logits, masked_head
      >>> layers = masked_head(8, 8, num_colours=1, levels=4, impl="auto", rngs=nnx.Rngs(0))
      >>> head_logits(*layers, np.zeros((5, 8), np.float32), levels=4).shape
      (5, 1, 4)
    """
    y = hidden_layer.from_patches(jax.nn.relu(h))  # (..., hidden)
    logits = logits_layer.from_patches(jax.nn.relu(y))  # (..., C * K)
    return logits.reshape(*logits.shape[:-1], -1, levels)


class MaskedStreamModel(RasterModel):
    """A ``RasterModel`` whose stream enters through one mask-A convolution of the image and
    leaves through the shared output head (PixelCNN, PixelRNN, PixelSNAIL).

    A subclass's ``__init__`` calls ``init_input`` (first), builds its layers, then calls
    ``init_head``: that order fixes the parameters a seed gives. Its ``__call__`` is
    ``embed``, its layers, then ``output_logits``. The config needs ``image_shape``,
    ``levels``, ``first_kernel``, ``output_channels`` and ``conv_impl``.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> isinstance(model, autoreg.models.masked_stream.MaskedStreamModel)
      True
      >>> stream = model.embed(np.zeros((2, 4, 4, 1), np.int32))  # (B, H, W, F), F = channels
      >>> stream.shape, model.output_logits(stream).shape
      ((2, 4, 4, 8), (2, 4, 4, 1, 4))
    """

    def init_input(self, width: int, rngs: nnx.Rngs) -> None:
        """Create the mask-A input convolution: C colours -> a stream of ``width`` features.

        Args:
          width: F, the features of the stream.
          rngs: the parameter initialisation's random streams.
        """
        config = self.config
        c = config.image_shape[2]
        self.input_conv = MaskedConv2D(
            c,
            width,
            config.first_kernel,
            mask_type="A",
            num_colours=c,
            impl=config.conv_impl,
            rngs=rngs,
        )

    def init_head(self, width: int, rngs: nnx.Rngs) -> None:
        """Create the output head (``masked_head``) reading a stream of ``width`` features.

        Args:
          width: F, the features of the stream.
          rngs: the parameter initialisation's random streams.
        """
        config = self.config
        c = config.image_shape[2]
        self.hidden_out, self.logits_out = masked_head(
            width, config.output_channels, c, config.levels, config.conv_impl, rngs
        )

    def embed(self, x: jax.Array) -> jax.Array:  # (B, H, W, C) int -> (B, H, W, F)
        """The input convolution of the scaled image: the stream entering the first layer.

        Args:
          x: (B, H, W, C) integers in 0..K-1.

        Returns:
          (B, H, W, F) features.
        """
        return self.input_conv(scale_to_unit(x, self.levels))

    @property
    def input_taps(self) -> tuple:
        """The (dy, dx) taps of the mask-A input convolution, in the order it reads them.

        Returns:
          A tuple of ``(dy, dx)`` offsets relative to the pixel being computed.
        """
        return self.input_conv.taps

    def input_from_patches(self, patches: jax.Array) -> jax.Array:  # (..., taps * C) -> (..., F)
        """The input convolution's output from scaled pixels gathered in tap order.

        Args:
          patches: (..., taps * C) scaled pixel values, taps in ``input_taps`` order.

        Returns:
          (..., F) the stream entering the first layer.
        """
        return self.input_conv.from_patches(patches)

    def output_logits(self, h: jax.Array) -> jax.Array:  # (..., F) -> (..., C, K)
        """The shared output head (``head_logits``).

        Args:
          h: (..., F) features of the stream leaving the last layer.

        Returns:
          (..., C, K) logits.
        """
        return head_logits(self.hidden_out, self.logits_out, h, self.levels)
