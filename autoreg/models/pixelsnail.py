"""PixelSNAIL (Chen, Mishra, Rohaninejad, Abbeel 2018, "PixelSNAIL: An Improved Autoregressive
Generative Model"): masked convolutions interleaved with causal self-attention.

A 7x7 mask-A input convolution, then ``num_blocks`` blocks. Each block is a gated residual
convolution (ReLU - 1x1 - ReLU - 3x3 mask B to both gate halves - ``tanh * sigmoid`` - 1x1,
added to the stream; a class label adds a learned bias to the gate), followed in every
``attention_every``-th block by causal multi-head self-attention, added to the stream. Two 1x1
mask-B layers give K logits per sub-pixel.

Causality of the attention: the query at pixel ``p`` attends to the keys and values of the
pixels strictly before ``p`` in raster order, every channel of which precedes every sub-pixel of
``p``; earlier channels of ``p`` itself reach ``p`` through the mask-B centre taps of the
convolutions, as in the PixelCNN. Colour order inside a pixel is kept by giving every colour
group its own heads (``heads_per_colour`` each): the queries of group ``g`` read only the
stream's groups ``<= g`` (a mask-B 1x1 projection), and the heads' outputs of group ``g`` feed
only output groups ``>= g`` (mask B again). Keys and values read the whole stream of an earlier
pixel, that pixel's own values (as in the paper, the input image is concatenated: the stream at
a pixel never holds the pixel itself, so without it the last pixel of a row would be hidden from
the first of the next) and fixed position features (the pixel's row and column, scaled to
[-1, 1]). The very first pixel has nothing to attend to: its attention output is zero.

Receptive field: attention gives every position the whole context from the first attention
block on (no blind spot, tested); the convolutions give the local detail.

Sampling: ``autoreg.sampling.pixelsnail_cached`` keeps, per attention layer, the keys and values
of the pixels sampled so far, and per convolution the rolling activation cache of the PixelCNN
samplers.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.errors import InputError
from autoreg.models.config_checks import (
    CLASSES,
    DEPTH,
    KERNEL,
    LEVELS,
    MAX_DEPTH,
    WIDTH,
    Bounds,
    check_at_least,
    check_conv_impl,
    check_image_config,
    check_image_shape,
    check_odd,
)
from autoreg.models.layers import (
    MaskedConv2D,
    TapConv2D,
    colour_groups,
    gated_activation,
    group_mask,
    kept_taps,
    scale_to_unit,
)
from autoreg.models.masked_stream import MaskedStreamModel

POSITION_FEATURES = 2  # row and column of the pixel, in [-1, 1]
ATTENTION_COPIES = 3  # (heads, D, D) arrays an attention layer holds: scores, masked, weights


@dataclasses.dataclass(frozen=True)
class PixelSNAILConfig:
    """Hyper-parameters of a PixelSNAIL."""

    levels: int = 256  # K: values per sub-pixel (256 for 8-bit, 2 for binarized)
    image_shape: tuple[int, int, int] = (28, 28, 1)  # (H, W, C)
    channels: int = 72  # width of the residual stream (a multiple of C)
    num_blocks: int = 6  # gated residual convolution blocks
    attention_every: int = 2  # attention after blocks attention_every, 2 * attention_every, ...
    heads_per_colour: int = 2  # attention heads per colour group
    key_channels: int = 16  # per head, queries and keys
    value_channels: int = 32  # per head
    output_channels: int = 128  # width of the hidden 1x1 mask-B output layer
    first_kernel: int = 7  # size of the mask-A input convolution
    num_classes: int = 0  # class labels to condition on; 0 = unconditional
    conv_impl: str = "auto"  # "taps" (CPU), "conv" (XLA convolution) or "auto"

    BOUNDS: ClassVar[Bounds] = dict(
        levels=LEVELS,
        image_shape=check_image_shape,
        channels=WIDTH,
        num_blocks=(0, MAX_DEPTH),  # 0 passes the bounds, not the rule below
        attention_every=DEPTH,
        heads_per_colour=(1, 64),
        key_channels=WIDTH,
        value_channels=WIDTH,
        output_channels=WIDTH,
        first_kernel=KERNEL,
        num_classes=CLASSES,
        conv_impl=check_conv_impl,
    )

    def __post_init__(self):
        c = check_image_config(self)
        if self.channels < 2 * c or self.channels % (2 * c):
            raise InputError(f"channels must be a positive multiple of 2*C={2 * c}")
        check_at_least(self, c, "output_channels", why=f"C={c}")
        check_at_least(self, 1, "num_blocks")
        check_odd(self, "first_kernel")

    @property
    def heads(self) -> int:
        """Attention heads in all: ``heads_per_colour`` per colour group."""
        return self.heads_per_colour * self.image_shape[2]

    def has_attention(self, block: int) -> bool:
        """Whether block ``block`` (0-based) ends with an attention layer."""
        return (block + 1) % self.attention_every == 0


PRESETS = {
    # For tests: compiles in a few seconds.
    "tiny": dict(
        channels=12,
        num_blocks=2,
        attention_every=1,
        heads_per_colour=1,
        key_channels=4,
        value_channels=4,
        output_channels=12,
        first_kernel=3,
    ),
    # Within 20% of the PixelCNN reference preset's parameters (~0.31M for 28x28x1, K=256).
    "reference": dict(
        channels=72,
        num_blocks=6,
        attention_every=2,
        heads_per_colour=2,
        key_channels=16,
        value_channels=32,
        output_channels=128,
        first_kernel=7,
    ),
}


def position_features(height: int, width: int) -> np.ndarray:
    """(H * W, 2) the row and column of every pixel in raster order, scaled to [-1, 1]."""
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    scaled = [2 * v / max(n - 1, 1) - 1 for v, n in ((rows, height), (cols, width))]
    return np.stack(scaled, axis=-1).reshape(height * width, POSITION_FEATURES).astype(np.float32)


def attend(q: jax.Array, k: jax.Array, v: jax.Array, visible: jax.Array) -> jax.Array:
    """Masked multi-head attention; zero output where a query sees no key.

    Args:
      q: (B, Q, heads, dk) queries; k: (B, S, heads, dk) keys; v: (B, S, heads, dv) values.
      visible: (Q, S) bool, which keys each query may attend to.

    Returns:
      (B, Q, heads, dv).
    """
    scores = jnp.einsum("bqhd,bshd->bhqs", q, k) / np.sqrt(q.shape[-1]).astype(np.float32)
    scores = jnp.where(visible, scores, -jnp.inf)
    any_visible = visible.any(axis=-1)[:, None]  # (Q, 1); NumPy for a static mask
    weights = jax.nn.softmax(jnp.where(any_visible, scores, 0.0), axis=-1)
    weights = jnp.where(any_visible, weights, 0.0)  # (B, heads, Q, S)
    return jnp.einsum("bhqs,bshd->bqhd", weights, v)


class GatedBlock(nnx.Module):
    """ReLU-1x1(F->F/2)-ReLU-3x3 mask B (F/2->2F)-gate-1x1(F->F), added to the input."""

    def __init__(self, config: PixelSNAILConfig, rngs: nnx.Rngs):
        c, f = config.image_shape[2], config.channels
        conv = dict(mask_type="B", num_colours=c, impl=config.conv_impl, rngs=rngs)
        self.reduce = MaskedConv2D(f, f // 2, 1, **conv)
        # Both gate halves take the colour groups of the F gated units, as in the Gated
        # PixelCNN, so that tanh and sigmoid of unit i read the same groups.
        self.spatial = TapConv2D(
            f // 2,
            2 * f,
            tuple(kept_taps((3, 3), "B", c)),
            centre_mask=group_mask(colour_groups(f // 2, c), np.tile(colour_groups(f, c), 2), "B"),
            impl=config.conv_impl,
            rngs=rngs,
        )
        self.expand = MaskedConv2D(f, f, 1, **conv)
        # (num_classes, 2F): a class label's bias on the gate pre-activations.
        self.label_bias = (
            nnx.Param(nnx.initializers.normal(0.1)(rngs.params(), (config.num_classes, 2 * f)))
            if config.num_classes
            else None
        )

    @property
    def spatial_taps(self) -> tuple:
        """The (dy, dx) taps of the 3x3 mask-B convolution, in the order it reads them."""
        return self.spatial.taps

    @property
    def spatial_features(self) -> int:
        """Channels the 3x3 convolution reads at each tap."""
        return self.spatial.kernel.shape[1]

    def spatial_input(self, h: jax.Array) -> jax.Array:  # (..., F) -> (..., F/2)
        """What the 3x3 convolution reads: ReLU(1x1(ReLU(h)))."""
        return jax.nn.relu(self.reduce(jax.nn.relu(h)))

    def spatial_from_patches(self, patches: jax.Array) -> jax.Array:  # -> (..., 2F)
        """The 3x3 convolution's output from its inputs gathered in tap order."""
        return self.spatial.from_patches(patches)

    def finish(self, h: jax.Array, spatial_out: jax.Array, labels) -> jax.Array:  # -> (..., F)
        """The block's output from its input and the 3x3 convolution's output."""
        if self.label_bias is not None:
            bias = self.label_bias[...][labels]  # (B, 2F)
            spatial_out = spatial_out + bias.reshape(bias.shape[:1] + (1,) * 2 + bias.shape[1:])
        return h + self.expand(gated_activation(spatial_out))

    def __call__(self, h: jax.Array, labels) -> jax.Array:  # (B, H, W, F) -> (B, H, W, F)
        return self.finish(h, self.spatial(self.spatial_input(h)), labels)


class CausalAttention(nnx.Module):
    """Multi-head attention of each pixel over the pixels before it, colour groups kept."""

    def __init__(self, config: PixelSNAILConfig, rngs: nnx.Rngs):
        c, f = config.image_shape[2], config.channels
        heads, dk, dv = config.heads, config.key_channels, config.value_channels
        self.heads, self.key_channels, self.value_channels = heads, dk, dv
        conv = dict(mask_type="B", num_colours=c, impl=config.conv_impl, rngs=rngs)
        # Query features of head group g (contiguous blocks) read stream groups <= g.
        self.query = MaskedConv2D(f, heads * dk, 1, **conv)
        # Earlier pixels are wholly in the past: keys and values need no mask.
        kv_in = f + c + POSITION_FEATURES
        self.key_value = TapConv2D(kv_in, heads * (dk + dv), ((0, 0),), rngs=rngs)
        self.out = MaskedConv2D(heads * dv, f, 1, **conv)

    def queries(self, h: jax.Array) -> jax.Array:  # (..., F) -> (..., heads, dk)
        """Queries of the stream ``h``."""
        q = self.query.from_patches(h)
        return q.reshape(*q.shape[:-1], self.heads, self.key_channels)

    def keys_values(self, h: jax.Array, pixels: jax.Array, positions: jax.Array) -> tuple:
        """Keys (..., heads, dk) and values (..., heads, dv) of pixels with stream ``h``
        (..., F), scaled values ``pixels`` (..., C) and position features ``positions`` (..., 2)."""
        kv = self.key_value.from_patches(jnp.concatenate([h, pixels, positions], axis=-1))
        kv = kv.reshape(*kv.shape[:-1], self.heads, self.key_channels + self.value_channels)
        return kv[..., : self.key_channels], kv[..., self.key_channels :]

    def output(self, h: jax.Array, attended: jax.Array) -> jax.Array:  # -> (..., F)
        """The stream after the layer: ``h`` plus the projection of the heads' (..., heads, dv)."""
        return h + self.out.from_patches(attended.reshape(*attended.shape[:-2], -1))

    def __call__(self, h: jax.Array, image: jax.Array) -> jax.Array:
        """(B, H, W, F) stream and (B, H, W, C) scaled image -> (B, H, W, F) stream."""
        b, height, width, f = h.shape
        flat = h.reshape(b, height * width, f)  # (B, D, F), D pixels in raster order
        positions = jnp.broadcast_to(position_features(height, width), (b, height * width, 2))
        k, v = self.keys_values(flat, image.reshape(b, height * width, -1), positions)
        d = height * width
        visible = np.arange(d)[None, :] < np.arange(d)[:, None]  # (D, D): strictly earlier
        attended = attend(self.queries(flat), k, v, visible)  # (B, D, heads, dv)
        return self.output(flat, attended).reshape(h.shape)


class PixelSNAIL(MaskedStreamModel):
    """PixelSNAIL: ``model(x, labels) -> logits``, x (B, H, W, C) int, logits (B, H, W, C, K)."""

    name = "pixelsnail"

    def __init__(self, config: PixelSNAILConfig, *, rngs: nnx.Rngs):
        self.config = config
        self.init_input(config.channels, rngs)
        self.blocks = nnx.List([GatedBlock(config, rngs) for _ in range(config.num_blocks)])
        self.attentions = nnx.List(
            [
                CausalAttention(config, rngs)
                for b in range(config.num_blocks)
                if config.has_attention(b)
            ]
        )
        self.init_head(config.channels, rngs)

    @classmethod
    def widest_activation(cls, config: PixelSNAILConfig) -> int:
        """The stream, a head's keys or values, or the output head's hidden layer."""
        keys, values = config.key_channels, config.value_channels
        return max(config.channels, keys, values, config.output_channels)

    @classmethod
    def network_depth(cls, config: PixelSNAILConfig) -> int:
        """The gated residual blocks."""
        return config.num_blocks

    @classmethod
    def attention_arrays(cls, config: PixelSNAILConfig, positions: int) -> tuple:
        """``ATTENTION_COPIES`` (heads, D, D) arrays, D = positions / C pixels: every pixel
        attends to every pixel, quadratic where the rest is linear (none without attention)."""
        if not any(config.has_attention(b) for b in range(config.num_blocks)):
            return ()
        pixels = positions // config.image_shape[2]
        return ((config.heads, pixels, pixels),) * ATTENTION_COPIES

    def step_layers(self) -> tuple:
        """``(block, attention or None)`` pairs in the order the stream passes them.

        A cached sampler runs a ``GatedBlock`` at one pixel with ``spatial_taps``,
        ``spatial_features``, ``spatial_input``, ``spatial_from_patches`` and ``finish``, and a
        ``CausalAttention`` with ``queries``, ``keys_values`` and ``output``.
        """
        attentions = iter(self.attentions)
        return tuple(
            (block, next(attentions) if self.config.has_attention(b) else None)
            for b, block in enumerate(self.blocks)
        )

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        self.check_labels(labels)
        image = scale_to_unit(x, self.levels)  # (B, H, W, C)
        h = self.embed(x)  # (B, H, W, F)
        for block, attention in self.step_layers():
            h = block(h, labels)
            if attention is not None:
                h = attention(h, image)
        return self.output_logits(h)  # (B, H, W, C, K)
