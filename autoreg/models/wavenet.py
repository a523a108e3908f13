"""WaveNet (van den Oord et al. 2016, "WaveNet: A Generative Model for Raw Audio").

A causal input convolution over the one-hot samples, stacks of dilated causal convolutions
(kernel 2, dilations 1, 2, ..., 2**(n-1), repeated) with gated ``tanh * sigmoid`` units and
residual and skip 1x1 convolutions, then ReLU-1x1-ReLU-1x1 from the summed skips to K logits.

Causality: the input convolution sees only samples strictly before t, and every later layer
only its own input at t and t - d, so the logits at t depend on the ``receptive_field``
samples t - receptive_field .. t - 1 and on nothing at or after t.

Conditioning: a class label (global, e.g. speaker id) adds a learned bias to every gate; a
feature sequence (local, e.g. a log-mel spectrogram, one frame per ``hop_length`` samples) is
upsampled to the audio rate by a ``FeatureUpsampler`` and projected into every gate. Neither
changes which samples the logits see. The upsampling is causal in frames: sample t uses its
own frame ``t // hop_length`` and the ``upsample_context`` frames before it, never a later one.

On CPUs every convolution is written as matrix products (a kernel-2 dilated convolution is one
product of the input concatenated with its copy shifted by d), which is faster there than XLA's
convolution.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.data.mel import MelAnalysis
from autoreg.errors import InputError, InputTypeError
from autoreg.memory import ACTIVATIONS, STREAM_BYTES
from autoreg.modalities import AUDIO
from autoreg.models.base import AutoregressiveModel
from autoreg.models.config_checks import (
    CHECKED_BY_THE_CONFIG,
    CLASSES,
    LEVELS,
    MAX_WIDTH,
    WIDTH,
    Bounds,
    check_fields,
    one_of,
)
from autoreg.models.layers import gated_activation
from autoreg.validation import check_count

UPSAMPLINGS = ("nearest", "transposed")  # frames -> samples: repeat, or a transposed convolution


@dataclasses.dataclass(frozen=True)
class WaveNetConfig:
    """Hyper-parameters of a WaveNet."""

    levels: int = 256  # K: values per sample (256 for 8-bit mu-law)
    sample_rate: int = 16000  # audio rate in Hz the model is trained and sampled at
    num_stacks: int = 2  # repeats of the dilation cycle 1, 2, ..., 2**(layers_per_stack-1)
    layers_per_stack: int = 10  # dilated layers per stack (10: dilations up to 512)
    residual_channels: int = 64  # width of the residual stream between layers
    gate_channels: int = 128  # output of each dilated convolution: tanh half + sigmoid half
    skip_channels: int = 64  # width of the skip connections and of the hidden output layer
    input_kernel: int = 2  # taps of the causal input convolution (samples t-k .. t-1)
    num_classes: int = 0  # global conditioning: number of class ids (0: unconditional)
    local_features: int = 0  # local conditioning: features per frame (0: none)
    hop_length: int = 0  # samples per feature frame (needed with local_features)
    upsample: str = "nearest"  # frames -> samples: "nearest" (repeat) or "transposed"
    upsample_context: int = 2  # earlier frames the conditioning of a sample also sees
    condition_channels: int = 32  # width of the upsampled conditioning
    mel: MelAnalysis | None = None  # the log-mel analysis the features are (None: any features)
    speakers: tuple = ()  # names of the class ids (e.g. speakers), if known

    BOUNDS: ClassVar[Bounds] = dict(
        levels=LEVELS,
        sample_rate=(1, 384_000),
        num_stacks=(1, 32),
        layers_per_stack=(1, 16),  # dilations up to 2**15
        residual_channels=WIDTH,
        gate_channels=(2, MAX_WIDTH),  # and even: the rule below
        skip_channels=WIDTH,
        input_kernel=(1, 64),
        num_classes=CLASSES,
        local_features=(0, MAX_WIDTH),
        hop_length=(0, 65536),
        upsample=one_of(UPSAMPLINGS),
        upsample_context=(0, 64),
        condition_channels=WIDTH,
        mel=CHECKED_BY_THE_CONFIG,
        speakers=CHECKED_BY_THE_CONFIG,
    )

    def __post_init__(self):
        if isinstance(self.mel, dict):  # read back from a checkpoint's JSON
            object.__setattr__(self, "mel", MelAnalysis(**self.mel))
        if self.mel is not None and not isinstance(self.mel, MelAnalysis):
            raise InputTypeError(
                f"mel must be a MelAnalysis or None, got {type(self.mel).__name__}"
            )
        if isinstance(self.speakers, str) or not isinstance(self.speakers, tuple | list):
            raise InputTypeError(
                f"speakers must be a tuple of names, got {type(self.speakers).__name__}"
            )
        object.__setattr__(self, "speakers", tuple(self.speakers))
        check_fields(self)
        self.check_local_conditioning()
        if self.gate_channels % 2:
            raise InputError(
                f"gate_channels must be even (tanh + sigmoid halves), got {self.gate_channels}"
            )
        if not all(isinstance(name, str) and len(name) <= 256 for name in self.speakers):
            raise InputTypeError("speakers must be names (strings of at most 256 characters)")
        if self.speakers and len(self.speakers) != self.num_classes:
            raise InputError(f"{len(self.speakers)} speaker names for {self.num_classes} classes")

    def check_local_conditioning(self) -> None:
        """The rules between the local-conditioning fields (``hop_length``, ``mel``)."""
        if self.local_features and not self.hop_length:
            raise InputError("local_features needs hop_length (samples per feature frame)")
        if self.mel is not None:
            mel = self.mel
            if (mel.n_mels, mel.hop_length, mel.sample_rate) != (
                self.local_features,
                self.hop_length,
                self.sample_rate,
            ):
                raise InputError(
                    "mel analysis (n_mels, hop_length, sample_rate) = "
                    f"{(mel.n_mels, mel.hop_length, mel.sample_rate)} must equal the model's "
                    f"(local_features, hop_length, sample_rate) = "
                    f"{(self.local_features, self.hop_length, self.sample_rate)}"
                )

    @property
    def dilations(self) -> tuple[int, ...]:
        """Dilation of every layer, in order: (1, 2, ..., 2**(n-1)) * num_stacks."""
        return tuple(2**i for i in range(self.layers_per_stack)) * self.num_stacks


PRESETS = {
    # For tests: dilations 1, 2, 4, 1, 2, 4 (receptive field 16), compiles in a second.
    "tiny": dict(
        num_stacks=2,
        layers_per_stack=3,
        residual_channels=8,
        gate_channels=8,
        skip_channels=8,
    ),
    # Benchmarks: 2 stacks of 10 layers, 64 residual, 128 gate, 64 skip channels (receptive
    # field 2048 samples, 128 ms at 16 kHz).
    "reference": dict(
        num_stacks=2,
        layers_per_stack=10,
        residual_channels=64,
        gate_channels=128,
        skip_channels=64,
    ),
    # A mel-conditioned vocoder sized for a 2-core CPU: 2 stacks of 8 layers (receptive field
    # 512 samples, 32 ms; the mel carries the long-range structure), 80 log-mel bands every
    # 256 samples (16 ms), nearest-neighbour upsampling after a causal frame convolution that
    # sees the 2 frames before. See experiments/train_vocoder.sh.
    "vocoder": dict(
        num_stacks=2,
        layers_per_stack=8,
        residual_channels=32,
        gate_channels=64,
        skip_channels=64,
        local_features=80,
        hop_length=256,
        upsample="nearest",
        upsample_context=2,
        condition_channels=32,
        mel=MelAnalysis(),
    ),
}


def _dense_init(rngs: nnx.Rngs, shape: tuple[int, ...], fan_in: int) -> nnx.Param:
    """A weight of ``shape`` with LeCun-normal scale for ``fan_in`` inputs per output."""
    init = nnx.initializers.variance_scaling(1.0, "fan_in", "truncated_normal", in_axis=0)
    flat = init(rngs.params(), (fan_in, math.prod(shape) // fan_in), jnp.float32)
    return nnx.Param(flat.reshape(shape))


def shift_right(x: jax.Array, shift: int, fill=0) -> jax.Array:
    """Delay ``x`` along time by ``shift`` steps: ``out[:, t] = x[:, t - shift]``, ``fill`` before.

    The result at t depends only on ``x`` at t - shift, so a shift of at least 1 is strictly
    causal. Works on (B, T) and (B, T, F).
    """
    t = x.shape[1]
    if shift >= t:
        return jnp.full_like(x, fill)
    pad = [(0, 0)] * x.ndim
    pad[1] = (shift, 0)
    return jnp.pad(x, pad, constant_values=fill)[:, :t]


class CausalInputConv(nnx.Module):
    """Causal convolution of the one-hot samples: ``out[t] = b + sum_j E_j[x[t - j]]``, j = 1..k.

    A convolution of one-hot inputs is a sum of embedding lookups, one table per tap; positions
    before the start contribute nothing (zero padding). Sees samples t-k .. t-1 only.
    """

    def __init__(self, levels: int, out_features: int, kernel: int, rngs: nnx.Rngs):
        self.levels = levels
        # (k, K, out): tap j-1 holds E_j, the weights of sample t - j.
        self.embedding = _dense_init(rngs, (kernel, levels, out_features), kernel)
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))

    def padded_tables(self) -> jax.Array:
        """(k, K + 1, out) tables whose extra row K is the zero vector of padding positions."""
        table = self.embedding[...]
        return jnp.pad(table, ((0, 0), (0, 1), (0, 0)))

    def __call__(self, x: jax.Array) -> jax.Array:  # (B, T) ints -> (B, T, out)
        tables = self.padded_tables()
        out = self.bias[...]
        for j in range(1, tables.shape[0] + 1):
            out = out + tables[j - 1][shift_right(x, j, fill=self.levels)]
        return out


class DilatedCausalConv1D(nnx.Module):
    """Kernel-2 convolution ``out[t] = W0 h[t - d] + W1 h[t] + b`` with zeros before the start.

    Written as one matrix product of ``[h shifted by d, h]``; sees only t and t - d.
    """

    def __init__(self, in_features: int, out_features: int, dilation: int, rngs: nnx.Rngs):
        self.dilation = dilation
        # (2, in, out): tap 0 weighs h[t - d], tap 1 weighs h[t].
        self.kernel = _dense_init(rngs, (2, in_features, out_features), 2 * in_features)
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))

    def step_kernels(self) -> tuple[jax.Array, jax.Array, jax.Array]:
        """The convolution at one time step: ``out[t] = h[t] @ current + h[t - d] @ past + b``.

        Returns:
          ``(current, past, bias)``: (in, out), (in, out) and (out,).
        """
        kernel = self.kernel[...]
        return kernel[1], kernel[0], self.bias[...]

    def __call__(self, h: jax.Array) -> jax.Array:  # (B, T, in) -> (B, T, out)
        stacked = jnp.concatenate([shift_right(h, self.dilation), h], axis=-1)  # (B, T, 2 in)
        kernel = self.kernel[...]
        return stacked @ kernel.reshape(-1, kernel.shape[-1]) + self.bias[...]


class ResidualLayer(nnx.Module):
    """Dilated causal conv -> (+ conditioning) -> tanh * sigmoid -> 1x1 to residual and skip."""

    def __init__(self, config: WaveNetConfig, dilation: int, rngs: nnx.Rngs):
        r, g, s = config.residual_channels, config.gate_channels, config.skip_channels
        self.residual_channels = r
        self.conv = DilatedCausalConv1D(r, g, dilation, rngs)
        # Global conditioning: one learned gate bias per class (a 1x1 conv of the one-hot id).
        self.class_bias = (
            _dense_init(rngs, (config.num_classes, g), config.num_classes)
            if config.num_classes
            else None
        )
        # Local conditioning: a 1x1 projection of the upsampled features into the gate.
        c = config.condition_channels
        self.feature_kernel = _dense_init(rngs, (c, g), c) if config.local_features else None
        # Residual (first r) and skip (last s) 1x1 convolutions, as one product.
        self.out_kernel = _dense_init(rngs, (g // 2, r + s), g // 2)
        self.out_bias = nnx.Param(jnp.zeros((r + s,), jnp.float32))

    def conditioning(self, labels, features) -> jax.Array | None:
        """Gate bias from the labels (B, 1, G) plus the projected features (B, T, G), or None.

        ``features`` are the upsampled conditioning (B, T, condition_channels), or None.
        """
        cond = None
        if self.class_bias is not None:
            cond = self.class_bias[...][labels][:, None, :]  # (B, 1, G)
        if features is not None:
            projected = features @ self.feature_kernel[...]  # (B, T, G)
            cond = projected if cond is None else cond + projected
        return cond

    def __call__(self, h, cond) -> tuple[jax.Array, jax.Array]:
        """(B, T, R) residual stream -> (next residual stream (B, T, R), skip (B, T, S))."""
        z = self.conv(h)  # (B, T, G)
        if cond is not None:
            z = z + cond
        y = gated_activation(z) @ self.out_kernel[...] + self.out_bias[...]  # (B, T, R + S)
        return h + y[..., : self.residual_channels], y[..., self.residual_channels :]


class FeatureUpsampler(nnx.Module):
    """Frame features (B, frames, F) -> conditioning at the audio rate (B, T, C), causal in frames.

    First a causal convolution over frames, ``c[f] = b + sum_j A_j x[f - j]`` for j = 0 ..
    ``context`` (frames before the first are zeros: silence for ``log_mel`` features); then to
    the audio rate, with ``f = t // hop``:

    - ``"nearest"``: ``u[t] = c[f]`` (nearest-neighbour upsampling after the convolution);
    - ``"transposed"``: ``u[t] = P[t mod hop] c[f] + q``, a learned transposed convolution
      with kernel = stride = hop (each position within a frame has its own linear map).

    Sample t therefore sees its own frame and the ``context`` frames before it, no later one.
    """

    def __init__(self, config: WaveNetConfig, rngs: nnx.Rngs):
        f, c, k = config.local_features, config.condition_channels, config.upsample_context + 1
        self.hop, self.context, self.mode = (
            config.hop_length,
            config.upsample_context,
            config.upsample,
        )
        # (k F, C): row block j weighs frame f - (k - 1 - j), i.e. the last block is frame f.
        self.frame_kernel = _dense_init(rngs, (k * f, c), k * f)
        self.frame_bias = nnx.Param(jnp.zeros((c,), jnp.float32))
        if self.mode == "transposed":
            eye = jnp.broadcast_to(jnp.eye(c), (self.hop, c, c))  # starts as "nearest"
            self.phase_kernel = nnx.Param(eye + 0.0)  # (hop, C, C)
            self.phase_bias = nnx.Param(jnp.zeros((c,), jnp.float32))

    def frames(self, padded: jax.Array, index: jax.Array) -> jax.Array:
        """Frame conditioning ``c`` of the frames ``index`` (N,): (B, N, C).

        Args:
          padded: (B, context + frames, F) features after ``context`` leading frames, so that
            frame f's window is rows f .. f + context.
        """
        rows = index[:, None] + jnp.arange(self.context + 1)  # (N, k)
        windows = padded[:, rows]  # (B, N, k, F)
        flat = windows.reshape(*windows.shape[:2], -1)  # (B, N, k F)
        return flat @ self.frame_kernel[...] + self.frame_bias[...]

    def at_positions(self, padded: jax.Array, positions: jax.Array) -> jax.Array:
        """Upsampled conditioning ``u[t]`` of the samples ``positions`` (N,): (B, N, C)."""
        c = self.frames(padded, positions // self.hop)  # (B, N, C)
        if self.mode == "nearest":
            return c
        phase = self.phase_kernel[...][positions % self.hop]  # (N, C, C)
        return jnp.einsum("bnc,ncd->bnd", c, phase) + self.phase_bias[...]

    def __call__(self, padded: jax.Array, length: int) -> jax.Array:
        """Conditioning of samples 0 .. length - 1 (length a multiple of hop): (B, T, C)."""
        frames = length // self.hop
        c = self.frames(padded, jnp.arange(frames))  # (B, frames, C)
        if self.mode == "nearest":
            return jnp.repeat(c, self.hop, axis=1)
        u = jnp.einsum("bfc,pcd->bfpd", c, self.phase_kernel[...]) + self.phase_bias[...]
        return u.reshape(c.shape[0], length, -1)  # (B, frames * hop, C)


class OutputWeights(NamedTuple):
    """The output head's parameters: ``relu(relu(skip) @ hidden_kernel + hidden_bias)
    @ logits_kernel + logits_bias``."""

    hidden_kernel: jax.Array  # (S, S)
    hidden_bias: jax.Array  # (S,)
    logits_kernel: jax.Array  # (S, K)
    logits_bias: jax.Array  # (K,)


class StepWeights(NamedTuple):
    """The parameters of a WaveNet regrouped for generation one time step at a time (L layers)."""

    input_tables: jax.Array  # (k, K + 1, R) causal input convolution, row K = before the start
    input_bias: jax.Array  # (R,)
    current: tuple  # L x (R, G): weight of h[t] in each dilated convolution
    past: tuple  # L x (R, G): weight of h[t - d]
    conv_bias: tuple  # L x (G,)
    class_bias: jax.Array | None  # (L, B, G) gate bias of each example's class, or None
    out_kernel: tuple  # L x (G/2, R + S): residual and skip 1x1 convolutions
    out_bias: tuple  # L x (R + S,)


class WaveNet(AutoregressiveModel):
    """WaveNet: ``model(x) -> logits``, x (B, T) int in 0..K-1, logits (B, T, K)."""

    name = "wavenet"
    modality = AUDIO

    def __init__(self, config: WaveNetConfig, *, rngs: nnx.Rngs):
        self.config = config
        r, s = config.residual_channels, config.skip_channels
        self.input_conv = CausalInputConv(config.levels, r, config.input_kernel, rngs)
        self.upsampler = FeatureUpsampler(config, rngs) if config.local_features else None
        self.layers = nnx.List([ResidualLayer(config, d, rngs) for d in config.dilations])
        self.hidden_kernel = _dense_init(rngs, (s, s), s)
        self.hidden_bias = nnx.Param(jnp.zeros((s,), jnp.float32))
        self.logits_kernel = _dense_init(rngs, (s, config.levels), s)
        self.logits_bias = nnx.Param(jnp.zeros((config.levels,), jnp.float32))

    @classmethod
    def widest_activation(cls, config: WaveNetConfig) -> int:
        """The residual stream, a dilated convolution's gates, the skips or the
        conditioning (its features per frame and their upsampled width)."""
        layer = (config.residual_channels, config.gate_channels, config.skip_channels)
        conditioning = (config.local_features, config.condition_channels)
        return max(layer + conditioning)

    @classmethod
    def network_depth(cls, config: WaveNetConfig) -> int:
        """The dilated layers of every stack."""
        return config.num_stacks * config.layers_per_stack

    def streaming_sampler_bytes(self, positions: int, method: str | None) -> int | None:
        """The queues of the fast and native samplers hold the receptive field, not the clip:
        ``STREAM_BYTES`` per time step, the queues' activations and two chunks of sampling
        noise. None for the naive sampler (a forward pass)."""
        if method == "naive":
            return None
        widest = self.widest_activation(self.config)
        queues = 4 * self.receptive_field * ACTIVATIONS * widest
        noise = 2 * 4 * 256 * self.levels
        return STREAM_BYTES * positions + queues + noise

    @property
    def receptive_field(self) -> int:
        """Number of past samples the logits at t see: t - receptive_field .. t - 1."""
        return self.config.input_kernel + sum(self.config.dilations)

    def event_shape(self, length: int | None = None) -> tuple[int, ...]:
        """``(length,)``: WaveNet generates audio of any length, which must be given.

        Raises:
          InputError: no length, or one that is not a positive integer.
        """
        if length is None:
            raise InputError("wavenet generates audio: pass length (number of samples)")
        return (check_count(length, "length"),)

    def output_weights(self) -> OutputWeights:
        """The output head's parameters, for a sampler that runs the head outside JAX."""
        return OutputWeights(
            self.hidden_kernel[...],
            self.hidden_bias[...],
            self.logits_kernel[...],
            self.logits_bias[...],
        )

    def output_head(self, skip: jax.Array) -> jax.Array:
        """ReLU-1x1-ReLU-1x1: summed skips (..., S) -> logits (..., K)."""
        w = self.output_weights()
        hidden = jax.nn.relu(skip) @ w.hidden_kernel + w.hidden_bias
        return jax.nn.relu(hidden) @ w.logits_kernel + w.logits_bias

    def step_weights(self, labels) -> StepWeights:
        """The parameters split per layer for one time step, with the class bias of ``labels``.

        Args:
          labels: (B,) class ids for a class-conditional model, else None.
        """
        layers = self.layers
        class_bias = None
        if self.config.num_classes:
            class_bias = jnp.stack([layer.conditioning(labels, None)[:, 0] for layer in layers])
        current, past, conv_bias = zip(
            *(layer.conv.step_kernels() for layer in layers), strict=True
        )
        return StepWeights(
            input_tables=self.input_conv.padded_tables(),
            input_bias=self.input_conv.bias[...],
            current=current,
            past=past,
            conv_bias=conv_bias,
            class_bias=class_bias,
            out_kernel=tuple(layer.out_kernel[...] for layer in layers),
            out_bias=tuple(layer.out_bias[...] for layer in layers),
        )

    def check_conditioning(self, x, labels, features):
        """Validate labels and features for ``x`` (B, T); return the padded features or None.

        Features of a locally conditioned model are (B, T // hop_length, F) frames, or
        (B, upsample_context + T // hop_length, F) with the frames before the first given too
        (training windows cut from longer audio); T must be a multiple of hop_length.

        Returns:
          (B, upsample_context + T // hop_length, F) float32 (missing leading frames as zeros),
          or None for a model without local conditioning.
        """
        cfg = self.config
        self.check_labels(labels)
        if cfg.local_features == 0:
            if features is not None:
                raise InputError("this wavenet takes no features (local_features=0)")
            return None
        return pad_features(features, x.shape[0], x.shape[1], cfg)

    def check_features(self, features, batch: int, length: int) -> None:
        """An InputError unless ``features`` fit ``batch`` clips of ``length`` samples."""
        pad_features(features, batch, length, self.config)

    def feature_shape(self, batch: int, length: int) -> tuple[int, int, int]:
        """The shape of the features of ``batch`` clips of ``length`` samples."""
        return (batch, length // max(self.config.hop_length, 1), self.config.local_features)

    def gate_kernels(self) -> jax.Array:
        """(C, L, G) projections of the upsampled conditioning into every layer's gate."""
        return jnp.stack([layer.feature_kernel[...] for layer in self.layers], axis=1)

    def gate_conditioning(self, padded: jax.Array, positions: jax.Array) -> jax.Array:
        """Every layer's gate input from the features at ``positions`` (N,): (N, L, B, G).

        One product of the upsampled conditioning with all layers' projections: what the
        queue sampler adds per block (``ResidualLayer.conditioning`` adds it per layer).
        """
        u = self.upsampler.at_positions(padded, positions)  # (B, N, C)
        return jnp.einsum("bnc,clg->nlbg", u, self.gate_kernels())

    def __call__(self, x: jax.Array, labels=None, *, features=None) -> jax.Array:
        """Logits of every sample given the samples before it.

        Args:
          x: (B, T) integers in 0..K-1.
          labels: (B,) class ids for a class-conditional model (``num_classes > 0``), else None.
          features: for a model with ``local_features=F``: (B, T // hop_length, F) frames (T a
            multiple of hop_length), optionally with the ``upsample_context`` frames before.

        Returns:
          (B, T, K) float32 logits; those at t depend only on x[:, :t] (and on frames up to
          t // hop_length).
        """
        padded = self.check_conditioning(x, labels, features)
        upsampled = None if padded is None else self.upsampler(padded, x.shape[1])  # (B, T, C)
        h = self.input_conv(x)  # (B, T, R)
        skip = 0.0
        for layer in self.layers:
            h, s = layer(h, layer.conditioning(labels, upsampled))
            skip = skip + s  # (B, T, S)
        return self.output_head(skip)  # (B, T, K)


def pad_features(features, batch: int, length: int, config: WaveNetConfig) -> jax.Array:
    """Check (B, frames, F) features for ``batch`` clips of ``length`` samples; pad the context.

    Raises:
      InputError: missing features, a length that is not a multiple of hop_length, or features
        of another shape than (B, length // hop, F) or (B, context + length // hop, F).
    """
    hop, context, f = config.hop_length, config.upsample_context, config.local_features
    frames = length // hop
    expected = f"({batch}, {frames}, {f})"
    if context:
        expected += f" or ({batch}, {frames + context}, {f}) with the {context} frames before"
    if features is None:
        raise InputError(f"this wavenet is locally conditioned: pass features {expected}")
    if length % hop:
        raise InputError(
            f"audio of {length} samples is not a whole number of frames (hop_length {hop})"
        )
    shape = tuple(jnp.shape(features))
    if (
        len(shape) != 3
        or shape[0] != batch
        or shape[2] != f
        or shape[1] not in (frames, frames + context)
    ):
        raise InputError(f"features must have shape {expected}, got {shape}")
    features = jnp.asarray(features, jnp.float32)
    pad = frames + context - shape[1]
    return jnp.pad(features, ((0, 0), (pad, 0), (0, 0)))
