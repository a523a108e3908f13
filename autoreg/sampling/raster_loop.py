"""The loop shared by the cached samplers: rows, then pixels, then colours, drawn in data order.

A cached sampler is a plan decorated with ``raster_sampler``: the plan builds, for the model
and the shape of the batch, a ``RasterPlan`` (the caches, and two functions over them):

- ``row_fn(i, image, caches) -> caches`` runs once at the start of each row ``i`` (the Gated
  PixelCNN's vertical stack, which only reads rows above the current one; the recurrent
  models' state-to-state terms of the rows above);
- ``pixel_fn(j, image, caches) -> (logits, caches)`` computes every layer at column ``j`` of the
  current row only, reading earlier pixels from the caches and writing this pixel's activations
  into them; ``logits`` is (B, C, K). It runs once per colour sub-step.

Every cache is a rolling cache (see activation_cache) that the loop advances at each row start,
except those wrapped in ``activation_cache.Kept``;
``image`` is the cache of the scaled input values, which the loop updates after every draw.
Values are drawn exactly as ``naive_sampler`` draws them, ``draw_categorical(key,
flat_position, logits, temperature)``, observed positions kept; the Gumbel noise of those draws
is generated a row at a time, vectorised (``ancestral.position_noise``).

What happens at each sub-pixel once its logits are known is the loop's ``draw`` rule: ancestral
sampling (``ancestral_draw``) draws the value with its noise and keeps observed positions;
sequential Monte Carlo (``autoreg.sampling.smc_raster``) also weighs observed positions and
resamples the particles, caches included. Both write the chosen value into the image cache the
same way, so a plan serves both. Every cache a plan makes is (B, ...) with the batch first, or a
scalar shared by the whole batch, so that resampling can gather them all along axis 0.

``raster_sampler`` adds what every image sampler does first (the labels checked against the
model, local features refused) and compiles the whole loop with jit. The loop reports each
finished row to ``autoreg.sampling.progress`` (a progress bar when one listens).

On a GPU every sub-pixel step launches a handful of small kernels, so the loop is bound by
launches, not arithmetic. ``unroll`` (a static keyword of every raster sampler) unrolls the
column loop by that factor and the colour loop fully, so XLA can fuse across steps; the draws,
and so the samples, are the same for every ``unroll``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.models.layers import scale_to_unit
from autoreg.sampling import activation_cache, progress
from autoreg.sampling.ancestral import (
    Sampler,
    draw_with_noise,
    position_noise,
    reject_features,
    unobserved_range,
)
from autoreg.validation import check_count

__all__ = [
    "Draw",
    "RasterPlan",
    "RasterState",
    "ancestral_draw",
    "raster_sampler",
    "run_raster",
    "sample_raster",
]


class RasterPlan(NamedTuple):
    """A model's part of ``sample_raster``: its caches and what to compute at each step.

    Attributes:
      image_pad: padding (rows above, columns either side) of the cache of scaled pixels.
      caches: initial (zero) rolling caches (``activation_cache``), any pytree of them.
      row_fn: ``row_fn(i, image, caches) -> caches`` at the start of row ``i``, or None.
      pixel_fn: ``pixel_fn(j, image, caches) -> (logits, caches)`` at column ``j`` of the
        current row, logits (B, C, K); it runs once per colour sub-step.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.raster_loop import RasterPlan
      >>> def pixel_fn(j, image, caches):  # every value equally likely: (B, C, K) zeros
      ...     return jnp.zeros((2, 1, 4)), caches
      >>> plan = RasterPlan(image_pad=(0, 0), caches=(), row_fn=None, pixel_fn=pixel_fn)
      >>> plan.image_pad, plan.row_fn is None
      ((0, 0), True)
    """

    image_pad: tuple[int, int]  # padding (rows above, columns either side) of the image cache
    caches: Any  # initial (zero) rolling caches, any pytree of them
    row_fn: Callable | None  # row_fn(i, image, caches) -> caches, or None
    pixel_fn: Callable  # pixel_fn(j, image, caches) -> ((B, C, K) logits, caches)


class RasterState(NamedTuple):
    """What the row loop carries from one sub-pixel to the next.

    Attributes:
      flat: (B, D) int32, the image in data order: observed values and the draws so far.
      image: the rolling cache of scaled values (``activation_cache``) the plan reads.
      caches: the plan's caches.
      extra: the draw rule's own state (None for ancestral sampling; SMC's weights).

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.raster_loop import RasterState
      >>> state = RasterState(jnp.zeros((2, 9), jnp.int32), jnp.zeros((2, 1, 3, 1)), (), None)
      >>> state.flat.shape, state.extra is None
      ((2, 9), True)
    """

    flat: jax.Array  # (B, D) int32
    image: jax.Array  # (B, pad_y + 1, W + 2 * pad_x, C)
    caches: Any
    extra: Any


class Draw(Protocol):
    """The rule the loop applies at each sub-pixel once its logits are known.

    ``draw(position, p, noise, logits, state) -> state`` sets ``state.flat[:, p]``: the loop
    then writes the pixel into the image cache. ``position`` is the flat position in the data
    order (``first_position + p``), ``noise`` the (B, K) Gumbel noise of that position and
    ``logits`` the (B, K) logits of the sub-pixel.

    Examples:
      >>> from autoreg.sampling.raster_loop import Draw, ancestral_draw
      >>> observed = np.zeros((2, 4), bool)
      >>> draw: Draw = ancestral_draw(observed, np.float32(1))
      >>> callable(draw)
      True
    """

    def __call__(
        self, position, p, noise: jax.Array, logits: jax.Array, state: RasterState
    ) -> RasterState:
        """Choose the value of every example at flat position ``p``; return the new state."""


def ancestral_draw(observed_flat: jax.Array, temperature) -> Draw:
    """The ancestral rule: draw with the position's noise, keep observed values.

    Args:
      observed_flat: (B, D) bool, the observed positions of the image in data order.
      temperature: scalar dividing the logits.

    Returns:
      A ``Draw``: ``draw_with_noise(noise, logits, temperature)`` where not observed.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.raster_loop import RasterState, ancestral_draw
      >>> observed = jnp.array([[True, False], [False, False]])
      >>> state = RasterState(jnp.full((2, 2), 3, jnp.int32), None, (), None)
      >>> logits = jnp.array([[0.0, 50.0], [50.0, 0.0]])  # (B, K): nearly certain draws
      >>> draw = ancestral_draw(observed, 1.0)
      >>> draw(0, 0, jnp.zeros((2, 2)), logits, state).flat  # example 0 keeps its observed 3
      Array([[3, 3],
             [0, 3]], dtype=int32)
    """

    def draw(position, p, noise, logits, state: RasterState) -> RasterState:
        new = draw_with_noise(noise, logits, temperature)  # (B,)
        flat = state.flat
        return state._replace(
            flat=flat.at[:, p].set(jnp.where(observed_flat[:, p], flat[:, p], new))
        )

    return draw


def raster_sampler(plan: Callable[..., RasterPlan]) -> Sampler:
    """Decorator: the jit-compiled ``Sampler`` that runs ``sample_raster`` with ``plan``.

    ``plan(model, shape, labels) -> RasterPlan`` gets the merged model, the (B, H, W, C) shape
    of the batch and its (B,) labels (or None). The sampler checks the labels against the model
    and refuses local features before it calls the plan; it keeps the plan's name and docstring.
    It takes one more static keyword than a ``Sampler``, ``unroll`` (default 1).

    Args:
      plan: the model family's plan function.

    Returns:
      The ``autoreg.sampling.ancestral.Sampler``; its ``plan`` attribute is ``plan`` (the
      particle filter of ``autoreg.sampling.smc_raster`` runs on the same loop).

    Examples:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> from autoreg.sampling.raster_loop import RasterPlan, raster_sampler
      >>> @raster_sampler
      ... def uniform_sampler(model, shape, labels):
      ...     "Every value equally likely, whatever the model."
      ...     batch, height, width, colours = shape
      ...     def pixel_fn(j, image, caches):
      ...         return jnp.zeros((batch, colours, model.levels)), caches
      ...     return RasterPlan(image_pad=(0, 0), caches=(), row_fn=None, pixel_fn=pixel_fn)
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> graphdef, state = nnx.split(model)
      >>> x = np.zeros((2, 4, 4, 1), np.int32)
      >>> key, temperature = jax.random.key(0), np.float32(1)
      >>> uniform_sampler(graphdef, state, key, x, x != 0, None, temperature).shape
      (2, 4, 4, 1)
      >>> uniform_sampler.__name__, uniform_sampler.__doc__
      ('uniform_sampler', 'Every value equally likely, whatever the model.')
    """

    def sampler(graphdef, state, key, x, observed, labels, temperature, *, features=None, unroll=1):
        model = nnx.merge(graphdef, state)
        model.check_labels(labels)
        reject_features(model, features)
        image_pad, caches, row_fn, pixel_fn = plan(model, x.shape, labels)
        return sample_raster(
            key,
            x,
            observed,
            temperature,
            levels=model.levels,
            image_pad=image_pad,
            caches=caches,
            row_fn=row_fn,
            pixel_fn=pixel_fn,
            unroll=unroll,
        )

    # The plan's name and docstring, not functools.wraps: jit must see the sampler's signature.
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(sampler, name, getattr(plan, name))
    compiled = jax.jit(sampler, static_argnums=0, static_argnames="unroll")
    compiled.plan = plan  # for the particle filter on the same loop (smc_raster)
    return compiled


def sample_raster(
    key: jax.Array,
    x: jax.Array,
    observed: jax.Array,
    temperature: jax.Array,
    *,
    levels: int,
    image_pad: tuple[int, int],
    caches,
    row_fn: Callable | None,
    pixel_fn: Callable,
    unroll: int = 1,
    first_position=0,
) -> jax.Array:
    """Ancestral sampling of (B, H, W, C) images with cached activations; call inside jit.

    Args:
      key: PRNG key of the draws.
      x: (B, H, W, C) int32, read where ``observed``.
      observed: (B, H, W, C) bool.
      temperature: scalar float32 dividing the logits.
      levels, image_pad, row_fn, pixel_fn, unroll, first_position: as ``run_raster`` takes them.
      caches: initial (zero) rolling caches, any pytree of them.

    Returns:
      (B, H, W, C) int32 samples, identical to ``naive_sampler``'s for the same key.

    Raises:
      InputError: ``unroll`` is not a positive integer.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.ancestral import draw_categorical
      >>> from autoreg.sampling.raster_loop import sample_raster
      >>> logits = jnp.log(jnp.array([[0.1, 0.2, 0.3, 0.4]] * 2))  # (B, K), at every pixel
      >>> def pixel_fn(j, image, caches):
      ...     return logits[:, None, :], caches  # (B, C, K), C = 1
      >>> @jax.jit
      ... def sample(key, x, observed):
      ...     return sample_raster(
      ...         key, x, observed, jnp.float32(1), levels=4, image_pad=(1, 1), caches=(),
      ...         row_fn=None, pixel_fn=pixel_fn,
      ...     )
      >>> key, x = jax.random.key(0), jnp.zeros((2, 3, 3, 1), jnp.int32)
      >>> out = sample(key, x, x != 0)
      >>> rule = jnp.stack([draw_categorical(key, i, logits, 1.0) for i in range(9)], axis=1)
      >>> bool((out.reshape(2, 9) == rule).all())  # the draws of the ancestral rule
      True
    """
    unroll = check_count(unroll, "unroll")
    batch, height, width, colours = x.shape
    observed_flat = observed.reshape(batch, -1)  # (B, D)
    flat = jnp.where(observed, x, 0).reshape(batch, -1)  # (B, D)
    image = activation_cache.empty_cache(batch, width, colours, image_pad)
    # Rows up to the last position that some example must sample; earlier positions are
    # computed too (the caches need them) but observed everywhere, so their draws are kept out.
    start, stop = unobserved_range(observed)
    num_rows = jnp.where(start < stop, (stop - 1) // (width * colours) + 1, 0)
    state = run_raster(
        key,
        RasterState(flat, image, caches, None),
        num_rows,
        levels=levels,
        image_pad=image_pad,
        row_fn=row_fn,
        pixel_fn=pixel_fn,
        draw=ancestral_draw(observed_flat, temperature),
        unroll=unroll,
        first_position=first_position,
    )
    return state.flat.reshape(x.shape)


def run_raster(
    key: jax.Array,
    state: RasterState,
    num_rows,
    *,
    levels: int,
    image_pad: tuple[int, int],
    row_fn: Callable | None,
    pixel_fn: Callable,
    draw: Draw,
    unroll: int = 1,
    first_position=0,
) -> RasterState:
    """The row / pixel / colour loop over the first ``num_rows`` rows of an image; call in jit.

    At each sub-pixel: ``pixel_fn`` gives the logits, ``draw`` chooses the value (and updates
    whatever else it carries), and the pixel is written into the image cache. Each finished row
    is reported to ``autoreg.sampling.progress`` as the flat position it ends at.

    Args:
      key: PRNG key of the draws (the noise of flat position ``first_position + p``).
      state: the initial ``RasterState``: ``flat`` (B, H * W * C) with the observed values,
        ``image`` an empty image cache padded by ``image_pad``, the plan's zero ``caches``.
      num_rows: rows to visit (an int or int32 scalar, at most H).
      levels: K.
      image_pad: padding (rows above, columns either side) of the image cache.
      row_fn: ``row_fn(i, image, caches) -> caches`` at each row start, or None.
      pixel_fn: ``pixel_fn(j, image, caches) -> ((B, C, K) logits, caches)``.
      draw: the ``Draw`` rule at each sub-pixel.
      unroll: unroll the column loop by this factor (and the colour loop fully when > 1).
      first_position: the flat position of the image's first sub-pixel in the data order.

    Returns:
      The ``RasterState`` after the last visited row.
    """
    batch = state.flat.shape[0]
    colours = state.image.shape[-1]
    width = state.image.shape[2] - 2 * image_pad[1]
    per_row = width * colours

    def row(i, state: RasterState) -> RasterState:
        image, caches = jax.tree.map(
            activation_cache.advance, (state.image, state.caches), is_leaf=activation_cache.is_kept
        )
        if row_fn is not None:
            caches = row_fn(i, image, caches)
        first = first_position + i * per_row
        noise = position_noise(key, first, per_row, (batch, levels))  # (W * C, B, K)

        def colour_step(j, c, state: RasterState) -> RasterState:
            logits, caches = pixel_fn(j, state.image, state.caches)  # (B, C, K)
            k = j * colours + c
            p = i * per_row + k
            state = draw(first + k, p, noise[k], logits[:, c], state._replace(caches=caches))
            pixel = jax.lax.dynamic_slice(state.flat, (0, p - c), (batch, colours))  # (B, C)
            pixel = scale_to_unit(pixel, levels)[:, None, None, :]  # (B, 1, 1, C)
            return state._replace(image=activation_cache.write(state.image, image_pad[1], j, pixel))

        # Columns and colours as two loops: the column is then a loop counter, not a quotient
        # that XLA would recompute inside every fused elementwise loop that indexes with it.
        def pixel_step(j, state):
            return jax.lax.fori_loop(
                0, colours, functools.partial(colour_step, j), state, unroll=unroll > 1
            )

        state = state._replace(image=image, caches=caches)
        state = jax.lax.fori_loop(0, width, pixel_step, state, unroll=unroll)
        progress.report(first + per_row)
        return state

    return jax.lax.fori_loop(0, num_rows, row, state)
