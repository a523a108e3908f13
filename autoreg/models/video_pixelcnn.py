"""Video PixelCNN: a context over past frames feeding a Gated PixelCNN per frame.

After the Video Pixel Network (Kalchbrenner et al. 2016, "Video Pixel Networks"): the video is
one 4-D dependency chain, frames in time order, a raster scan within each frame, colours within
each pixel. The logits of frame ``t`` are a Gated PixelCNN (``autoreg.models.gated_pixelcnn``)
over frame ``t`` whose every gate is biased by a map of *context*, and the context of frame
``t`` is computed from frames ``0 .. t-1`` alone:

- a resolution-preserving encoder reads each frame: a 3x3 convolution, then residual 3x3
  blocks whose dilations (``encoder_dilations``) widen its reach, as in the VPN's encoders;
- the context of frame ``t`` reads the encoded frames before it (``temporal``): a
  convolutional LSTM (Shi et al. 2015; the default) whose hidden state after frame ``t-1`` is
  the context, or a causal convolution over the last ``temporal_frames`` encoded frames, 3x3 in
  space (``"conv3d"``) or 1x1 after the encoder's spatial ones (``"conv2plus1d"``, the separable
  (2+1)-D convolution of Tran et al. 2018: fewer parameters and faster);
- per gated layer, a convolution of the context (1x1, or ``condition_kernel`` wide: the context
  is known for the whole frame before it is drawn, so this equals concatenating it into the
  gated layers' inputs, as the VPN does) gives the biases of the vertical and the horizontal
  gates at every pixel (the Gated PixelCNN's location-dependent conditioning).

The LSTM's state carries the whole past at a fixed cost per frame; a temporal convolution sees
a window of k frames, and a sampler keeps a ring of their encodings (``initial_state``,
``next_state``, ``context_of``): either way it encodes each finished frame once and never
looks back. Within a frame, the decoder is the Gated PixelCNN, with no blind spot; across
frames, every pixel of frame ``t-1`` reaches every position of frame ``t`` when the context's
reach covers the frame (``context_reach``; the presets' does at their frame sizes).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.modalities import VIDEO
from autoreg.models.base import AutoregressiveModel
from autoreg.models.config_checks import (
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
    one_of,
)
from autoreg.models.gated_pixelcnn import GatedLayer, GatedPixelCNNConfig, OutputHead
from autoreg.models.layers import TapConv2D, conv_over_taps, resolve_impl, scale_to_unit

__all__ = ["PRESETS", "ConvLSTMCell", "FrameEncoder", "VideoPixelCNN", "VideoPixelCNNConfig"]

TEMPORALS = ("convlstm", "conv3d", "conv2plus1d")  # the ways the context reads past frames


@dataclasses.dataclass(frozen=True)
class VideoPixelCNNConfig:
    """Hyper-parameters of a Video PixelCNN.

    The decoder's fields are a Gated PixelCNN's (``decoder_config``); the context's are the
    encoder's and the convolutional LSTM's.
    """

    levels: int = 256  # K: values per sub-pixel
    image_shape: tuple[int, int, int] = (64, 64, 1)  # (H, W, C) of each frame
    frames: int = 20  # T: frames that ``autoreg.sample`` draws; clips of any length are modelled
    features: int = 64  # F: gated units per pixel in each stack of the decoder
    num_layers: int = 7  # gated layers of the decoder
    skip_channels: int = 64  # width of the decoder's skip sum
    head_channels: int = 128  # width of the output head's hidden 1x1 layer
    first_kernel: int = 7  # odd size of the decoder's first kernels
    kernel: int = 3  # odd size of the decoder's later kernels
    conv_impl: str = "auto"  # every convolution: "taps" (CPU), "conv" (XLA's) or "auto"
    encoder_channels: int = 32  # E: width of the frame encoder
    encoder_dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # one residual 3x3 block each
    context_channels: int = 32  # width of the context (the convolutional LSTM's state)
    lstm_kernel: int = 3  # odd size of the convolutional LSTM's kernel
    # The context over frames: "convlstm" (a recurrent state), "conv3d" (a causal 3x3xk
    # convolution over the last k encoded frames) or "conv2plus1d" (separable: the encoder's
    # spatial convolutions, then a causal k-frame one in time).
    temporal: str = "convlstm"
    temporal_frames: int = 3  # k: the frames a temporal convolution reads
    condition_kernel: int = 1  # odd side of the convolution of the context into the gate biases

    BOUNDS: ClassVar[Bounds] = dict(
        levels=LEVELS,
        image_shape=check_image_shape,
        frames=(1, 65536),
        features=WIDTH,
        num_layers=DEPTH,
        skip_channels=WIDTH,
        head_channels=WIDTH,
        first_kernel=KERNEL,
        kernel=KERNEL,
        conv_impl=check_conv_impl,
        encoder_channels=WIDTH,
        encoder_dilations=check_dilations,
        context_channels=WIDTH,
        lstm_kernel=KERNEL,
        temporal=one_of(TEMPORALS),
        temporal_frames=(1, 64),
        condition_kernel=KERNEL,
    )

    def __post_init__(self):
        c = check_image_config(self)
        check_at_least(
            self, c, "features", "skip_channels", "head_channels", why=f"one per colour, C={c}"
        )
        check_odd(self, "first_kernel", "kernel", minimum=3)
        check_odd(self, "lstm_kernel", "condition_kernel", minimum=1)

    def decoder_config(self) -> GatedPixelCNNConfig:
        """The Gated PixelCNN config of the per-frame decoder."""
        return GatedPixelCNNConfig(
            levels=self.levels,
            image_shape=self.image_shape,
            features=self.features,
            num_layers=self.num_layers,
            skip_channels=self.skip_channels,
            head_channels=self.head_channels,
            first_kernel=self.first_kernel,
            kernel=self.kernel,
            conv_impl=self.conv_impl,
        )

    def context_reach(self) -> int:
        """Pixels (in rows and in columns) of frame ``t-1`` that the gate biases at a pixel of
        frame ``t`` read on either side: the encoder's first 3x3, its dilated blocks, the
        temporal layer (the LSTM's kernel, a 3-D convolution's 3x3, a (2+1)-D one's 1x1) and
        the convolution of the context into the biases."""
        temporal = {"convlstm": self.lstm_kernel // 2, "conv3d": 1, "conv2plus1d": 0}
        encoder = 1 + sum(self.encoder_dilations)
        return encoder + temporal[self.temporal] + self.condition_kernel // 2


PRESETS = {
    # For tests: 3 frames, compiles in seconds; the context reaches 4 pixels on either side.
    "tiny": dict(
        frames=3,
        features=8,
        num_layers=3,
        skip_channels=8,
        head_channels=8,
        first_kernel=3,
        encoder_channels=8,
        encoder_dilations=(1, 2),
        context_channels=8,
    ),
    # Moving MNIST at 64x64 (the VPN's frames); the context reaches 64 pixels on either side.
    "reference": dict(),
    # The shipped model: 32x32 frames on a CPU budget; the context reaches 32 pixels.
    "small": dict(
        image_shape=(32, 32, 1),
        features=32,
        num_layers=5,
        skip_channels=32,
        head_channels=64,
        first_kernel=5,
        encoder_channels=16,
        encoder_dilations=(1, 2, 4, 8, 16),
        context_channels=16,
    ),
}


def full_taps(kernel: int, dilation: int = 1) -> tuple:
    """Offsets (dy, dx) of a full (unmasked) ``kernel`` x ``kernel`` kernel, times ``dilation``."""
    r = kernel // 2
    return tuple(
        (dy * dilation, dx * dilation) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
    )


class FrameConv(nnx.Module):
    """A 'same' convolution over explicit taps (any direction): frames are seen whole.

    ``impl`` as for the decoder's convolutions (``"taps"``, ``"conv"`` or ``"auto"``, which
    picks taps on CPU and XLA's convolution elsewhere); both compute the same function.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        taps: tuple,
        *,
        impl: str = "auto",
        rngs: nnx.Rngs,
    ):
        self.taps = tuple(taps)
        self.impl = impl
        init = nnx.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
        fan_in = len(self.taps) * in_features
        self.kernel = nnx.Param(init(rngs.params(), (fan_in, out_features), jnp.float32))
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))

    def __call__(self, x: jax.Array) -> jax.Array:  # (N, H, W, in) -> (N, H, W, out)
        if resolve_impl(self.impl) == "conv":
            kernel = self.kernel[...].reshape(len(self.taps), x.shape[-1], -1)  # (taps, in, out)
            return conv_over_taps(x, kernel, self.taps) + self.bias[...]
        _, h, w, _ = x.shape
        ry = max(abs(dy) for dy, _ in self.taps)
        rx = max(abs(dx) for _, dx in self.taps)
        padded = jnp.pad(x, ((0, 0), (ry, ry), (rx, rx), (0, 0)))
        patches = jnp.concatenate(
            [padded[:, ry + dy : ry + dy + h, rx + dx : rx + dx + w] for dy, dx in self.taps],
            axis=-1,
        )  # (N, H, W, taps * in)
        return patches @ self.kernel[...] + self.bias[...]


class FrameEncoder(nnx.Module):
    """Resolution-preserving encoder of one frame: 3x3, then residual dilated 3x3 blocks."""

    def __init__(self, config: VideoPixelCNNConfig, *, rngs: nnx.Rngs):
        c, e, impl = config.image_shape[2], config.encoder_channels, config.conv_impl
        self.input = FrameConv(c, e, full_taps(3), impl=impl, rngs=rngs)
        self.blocks = nnx.List(
            [
                FrameConv(e, e, full_taps(3, d), impl=impl, rngs=rngs)
                for d in config.encoder_dilations
            ]
        )

    def __call__(self, frames: jax.Array) -> jax.Array:  # (N, H, W, C) scaled -> (N, H, W, E)
        h = self.input(frames)
        for block in self.blocks:
            h = h + block(jax.nn.relu(h))
        return jax.nn.relu(h)


class ConvLSTMCell(nnx.Module):
    """A convolutional LSTM cell (Shi et al. 2015): gates from a convolution of [input, h]."""

    def __init__(
        self, in_features: int, hidden: int, kernel: int, *, impl: str = "auto", rngs: nnx.Rngs
    ):
        self.hidden = hidden
        taps = full_taps(kernel)
        self.gates = FrameConv(in_features + hidden, 4 * hidden, taps, impl=impl, rngs=rngs)

    def initial_state(self, batch: int, height: int, width: int) -> tuple:
        """Zero ``(h, c)``, each (B, H, W, hidden)."""
        zeros = jnp.zeros((batch, height, width, self.hidden), jnp.float32)
        return zeros, zeros

    def __call__(self, x: jax.Array, state: tuple) -> tuple:
        """One step: (B, H, W, in) input and ``(h, c)`` -> the new ``(h, c)``."""
        h, c = state
        z = self.gates(jnp.concatenate([x, h], axis=-1))  # (B, H, W, 4 hidden)
        i, f, o, g = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f + 1.0) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c


class VideoPixelCNN(AutoregressiveModel):
    """Video PixelCNN: ``model(x) -> logits``, x (B, T, H, W, C), logits (B, T, H, W, C, K).

    Clips of any number of frames T are modelled; ``config.frames`` is the length that
    ``autoreg.sample`` draws. Unconditional (no class labels).
    """

    name = "video_pixelcnn"
    modality = VIDEO

    def __init__(self, config: VideoPixelCNNConfig, *, rngs: nnx.Rngs):
        self.config = config
        decoder = config.decoder_config()
        c, n = config.image_shape[2], config.num_layers
        self.encoder = FrameEncoder(config, rngs=rngs)
        e, k, impl = config.encoder_channels, config.temporal_frames, config.conv_impl
        if config.temporal == "convlstm":
            self.lstm = ConvLSTMCell(
                e, config.context_channels, config.lstm_kernel, impl=impl, rngs=rngs
            )
        else:  # a causal convolution over the last k encoded frames, 3x3 or 1x1 in space
            space = full_taps(3 if config.temporal == "conv3d" else 1)
            self.temporal = FrameConv(k * e, config.context_channels, space, impl=impl, rngs=rngs)
        self.layers = nnx.List(
            [
                GatedLayer(
                    c if i == 0 else config.features,
                    decoder,
                    first=i == 0,
                    last=i == n - 1,
                    rngs=rngs,
                )
                for i in range(n)
            ]
        )
        # Per layer: context -> the biases of its vertical then its horizontal gates (4F): a
        # 1x1 convolution, or a wider one over the context (known for the whole frame before
        # it is drawn), as concatenating the context into the gated layers' inputs does.
        ctx, f4 = config.context_channels, 4 * config.features
        self.conditions = nnx.List(
            [
                TapConv2D(ctx, f4, ((0, 0),), rngs=rngs)
                if config.condition_kernel == 1
                else FrameConv(ctx, f4, full_taps(config.condition_kernel), impl=impl, rngs=rngs)
                for _ in range(n)
            ]
        )
        self.head = OutputHead(decoder, rngs)

    @classmethod
    def widest_activation(cls, config: VideoPixelCNNConfig) -> int:
        """The convolutional LSTM's input [encoded frame, state] beside its four gates (or a
        temporal convolution's k encoded frames and output), a decoder layer's gate
        pre-activations, or the output head's hidden layer."""
        lstm = config.encoder_channels + 5 * config.context_channels
        ring = config.temporal_frames * config.encoder_channels + config.context_channels
        return max(lstm, ring, 2 * config.features, config.head_channels)

    @classmethod
    def network_depth(cls, config: VideoPixelCNNConfig) -> int:
        """The decoder's gated layers."""
        return config.num_layers

    def event_shape(self, length: int | None = None) -> tuple[int, ...]:
        """Shape of one clip: ``(T, H, W, C)``, T = ``length`` frames or ``config.frames``.

        Args:
          length: number of frames (default: ``config.frames``).

        Returns:
          ``(T, H, W, C)``.
        """
        frames = self.config.frames if length is None else length
        return (frames, *self.config.image_shape)

    def initial_state(self, batch: int) -> tuple:
        """The context state before the first frame: the LSTM's zero ``(h, c)``, each
        (B, H, W, hidden); for a temporal convolution, ``(ring,)``: the last k encoded frames
        (B, k, H, W, E), most recent first, zero before the clip starts."""
        height, width, _ = self.config.image_shape
        if self.config.temporal == "convlstm":
            return self.lstm.initial_state(batch, height, width)
        k, e = self.config.temporal_frames, self.config.encoder_channels
        return (jnp.zeros((batch, k, height, width, e), jnp.float32),)

    def next_state(self, frame: jax.Array, state: tuple) -> tuple:
        """The context state after one more frame.

        Args:
          frame: (B, H, W, C) integers in 0..K-1, a whole frame.
          state: the state after the frames before it (``initial_state``'s structure).

        Returns:
          The new state; ``context_of`` it is the context of the frame after ``frame``.
        """
        encoded = self.encoder(scale_to_unit(frame, self.levels))  # (B, H, W, E)
        if self.config.temporal == "convlstm":
            return self.lstm(encoded, state)
        (ring,) = state
        return (jnp.concatenate([encoded[:, None], ring[:, :-1]], axis=1),)  # drop the oldest

    def context_of(self, state: tuple) -> jax.Array:
        """The context that a state gives the next frame: (B, H, W, context_channels).

        The LSTM's hidden state, or the temporal convolution over the ring of encoded frames.
        """
        if self.config.temporal == "convlstm":
            return state[0]
        (ring,) = state
        frames = jnp.moveaxis(ring, 1, -2)  # (B, H, W, k, E)
        return jax.nn.relu(self.temporal(frames.reshape(*frames.shape[:3], -1)))

    def gate_biases(self, context: jax.Array) -> list:
        """Per decoder layer, its ``(vertical, horizontal)`` gate biases from the context.

        Args:
          context: (..., context_channels), the context at some pixels of a frame.

        Returns:
          A list of ``(v_bias, h_bias)``, each (..., 2F).
        """
        return [self.layer_biases(n, context) for n in range(len(self.conditions))]

    def layer_biases(self, n: int, context: jax.Array) -> tuple:
        """Decoder layer ``n``'s ``(vertical, horizontal)`` gate biases, each (..., 2F)."""
        biases = self.conditions[n](context)  # (..., 4F)
        f2 = 2 * self.config.features
        return biases[..., :f2], biases[..., f2:]

    def contexts(self, x: jax.Array) -> jax.Array:  # (B, T, H, W, C) -> (B, T, H, W, hidden)
        """The context of every frame: the LSTM's state after the frames before it.

        Args:
          x: (B, T, H, W, C) integers in 0..K-1.

        Returns:
          (B, T, H, W, context_channels); frame 0's from the initial state (the LSTM's: zero).
        """
        batch = x.shape[0]
        state = self.initial_state(batch)

        def step(state, frame):
            state = self.next_state(frame, state)
            return state, self.context_of(state)

        # Frames 0..T-2 make the contexts of frames 1..T-1.
        _, later = jax.lax.scan(step, state, jnp.moveaxis(x[:, :-1], 1, 0))  # (T-1, B, H, W, h)
        first = self.context_of(state)[None]  # (1, B, H, W, hidden)
        return jnp.moveaxis(jnp.concatenate([first, later], axis=0), 0, 1)

    def step_layers(self) -> tuple:
        """The decoder's gated layers in order (see ``GatedPixelCNN.step_layers``)."""
        return tuple(self.layers)

    def output_logits(self, skip: jax.Array) -> jax.Array:  # (..., S) -> (..., C, K)
        """The output head: summed skips -> logits."""
        return self.head(skip)

    def decode(self, frames: jax.Array, context: jax.Array) -> jax.Array:
        """The Gated PixelCNN over frames given their contexts.

        Args:
          frames: (N, H, W, C) integers in 0..K-1.
          context: (N, H, W, context_channels).

        Returns:
          (N, H, W, C, K) logits.
        """
        v = h = scale_to_unit(frames, self.levels)  # (N, H, W, C)
        skip = None
        for n, layer in enumerate(self.layers):
            v_bias, h_bias = self.layer_biases(n, context)  # (N, H, W, 2F) each
            v_to_h, v_next = layer.finish_vertical(layer.vertical(v), v_bias)
            h, s = layer.finish_horizontal(layer.horizontal(h), v_to_h, h, h_bias)
            v = v_next
            skip = s if skip is None else skip + s
        return self.output_logits(skip)

    def single_frame_logits(self, x: jax.Array) -> jax.Array:
        """The logits of each frame alone: the decoder with a zero context, what a model of
        single frames gives (a test of whether the model uses motion).

        Args:
          x: (B, T, H, W, C) integers in 0..K-1.

        Returns:
          (B, T, H, W, C, K) logits; frame 0's equal ``self(x)``'s.
        """
        batch, frames = x.shape[:2]
        flat = x.reshape(batch * frames, *x.shape[2:])  # (B * T, H, W, C)
        context = jnp.zeros((*flat.shape[:3], self.config.context_channels), jnp.float32)
        logits = self.decode(flat, context)  # (B * T, H, W, C, K)
        return logits.reshape(batch, frames, *logits.shape[1:])

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        self.check_labels(labels)
        batch, frames = x.shape[:2]
        context = self.contexts(x)  # (B, T, H, W, hidden)
        logits = self.decode(
            x.reshape(batch * frames, *x.shape[2:]),
            context.reshape(batch * frames, *context.shape[2:]),
        )  # (B * T, H, W, C, K)
        return logits.reshape(batch, frames, *logits.shape[1:])
