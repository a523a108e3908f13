"""Layers shared by the models: masked 2-D convolutions with colour groups, the input scaling,
and the gated activation.

The variables of an image are ordered in raster scan and, inside a pixel, channel by channel
(R, then G, then B). A masked convolution keeps only the kernel taps that look at earlier
pixels, plus the centre tap restricted by colour group:

- feature channel ``i`` of a map with ``F`` channels belongs to colour group ``i * C // F``
  (contiguous blocks; for the data itself channel ``c`` is group ``c``);
- mask ``"A"`` (first layer): output group ``g`` sees input groups ``< g`` at the centre;
- mask ``"B"`` (later layers): output group ``g`` sees input groups ``<= g`` at the centre.

Stacking one mask-A layer and any number of mask-B layers therefore gives logits for sub-pixel
``(h, w, c)`` that depend only on the sub-pixels strictly before it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.errors import InputError
from autoreg.models.config_checks import CONV_IMPLS
from autoreg.rules import one_of


def scale_to_unit(x: jax.Array, levels: int) -> jax.Array:
    """Integers 0..K-1 -> float32 in [-1, 1]: what every image model feeds its first layer."""
    return x.astype(jnp.float32) * (2.0 / (levels - 1)) - 1.0


def gated_activation(z: jax.Array) -> jax.Array:
    """``tanh(first half) * sigmoid(second half)`` of the last axis: (..., 2G) -> (..., G).

    The gated unit of the Gated PixelCNN and of WaveNet.
    """
    filt, gate = jnp.split(z, 2, axis=-1)
    return jnp.tanh(filt) * jax.nn.sigmoid(gate)


def colour_groups(num_features: int, num_colours: int) -> np.ndarray:
    """Colour group (0..C-1) of each of ``num_features`` channels, in contiguous blocks."""
    if num_features < num_colours:
        raise InputError(
            f"a masked layer needs at least one channel per colour: {num_features} channels "
            f"for {num_colours} colours"
        )
    return np.arange(num_features) * num_colours // num_features


class GroupMask(NamedTuple):
    """The (in, out) 0/1 centre-tap mask of colour groups, kept as the groups themselves.

    Output channel o sees input channel i at the centre tap when ``groups_in[i] <
    groups_out[o]`` (``"A"``) or ``<=`` (``"B"``). ``array()`` builds the mask with jnp, so a
    model built under ``nnx.eval_shape`` (to read its shapes) allocates no mask at all.
    """

    groups_in: np.ndarray  # (in,) colour group of each input channel
    groups_out: np.ndarray  # (out,) colour group of each output channel
    mask_type: str  # "A" or "B"

    def connects_all(self) -> bool:
        """True when every entry of the mask is 1 (the mask would change nothing)."""
        if self.mask_type == "A":
            return bool(self.groups_in.max() < self.groups_out.min())
        return bool(self.groups_in.max() <= self.groups_out.min())

    def array(self) -> jax.Array:
        """The (in, out) float32 0/1 mask."""
        groups_in = jnp.asarray(self.groups_in)[:, None]
        groups_out = jnp.asarray(self.groups_out)[None, :]
        seen = groups_in < groups_out if self.mask_type == "A" else groups_in <= groups_out
        return seen.astype(jnp.float32)


def group_mask(groups_in: np.ndarray, groups_out: np.ndarray, mask_type: str) -> GroupMask:
    """The centre-tap mask in which output group g sees input groups < g ("A") or <= g ("B")."""
    return GroupMask(np.asarray(groups_in), np.asarray(groups_out), mask_type)


def centre_mask(in_features: int, out_features: int, num_colours: int, mask_type: str) -> GroupMask:
    """The centre-tap mask of colour-group masking between feature maps of these widths."""
    groups_in = colour_groups(in_features, num_colours)
    return group_mask(groups_in, colour_groups(out_features, num_colours), mask_type)


def kept_taps(kernel_size: tuple[int, int], mask_type: str, num_colours: int) -> list:
    """The (dy, dx) offsets a causal kernel keeps, in raster order; the centre tap is last.

    Rows above the centre are kept whole; in the centre row only the taps left of the centre.
    The centre tap itself is kept unless the mask is ``"A"`` with a single colour (where it
    would connect nothing).
    """
    kh, kw = kernel_size
    if kh % 2 == 0 or kw % 2 == 0:
        raise InputError(f"masked kernels need odd sizes, got {kernel_size}")
    ry, rx = kh // 2, kw // 2
    taps = [(dy, dx) for dy in range(-ry, 1) for dx in range(-rx, rx + 1) if (dy, dx) < (0, 0)]
    if mask_type == "B" or num_colours > 1:
        taps.append((0, 0))
    return taps


class Buffer(nnx.Variable):
    """A constant array that a module carries (a mask): not trained, not checkpointed."""


def gather_taps(x: jax.Array, taps: list) -> jax.Array:
    """Stack ``x`` shifted by each causal tap: (B, H, W, F) -> (B, H, W, taps * F).

    Channel block ``t`` of the output at ``(i, j)`` is ``x[:, i + dy, j + dx]`` for the tap
    ``(dy, dx) = taps[t]`` (``dy <= 0``), zero outside the image.
    """
    _, h, w, _ = x.shape
    ry = max(-dy for dy, _ in taps)
    rx = max(abs(dx) for _, dx in taps)
    padded = jnp.pad(x, ((0, 0), (ry, 0), (rx, rx), (0, 0)))
    return jnp.concatenate(
        [padded[:, ry + dy : ry + dy + h, rx + dx : rx + dx + w, :] for dy, dx in taps], axis=-1
    )


def resolve_impl(impl: str) -> str:
    """The convolution implementation ``impl`` stands for: ``"auto"`` is ``"taps"`` on CPU
    (a gather and one matrix product, several times faster there) and ``"conv"`` elsewhere."""
    if impl == "auto":
        return "taps" if jax.default_backend() == "cpu" else "conv"
    return impl


def conv_over_taps(x: jax.Array, kernel: jax.Array, taps: tuple) -> jax.Array:
    """XLA's convolution of ``x`` (B, H, W, in) with a kernel (taps, in, out) over any taps
    ``(dy, dx)``: output (i, j) sums ``x[i + dy, j + dx] @ kernel[tap]`` (zero outside).

    The taps are scattered into a dense kernel over their bounding box, in steps of their
    common spacing ``d`` (XLA's kernel dilation), and the input padded to reach every tap.

    Returns:
      (B, H, W, out), without bias.
    """
    d = math.gcd(*(abs(v) for tap in taps for v in tap)) or 1
    dy_min, dy_max = min(dy for dy, _ in taps), max(dy for dy, _ in taps)
    dx_min, dx_max = min(dx for _, dx in taps), max(dx for _, dx in taps)
    box = (1 + (dy_max - dy_min) // d, 1 + (dx_max - dx_min) // d)
    dense = jnp.zeros(box + kernel.shape[1:], kernel.dtype)
    rows = np.array([(dy - dy_min) // d for dy, _ in taps])
    cols = np.array([(dx - dx_min) // d for _, dx in taps])
    dense = dense.at[rows, cols].set(kernel)
    return jax.lax.conv_general_dilated(
        x.astype(kernel.dtype),
        dense,
        (1, 1),
        ((-dy_min, dy_max), (-dx_min, dx_max)),
        rhs_dilation=(d, d),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )


class TapConv2D(nnx.Module):
    """A convolution over an explicit tuple of causal taps ``(dy, dx)``, ``dy <= 0``.

    ``kernel`` has shape ``(taps, in, out)``; ``centre_mask`` (a ``GroupMask``) multiplies the
    centre tap ``(0, 0)`` when it is the last tap (a kernel without one ignores it). As in
    ``MaskedConv2D``, ``impl="taps"`` gathers the shifted inputs into one matrix product and
    ``impl="conv"`` calls XLA's convolution; ``"auto"`` picks taps on CPU.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        taps: tuple,
        *,
        centre_mask: GroupMask | None = None,
        impl: str = "auto",
        rngs: nnx.Rngs,
    ):
        one_of(CONV_IMPLS).check(impl, "impl")
        if not taps or any(dy > 0 for dy, _ in taps):
            raise InputError(f"taps must be non-empty and look up or sideways (dy <= 0): {taps}")
        self.taps = tuple(taps)
        self.impl = impl
        fan_in = len(self.taps) * in_features
        init = nnx.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
        kernel = init(rngs.params(), (fan_in, out_features), jnp.float32)
        self.kernel = nnx.Param(kernel.reshape(len(self.taps), in_features, out_features))
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))
        mask = None
        if centre_mask is not None and self.taps[-1] == (0, 0) and not centre_mask.connects_all():
            ones = jnp.ones(self.kernel.shape, jnp.float32)
            mask = Buffer(ones.at[-1].set(centre_mask.array()))
        self.mask = mask  # None when every stored weight is used

    @property
    def pointwise(self) -> bool:
        """True for a 1x1 convolution (a matrix product per pixel)."""
        return self.taps == ((0, 0),)

    def masked_kernel(self) -> jax.Array:
        """(taps, in, out) kernel with the centre mask applied."""
        kernel = self.kernel[...]
        return kernel if self.mask is None else kernel * self.mask[...]

    def from_patches(self, patches: jax.Array) -> jax.Array:  # (..., taps * in) -> (..., out)
        """The convolution's output from inputs already gathered in tap order, computed in the
        parameters' dtype (bfloat16 parameters: bfloat16 products, as in mixed precision)."""
        kernel = self.masked_kernel()
        patches = patches.astype(kernel.dtype)
        return patches @ kernel.reshape(-1, kernel.shape[-1]) + self.bias[...]

    def __call__(self, x: jax.Array) -> jax.Array:  # (B, H, W, in) -> (B, H, W, out)
        if self.pointwise:
            return self.from_patches(x)
        if resolve_impl(self.impl) == "taps":
            return self.from_patches(gather_taps(x, self.taps))
        return conv_over_taps(x, self.masked_kernel(), self.taps) + self.bias[...]


class MaskedConv2D(TapConv2D):
    """A 2-D convolution whose logits at a sub-pixel see only earlier sub-pixels (mask A or B).

    Only the kept taps are parameters: ``kernel`` has shape ``(taps, in, out)``, so a 3x3 mask-B
    kernel stores 5 of 9 taps and a 7x7 mask-A kernel 24 of 49 (plus the centre for RGB).

    Two implementations compute the same function (tested equal):

    - ``"taps"`` gathers the shifted inputs of the kept taps into one matrix product. On CPUs this
      is several times faster than XLA's convolution, whose kernel gradient is slow there.
    - ``"conv"`` scatters the taps into a dense kernel and calls XLA's convolution (GPU/TPU).

    ``impl="auto"`` picks ``"taps"`` on CPU and ``"conv"`` elsewhere.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: int | tuple[int, int],
        *,
        mask_type: str,
        num_colours: int,
        impl: str = "auto",
        rngs: nnx.Rngs,
    ):
        if mask_type not in ("A", "B"):
            raise InputError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        self.kernel_size = kernel_size
        super().__init__(
            in_features,
            out_features,
            tuple(kept_taps(kernel_size, mask_type, num_colours)),
            centre_mask=centre_mask(in_features, out_features, num_colours, mask_type),
            impl=impl,
            rngs=rngs,
        )
