"""The ancestral sampling rule every sampler follows, and the generic ("naive") sampler.

Variables are visited in data order (flattened raster scan, then channel; time for audio), and
the value at flat position ``i`` is ``draw_categorical(key, i, logits_i, temperature)``: the
argmax of ``logits_i / temperature`` plus the Gumbel noise of ``fold_in(key, i)``. Because the
noise of a position depends only on the key and the position, any sampler that computes the same
logits draws the same values, whatever order it computes them in; that is what makes the fast
samplers testable bit for bit against ``naive_sampler``.

This module is the leaf of the sampling package: it imports nothing else of ``autoreg``.
"""

from __future__ import annotations

import functools
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx


class Sampler(Protocol):
    """The signature every sampler in ``ModelSpec.samplers`` follows (jit-compiled).

    ``sampler(graphdef, state, key, x, observed, labels, temperature, *, features=None)
    -> samples``

    Args:
      graphdef, state: ``nnx.split(model)``; ``graphdef`` is static under jit.
      key: PRNG key; flat position ``i`` is drawn with ``draw_categorical(key, i, ...)``.
      x: (B, *event) int32 data, read only where ``observed``.
      observed: (B, *event) bool; observed positions are returned unchanged.
      labels: (B,) int32 class labels for a class-conditional model, else None.
      temperature: float32 scalar dividing the logits.
      features: local conditioning of a locally conditioned model (a mel-conditioned WaveNet):
        (B, frames, F) float32 frames, ``frames = T // hop_length`` (see ``WaveNet``); None for
        every other model. Samplers of models without local conditioning reject features
        (``reject_features``).

    Returns:
      (B, *event) int32 samples. Every sampler returns the samples ``naive_sampler`` returns for
      the same arguments (the registry-wide tests check this bit for bit).
    """

    def __call__(
        self, graphdef, state, key, x, observed, labels, temperature, *, features=None
    ) -> jax.Array: ...


def reject_features(model, features) -> None:
    """ValueError when a model without local conditioning is given features."""
    if features is not None:
        raise ValueError(
            f"{model.name} takes no local conditioning features (only a locally conditioned "
            "wavenet does)"
        )


def draw_categorical(key: jax.Array, position, logits: jax.Array, temperature) -> jax.Array:
    """Sample (B,) values from (B, K) logits with the noise of flat position ``position``."""
    return jax.random.categorical(jax.random.fold_in(key, position), logits / temperature, axis=-1)


def position_noise(key: jax.Array, first, count: int, shape: tuple) -> jax.Array:
    """The Gumbel noise ``draw_categorical`` adds at flat positions ``first .. first+count-1``.

    Drawn for a chunk of positions in one vectorised call: on CPUs JAX's threefry runs as a small
    rolled loop whose overhead per call exceeds the cost of one position's network step.

    Returns:
      (count, *shape) float32: entry ``t`` is ``jax.random.gumbel(fold_in(key, first + t),
      shape)``, the noise of ``jax.random.categorical`` (the argmax of noise + logits).
    """
    positions = first + jnp.arange(count)
    return jax.vmap(lambda p: jax.random.gumbel(jax.random.fold_in(key, p), shape))(positions)


def draw_with_noise(noise: jax.Array, logits: jax.Array, temperature) -> jax.Array:
    """``draw_categorical`` given its noise: (B, K) noise and logits -> (B,) int32 values.

    ``jnp.argmax`` of noise + logits / temperature (the first maximum, or the first NaN), as two
    plain reductions: XLA's CPU argmax (a variadic reduce) costs more than a pixel's layers.
    """
    z = noise + logits / temperature  # (B, K)
    nan = jnp.isnan(z)
    hit = jnp.where(nan.any(axis=-1, keepdims=True), nan, z == z.max(axis=-1, keepdims=True))
    index = jnp.arange(z.shape[-1], dtype=jnp.int32)
    return jnp.where(hit, index, z.shape[-1]).min(axis=-1)


def unobserved_range(observed: jax.Array) -> tuple[jax.Array, jax.Array]:
    """First and one-past-last flat position that some example still has to sample."""
    missing = ~observed.reshape(observed.shape[0], -1).all(axis=0)  # (D,)
    d = missing.shape[0]
    first = jnp.argmax(missing)
    last = d - jnp.argmax(missing[::-1])
    return jnp.where(missing.any(), first, d), jnp.where(missing.any(), last, d)


def observed_is_prefix(observed) -> bool:
    """True if every example's observed positions are a prefix of the data order.

    Then no observed position follows a sampled one, and ancestral completion samples the exact
    conditional.

    Args:
      observed: (B, *event) bool.
    """
    flat = np.asarray(observed, bool).reshape(len(observed), -1)  # (B, D)
    # A prefix is a non-increasing row: no observed position right after a hidden one.
    return not bool((flat[:, 1:] & ~flat[:, :-1]).any())


def as_key(key) -> jax.Array:
    """A PRNG key from a key or an int seed."""
    if isinstance(key, int | np.integer):
        return jax.random.key(int(key))
    return key


@functools.partial(jax.jit, static_argnums=0)
def naive_sampler(graphdef, state, key, x, observed, labels, temperature, *, features=None):
    """Re-run the network once per position; clamp observed positions to ``x`` (a ``Sampler``).

    Works for every model: the reference the fast samplers are tested against.

    Args:
      x: (B, *event) int32, read only where ``observed``.
      observed: (B, *event) bool.
      features: (B, frames, F) for a locally conditioned model, passed to it; else None.

    Returns:
      (B, *event) int32 samples.
    """
    model = nnx.merge(graphdef, state)
    batch, shape = x.shape[0], x.shape
    network = model if features is None else functools.partial(model, features=features)

    def step(i, flat):  # flat: (B, D)
        logits = network(flat.reshape(shape), labels)
        logits = logits.reshape(batch, flat.shape[1], -1)  # (B, D, K)
        new = draw_categorical(key, i, logits[:, i], temperature)  # (B,)
        keep = observed.reshape(batch, -1)[:, i]
        return flat.at[:, i].set(jnp.where(keep, flat[:, i], new))

    start, stop = unobserved_range(observed)
    flat = jnp.where(observed, x, 0).reshape(batch, -1)
    return jax.lax.fori_loop(start, stop, step, flat).reshape(shape)
