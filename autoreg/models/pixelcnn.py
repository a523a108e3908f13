"""PixelCNN (van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural Networks").

A 7x7 mask-A convolution, residual blocks of mask-B convolutions (1x1 -> 3x3 -> 1x1, Fig. 5 of
the paper), then two 1x1 mask-B layers to K logits per sub-pixel. Colour-group masks make R see
only the context, G the context and R, B the context, R and G.

Receptive field: a mask-B 3x3 stack grows a triangle-shaped field with a blind spot to the
upper right; the Gated PixelCNN removes it.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
from flax import nnx

from autoreg.errors import InputError
from autoreg.models.config_checks import (
    KERNEL,
    LEVELS,
    MAX_DEPTH,
    WIDTH,
    Bounds,
    check_conv_impl,
    check_image_config,
    check_image_shape,
    check_odd,
)
from autoreg.models.layers import MaskedConv2D
from autoreg.models.masked_stream import MaskedStreamModel


@dataclasses.dataclass(frozen=True)
class PixelCNNConfig:
    """Hyper-parameters of a PixelCNN."""

    levels: int = 256  # K: values per sub-pixel (256 for 8-bit, 2 for binarized)
    image_shape: tuple[int, int, int] = (28, 28, 1)  # (H, W, C)
    channels: int = 128  # 2h: feature maps between residual blocks
    num_blocks: int = 7  # residual blocks, each with one 3x3 mask-B convolution
    output_channels: int = 128  # width of the hidden 1x1 mask-B output layer
    first_kernel: int = 7  # size of the mask-A input convolution
    conv_impl: str = "auto"  # "taps" (CPU), "conv" (XLA convolution) or "auto"

    BOUNDS: ClassVar[Bounds] = dict(
        levels=LEVELS,
        image_shape=check_image_shape,
        channels=WIDTH,
        num_blocks=(0, MAX_DEPTH),  # 0: the input layer and the output head alone
        output_channels=WIDTH,
        first_kernel=KERNEL,
        conv_impl=check_conv_impl,
    )

    def __post_init__(self):
        c = check_image_config(self)
        if self.channels < 2 * c or self.output_channels < c:
            raise InputError(f"channels must be at least 2*C={2 * c} for C={c} colours")
        check_odd(self, "first_kernel")


PRESETS = {
    # For tests: compiles in a second or two.
    "tiny": dict(channels=8, num_blocks=2, output_channels=8, first_kernel=3),
    # About the size used for MNIST in the literature (~0.3M parameters, 8 spatial layers).
    "reference": dict(channels=128, num_blocks=7, output_channels=128, first_kernel=7),
}


class ResidualBlock(nnx.Module):
    """ReLU-1x1(2h->h)-ReLU-3x3(h->h)-ReLU-1x1(h->2h), all mask B, added to the input."""

    def __init__(self, channels: int, num_colours: int, impl: str, rngs: nnx.Rngs):
        half = channels // 2
        conv = dict(mask_type="B", num_colours=num_colours, impl=impl, rngs=rngs)
        self.reduce = MaskedConv2D(channels, half, 1, **conv)
        self.spatial = MaskedConv2D(half, half, 3, **conv)
        self.expand = MaskedConv2D(half, channels, 1, **conv)

    @property
    def spatial_taps(self) -> tuple:
        """The (dy, dx) taps of the 3x3 mask-B convolution, in the order it reads them."""
        return self.spatial.taps

    @property
    def spatial_features(self) -> int:
        """h: channels the 3x3 convolution reads at each tap."""
        return self.spatial.kernel.shape[1]

    def spatial_from_patches(self, patches: jax.Array) -> jax.Array:  # (..., taps * h) -> (..., h)
        """The 3x3 convolution's output from its inputs gathered in tap order."""
        return self.spatial.from_patches(patches)

    def spatial_input(self, h: jax.Array) -> jax.Array:  # (..., 2h) -> (..., h)
        """What the 3x3 convolution reads: ReLU(1x1(ReLU(h)))."""
        return jax.nn.relu(self.reduce(jax.nn.relu(h)))

    def finish(self, h: jax.Array, spatial_out: jax.Array) -> jax.Array:  # -> (..., 2h)
        """The block's output from its input and the 3x3 convolution's output."""
        return h + self.expand(jax.nn.relu(spatial_out))

    def __call__(self, h: jax.Array) -> jax.Array:  # (B, H, W, 2h) -> (B, H, W, 2h)
        return self.finish(h, self.spatial(self.spatial_input(h)))


class PixelCNN(MaskedStreamModel):
    """PixelCNN: ``model(x) -> logits``, x (B, H, W, C) int in 0..K-1, logits (B, H, W, C, K)."""

    name = "pixelcnn"

    def __init__(self, config: PixelCNNConfig, *, rngs: nnx.Rngs):
        self.config = config
        c = config.image_shape[2]
        self.init_input(config.channels, rngs)
        self.blocks = nnx.List(
            [
                ResidualBlock(config.channels, c, config.conv_impl, rngs)
                for _ in range(config.num_blocks)
            ]
        )
        self.init_head(config.channels, rngs)

    @classmethod
    def widest_activation(cls, config: PixelCNNConfig) -> int:
        """The stream between blocks (``channels``) or the head's hidden layer."""
        return max(config.channels, config.output_channels)

    @classmethod
    def network_depth(cls, config: PixelCNNConfig) -> int:
        """The residual blocks (at least 1)."""
        return max(1, config.num_blocks)

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        self.check_labels(labels)
        h = self.embed(x)  # (B, H, W, 2h)
        for block in self.blocks:
            h = block(h)
        return self.output_logits(h)  # (B, H, W, C, K)

    def step_layers(self) -> tuple:
        """The residual blocks in order: ``spatial_taps``, ``spatial_features``,
        ``spatial_input``, ``spatial_from_patches`` and ``finish`` run one at a pixel."""
        return tuple(self.blocks)
