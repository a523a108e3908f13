"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders").

Two stacks of gated convolutions remove the PixelCNN's blind spot:

- the vertical stack sees every pixel in the rows strictly above (a cone that widens by the
  kernel radius per layer): its first layer reads rows ``i - r .. i - 1``, later layers rows
  ``i - 1 .. i`` of the layer below, all columns ``j - r .. j + r``;
- optionally the later layers are dilated (``dilations``, as in the UvA deep learning tutorial's
  Gated PixelCNN: 1, 2, 1, 4, 1, 2, 1): a layer of dilation ``d`` reads every ``d``-th row and
  column (rows ``i - d``, ``i``; columns ``j - d``, ``j``, ``j + d`` for a 3x3 kernel), so the
  receptive field grows faster at the same parameter count;
- the horizontal stack sees the pixels to the left in the current row (and the current pixel's
  earlier colours, by colour-group masks on the centre tap), plus the vertical stack's
  pre-activation at the same pixel through a 1x1 connection.

Each unit is ``tanh(a) * sigmoid(b)``, where ``a`` and ``b`` are the two halves of the
pre-activation; a class label adds a learned bias to every gate. The horizontal stack is
residual; every layer also sends a 1x1 projection of its gate to a skip sum, from which two
1x1 layers give K logits per sub-pixel.

Each layer is written as "convolve, then finish": ``TapConv2D`` computes the convolution either
on a whole image or from already gathered taps (``from_patches``), and ``GatedLayer`` finishes the
pre-activations. The cached sampler (``autoreg.sampling.gated_pixelcnn_cached``) reuses the
same pieces pixel by pixel, so both paths run the same arithmetic.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import numpy as np
from flax import nnx

from autoreg.errors import InputError
from autoreg.models.base import RasterModel
from autoreg.models.config_checks import (
    CLASSES,
    DEPTH,
    KERNEL,
    LEVELS,
    WIDTH,
    Bounds,
    check_at_least,
    check_conv_impl,
    check_dilations,
    check_image_config,
    check_image_shape,
    check_odd,
)
from autoreg.models.layers import (
    TapConv2D,
    colour_groups,
    gated_activation,
    group_mask,
    scale_to_unit,
)
from autoreg.models.masked_stream import head_logits, masked_head


@dataclasses.dataclass(frozen=True)
class GatedPixelCNNConfig:
    """Hyper-parameters of a Gated PixelCNN."""

    levels: int = 256  # K: values per sub-pixel (256 for 8-bit, 2 for binarized)
    image_shape: tuple[int, int, int] = (28, 28, 1)  # (H, W, C)
    features: int = 64  # F: gated units per pixel in each stack
    num_layers: int = 7  # gated layers; the first uses first_kernel, the rest kernel
    skip_channels: int = 64  # width of the skip sum feeding the output head
    head_channels: int = 128  # width of the hidden 1x1 layer of the output head
    first_kernel: int = 7  # odd size of the first layer's kernels (radius first_kernel // 2)
    kernel: int = 3  # odd size of the later layers' kernels
    num_classes: int = 0  # class labels to condition on; 0 = unconditional
    conv_impl: str = "auto"  # "taps" (CPU), "conv" (XLA convolution) or "auto"
    dilations: tuple[int, ...] = ()  # per layer after the first (num_layers - 1); () = all 1

    BOUNDS: ClassVar[Bounds] = dict(
        levels=LEVELS,
        image_shape=check_image_shape,
        features=WIDTH,
        num_layers=DEPTH,
        skip_channels=WIDTH,
        head_channels=WIDTH,
        first_kernel=KERNEL,
        kernel=KERNEL,
        num_classes=CLASSES,
        conv_impl=check_conv_impl,
        dilations=check_dilations,
    )

    def __post_init__(self):
        c = check_image_config(self)
        check_at_least(
            self, c, "features", "skip_channels", "head_channels", why=f"one per colour, C={c}"
        )
        check_odd(self, "first_kernel", "kernel", minimum=3)
        if self.dilations and len(self.dilations) != self.num_layers - 1:
            raise InputError(
                f"dilations needs one entry per layer after the first ({self.num_layers - 1}), "
                f"got {len(self.dilations)}: {tuple(self.dilations)}"
            )

    def dilation(self, layer: int) -> int:
        """Dilation of layer ``layer`` (0: the first, never dilated)."""
        return self.dilations[layer - 1] if layer and self.dilations else 1


PRESETS = {
    # For tests: compiles in a few seconds.
    "tiny": dict(features=8, num_layers=3, skip_channels=8, head_channels=8, first_kernel=3),
    # ~0.6M parameters at K=256 (pytorch-generative's Gated PixelCNN has 630k).
    "reference": dict(
        features=64, num_layers=7, skip_channels=64, head_channels=128, first_kernel=7
    ),
    # The same parameters with the later layers dilated as in the UvA tutorial (1, 2, 1, 4, ...).
    "dilated": dict(
        features=64,
        num_layers=7,
        skip_channels=64,
        head_channels=128,
        first_kernel=7,
        dilations=(1, 2, 1, 4, 1, 2),
    ),
}


def vertical_taps(radius: int, first: bool, dilation: int = 1) -> tuple:
    """Offsets (dy, dx) of a vertical-stack kernel: rows above (and the current row unless
    ``first``, where the input is the image itself), columns ``-radius..radius``, each offset
    times ``dilation``."""
    last_row = -1 if first else 0
    return tuple(
        (dy * dilation, dx * dilation)
        for dy in range(-radius, last_row + 1)
        for dx in range(-radius, radius + 1)
    )


def horizontal_taps(radius: int, first: bool, num_colours: int, dilation: int = 1) -> tuple:
    """Offsets (0, dx) of a horizontal-stack kernel: the pixels to the left (every
    ``dilation``-th), then the centre (dropped in the first layer of a one-colour image, where
    mask A would empty it)."""
    taps = [(0, dx * dilation) for dx in range(-radius, 0)]
    if not first or num_colours > 1:
        taps.append((0, 0))
    return tuple(taps)


class GatedLayer(nnx.Module):
    """One gated layer: vertical and horizontal convolutions, gates, residual and skip outputs."""

    def __init__(
        self,
        in_features: int,
        config: GatedPixelCNNConfig,
        *,
        first: bool,
        last: bool,
        dilation: int = 1,
        rngs: nnx.Rngs,
    ):
        c = config.image_shape[2]
        f, s = config.features, config.skip_channels
        radius = (config.first_kernel if first else config.kernel) // 2
        impl = config.conv_impl
        self.features = f
        self.emits_horizontal = not last  # the last layer only feeds the skip sum
        self.residual = not first and not last  # h_in + ...: the first layer changes the width
        groups_in = np.arange(c) if first else colour_groups(f, c)
        gate_groups = np.tile(colour_groups(f, c), 2)  # tanh half and sigmoid half alike
        self.vertical = TapConv2D(
            in_features, 2 * f, vertical_taps(radius, first, dilation), impl=impl, rngs=rngs
        )
        self.horizontal = TapConv2D(
            in_features,
            2 * f,
            horizontal_taps(radius, first, c, dilation),
            centre_mask=group_mask(groups_in, gate_groups, "A" if first else "B"),
            impl=impl,
            rngs=rngs,
        )
        # The vertical stack never sees the current row, so this needs no mask.
        self.vertical_to_horizontal = TapConv2D(2 * f, 2 * f, ((0, 0),), rngs=rngs)
        out_groups = colour_groups(f, c) if self.emits_horizontal else np.zeros(0, int)
        out_groups = np.concatenate([out_groups, colour_groups(s, c)])
        self.out = TapConv2D(
            f,
            len(out_groups),
            ((0, 0),),
            centre_mask=group_mask(colour_groups(f, c), out_groups, "B"),
            rngs=rngs,
        )
        label_bias = None
        if config.num_classes:
            init = nnx.initializers.normal(0.1)
            label_bias = nnx.Param(init(rngs.params(), (config.num_classes, 4 * f)))
        # (num_classes, 4F): per-class biases of the vertical then the horizontal gates.
        self.label_bias = label_bias

    @property
    def vertical_taps(self) -> tuple:
        """(dy, dx) taps of the vertical-stack convolution, in the order it reads them."""
        return self.vertical.taps

    @property
    def horizontal_taps(self) -> tuple:
        """(0, dx) taps of the horizontal-stack convolution, in the order it reads them."""
        return self.horizontal.taps

    def vertical_from_patches(self, patches: jax.Array) -> jax.Array:  # -> (..., 2F)
        """The vertical convolution's output from its inputs gathered in tap order."""
        return self.vertical.from_patches(patches)

    def horizontal_from_patches(self, patches: jax.Array) -> jax.Array:  # -> (..., 2F)
        """The horizontal convolution's output from its inputs gathered in tap order."""
        return self.horizontal.from_patches(patches)

    def condition(self, labels: jax.Array | None) -> tuple:
        """Per-example gate biases ``(vertical, horizontal)``, each (B, 2F), or (None, None)."""
        if self.label_bias is None:
            return None, None
        bias = self.label_bias[...][labels]  # (B, 4F)
        return bias[:, : 2 * self.features], bias[:, 2 * self.features :]

    @staticmethod
    def _add(pre: jax.Array, bias: jax.Array | None) -> jax.Array:
        """``pre`` plus a per-example (B, 2F) bias, or a bias map of ``pre``'s own rank."""
        if bias is None:
            return pre
        if bias.ndim == pre.ndim:  # a map: one bias per pixel (a video model's context)
            return pre + bias
        return pre + bias.reshape(bias.shape[:1] + (1,) * (pre.ndim - 2) + bias.shape[1:])

    def finish_vertical(self, v_conv: jax.Array, bias) -> tuple:
        """Vertical convolution output -> (what the horizontal stack adds from it, gated output).

        Args:
          v_conv: (B, ..., 2F) the vertical convolution's output.
          bias: (B, 2F) the vertical gate bias of ``condition``, a (B, ..., 2F) map of biases
            per pixel, or None.

        Returns:
          The 1x1 vertical-to-horizontal connection of the pre-activation (B, ..., 2F), for
          ``finish_horizontal`` at the same pixels, and the gated output (B, ..., F).
        """
        v_pre = self._add(v_conv, bias)
        return self.vertical_to_horizontal(v_pre), gated_activation(v_pre)

    def finish_horizontal(
        self, h_conv: jax.Array, v_to_h: jax.Array, h_in: jax.Array, bias
    ) -> tuple:
        """Horizontal convolution output and the 1x1 of the vertical pre-activation ->
        (next horizontal input, skip contribution). ``h_in`` is this layer's horizontal input
        at the same pixels (for the residual)."""
        gated = gated_activation(self._add(h_conv + v_to_h, bias))  # (..., F)
        out = self.out(gated)  # (..., F + S) or (..., S)
        if not self.emits_horizontal:
            return None, out
        h_out, skip = out[..., : self.features], out[..., self.features :]
        return (h_in + h_out if self.residual else h_out), skip

    def __call__(self, v: jax.Array, h: jax.Array, labels: jax.Array | None) -> tuple:
        """(B, H, W, in) stacks -> (vertical output, horizontal output, skip) maps."""
        v_bias, h_bias = self.condition(labels)
        v_to_h, v_out = self.finish_vertical(self.vertical(v), v_bias)
        h_out, skip = self.finish_horizontal(self.horizontal(h), v_to_h, h, h_bias)
        return v_out, h_out, skip


class OutputHead(nnx.Module):
    """The shared output head (``models.masked_stream.masked_head``) reading the summed skips."""

    def __init__(self, config: GatedPixelCNNConfig, rngs: nnx.Rngs):
        c = config.image_shape[2]
        self.levels = config.levels
        self.hidden, self.logits = masked_head(
            config.skip_channels, config.head_channels, c, config.levels, config.conv_impl, rngs
        )

    def __call__(self, skip: jax.Array) -> jax.Array:  # (..., S) -> (..., C, K)
        return head_logits(self.hidden, self.logits, skip, self.levels)


class GatedPixelCNN(RasterModel):
    """Gated PixelCNN: ``model(x, labels) -> logits``, x (B, H, W, C), logits (B, H, W, C, K)."""

    name = "gated_pixelcnn"

    def __init__(self, config: GatedPixelCNNConfig, *, rngs: nnx.Rngs):
        self.config = config
        c = config.image_shape[2]
        n = config.num_layers
        self.layers = nnx.List(
            [
                GatedLayer(
                    c if i == 0 else config.features,
                    config,
                    first=i == 0,
                    last=i == n - 1,
                    dilation=config.dilation(i),
                    rngs=rngs,
                )
                for i in range(n)
            ]
        )
        self.head = OutputHead(config, rngs)

    @classmethod
    def widest_activation(cls, config: GatedPixelCNNConfig) -> int:
        """A stack's gated units, the skip sum or the output head's hidden layer."""
        return max(config.features, config.skip_channels, config.head_channels)

    @classmethod
    def network_depth(cls, config: GatedPixelCNNConfig) -> int:
        """The gated layers."""
        return config.num_layers

    def step_layers(self) -> tuple:
        """The gated layers in order.

        A cached sampler runs a ``GatedLayer`` with ``condition``, ``vertical_taps``,
        ``vertical_from_patches``, ``finish_vertical`` (once per row) and ``horizontal_taps``,
        ``horizontal_from_patches``, ``finish_horizontal`` (once per pixel); the skips summed
        over the layers go to ``output_logits``.
        """
        return tuple(self.layers)

    def output_logits(self, skip: jax.Array) -> jax.Array:  # (..., S) -> (..., C, K)
        """The output head: summed skips -> logits."""
        return self.head(skip)

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        self.check_labels(labels)
        v = h = scale_to_unit(x, self.levels)  # (B, H, W, C)
        skip = None
        for layer in self.layers:
            v, h, s = layer(v, h, labels)  # (B, H, W, F), (B, H, W, F), (B, H, W, S)
            skip = s if skip is None else skip + s
        return self.output_logits(skip)  # (B, H, W, C, K)
