"""Causal building blocks for image models: masked 2-D convolutions with colour groups.

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

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

CONV_IMPLS = ("auto", "taps", "conv")


def colour_groups(num_features: int, num_colours: int) -> np.ndarray:
    """Colour group (0..C-1) of each of ``num_features`` channels, in contiguous blocks."""
    if num_features < num_colours:
        raise ValueError(
            f"a masked layer needs at least one channel per colour: {num_features} channels "
            f"for {num_colours} colours"
        )
    return np.arange(num_features) * num_colours // num_features


def centre_mask(
    in_features: int, out_features: int, num_colours: int, mask_type: str
) -> np.ndarray:
    """(in_features, out_features) 0/1 mask of the centre tap for colour-group masking."""
    groups_in = colour_groups(in_features, num_colours)[:, None]
    groups_out = colour_groups(out_features, num_colours)[None, :]
    if mask_type == "A":
        return (groups_in < groups_out).astype(np.float32)
    return (groups_in <= groups_out).astype(np.float32)


def kept_taps(kernel_size: tuple[int, int], mask_type: str, num_colours: int) -> list:
    """The (dy, dx) offsets a causal kernel keeps, in raster order; the centre tap is last.

    Rows above the centre are kept whole; in the centre row only the taps left of the centre.
    The centre tap itself is kept unless the mask is ``"A"`` with a single colour (where it
    would connect nothing).
    """
    kh, kw = kernel_size
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"masked kernels need odd sizes, got {kernel_size}")
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


class MaskedConv2D(nnx.Module):
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
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        if impl not in CONV_IMPLS:
            raise ValueError(f"impl must be one of {CONV_IMPLS}, got {impl!r}")
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        self.kernel_size = kernel_size
        self.impl = impl
        self.taps = tuple(kept_taps(kernel_size, mask_type, num_colours))
        fan_in = len(self.taps) * in_features
        init = nnx.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
        kernel = init(rngs.params(), (fan_in, out_features), jnp.float32)
        self.kernel = nnx.Param(kernel.reshape(len(self.taps), in_features, out_features))
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))
        mask = np.ones((len(self.taps), in_features, out_features), np.float32)
        if self.taps[-1] == (0, 0):
            mask[-1] = centre_mask(in_features, out_features, num_colours, mask_type)
        # None when every stored weight is used (single colour): no multiply on the hot path.
        self.mask = None if mask.all() else Buffer(jnp.asarray(mask))

    def masked_kernel(self) -> jax.Array:
        """(taps, in, out) kernel with the colour mask applied to the centre tap."""
        kernel = self.kernel[...]
        return kernel if self.mask is None else kernel * self.mask[...]

    def from_patches(self, patches: jax.Array) -> jax.Array:  # (..., taps * in) -> (..., out)
        """The output from inputs already gathered in tap order (as ``gather_taps`` stacks them).

        The "taps" path of ``__call__`` is exactly this; the cached samplers call it per pixel.
        """
        kernel = self.masked_kernel()
        return patches @ kernel.reshape(-1, kernel.shape[-1]) + self.bias[...]

    def __call__(self, x: jax.Array) -> jax.Array:  # (B, H, W, in) -> (B, H, W, out)
        impl = self.impl
        if impl == "auto":
            impl = "taps" if jax.default_backend() == "cpu" else "conv"
        if impl == "taps":
            return self.from_patches(x if self.taps == ((0, 0),) else gather_taps(x, self.taps))
        kernel = self.masked_kernel()
        kh, kw = self.kernel_size
        dense = jnp.zeros((kh, kw) + kernel.shape[1:], kernel.dtype)
        rows = np.array([dy + kh // 2 for dy, _ in self.taps])
        cols = np.array([dx + kw // 2 for _, dx in self.taps])
        dense = dense.at[rows, cols].set(kernel)
        y = jax.lax.conv_general_dilated(
            x, dense, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return y + self.bias[...]
