"""The ancestral sampling rule every sampler follows, and the generic ("naive") sampler.

Variables are visited in data order (flattened raster scan, then channel; time for audio), and
the value at flat position ``i`` is ``draw_categorical(key, i, logits_i, temperature)``: the
argmax of ``logits_i / temperature`` plus the Gumbel noise of ``fold_in(key, i)``. Because the
noise of a position depends only on the key and the position, any sampler that computes the same
logits draws the same values, whatever order it computes them in; that is what makes the fast
samplers testable bit for bit against ``naive_sampler``.

This module is the leaf of the sampling package: it imports nothing else of ``autoreg`` but the
progress reports (``autoreg.sampling.progress``) and the error classes (``autoreg.errors``),
leaves themselves.
"""

from __future__ import annotations

import functools
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.errors import InputError
from autoreg.sampling import progress

__all__ = [
    "Sampler",
    "as_key",
    "draw_categorical",
    "draw_with_noise",
    "naive_sampler",
    "observed_is_prefix",
    "position_noise",
    "reject_features",
    "unobserved_range",
]


class Sampler(Protocol):
    """The signature every sampler in ``ModelSpec.samplers`` follows (jit-compiled).

    ``sampler(graphdef, state, key, x, observed, labels, temperature, *, features=None)
    -> samples``: see ``__call__``. Every sampler returns the samples ``naive_sampler``
    returns for the same arguments (the registry-wide tests check this bit for bit).

    Examples:
      >>> from flax import nnx
      >>> from autoreg.sampling.ancestral import naive_sampler
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> graphdef, state = nnx.split(model)
      >>> x = np.zeros((2, 4, 4, 1), np.int32)
      >>> observed = x != 0  # nothing observed: sample every position
      >>> key, temperature = jax.random.key(0), np.float32(1)
      >>> cached = autoreg.MODELS["pixelcnn"].samplers["cached"]  # a Sampler, as naive_sampler
      >>> fast = cached(graphdef, state, key, x, observed, None, temperature, features=None)
      >>> slow = naive_sampler(graphdef, state, key, x, observed, None, temperature, features=None)
      >>> bool((fast == slow).all())
      True
    """

    def __call__(
        self, graphdef, state, key, x, observed, labels, temperature, *, features=None
    ) -> jax.Array:
        """Sample the positions of ``x`` that are not ``observed``, in data order.

        Args:
          graphdef: ``nnx.split(model)[0]``, static under jit.
          state: ``nnx.split(model)[1]``.
          key: PRNG key; flat position ``i`` is drawn with ``draw_categorical(key, i, ...)``.
          x: (B, *event) int32 data, read only where ``observed``.
          observed: (B, *event) bool; observed positions are returned unchanged.
          labels: (B,) int32 class labels for a class-conditional model, else None.
          temperature: float32 scalar dividing the logits.
          features: local conditioning of a locally conditioned model (a mel-conditioned
            WaveNet): (B, frames, F) float32 frames, ``frames = T // hop_length`` (see
            ``WaveNet``); None for every other model. Samplers of models without local
            conditioning reject features (``reject_features``).

        Returns:
          (B, *event) int32 samples.

        Raises:
          InputError: labels a model does not take (or none for a class-conditional one), or
            features for a model without local conditioning.
        """


def reject_features(model, features) -> None:
    """Refuse local conditioning features for a model without local conditioning.

    Args:
      model: the model being sampled (its ``name`` is used in the message).
      features: the features a sampler was given, or None.

    Raises:
      InputError: ``features`` is not None.

    Examples:
      >>> from autoreg.sampling.ancestral import reject_features
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> reject_features(model, None)  # nothing to refuse
      >>> reject_features(model, np.zeros((1, 2, 80)))
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: pixelcnn takes no local conditioning features (only a locally
      conditioned wavenet does)
    """
    if features is not None:
        raise InputError(
            f"{model.name} takes no local conditioning features (only a locally conditioned "
            "wavenet does)"
        )


def draw_categorical(key: jax.Array, position, logits: jax.Array, temperature) -> jax.Array:
    """Sample the value at one flat position of every example: the rule of every sampler.

    Args:
      key: the sampling PRNG key (the same for every position).
      position: the flat position in data order (an int or an int32 scalar).
      logits: (B, K) logits of that position.
      temperature: scalar dividing the logits.

    Returns:
      (B,) int32 values in 0..K-1: the argmax of ``logits / temperature`` plus the Gumbel
      noise of ``fold_in(key, position)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.ancestral import draw_categorical
      >>> logits = jnp.array([[0.0, 100.0, 0.0], [100.0, 0.0, 0.0]])  # (B, K): nearly certain
      >>> draw_categorical(jax.random.key(0), 5, logits, 1.0)
      Array([1, 0], dtype=int32)
    """
    return jax.random.categorical(jax.random.fold_in(key, position), logits / temperature, axis=-1)


def position_noise(key: jax.Array, first, count: int, shape: tuple) -> jax.Array:
    """The Gumbel noise ``draw_categorical`` adds at flat positions ``first .. first+count-1``.

    Drawn for a chunk of positions in one vectorised call: on CPUs JAX's threefry runs as a small
    rolled loop whose overhead per call exceeds the cost of one position's network step.

    Args:
      key: the sampling PRNG key.
      first: the first flat position (an int or an int32 scalar).
      count: number of consecutive positions (static).
      shape: the noise's shape at each position, (B, K).

    Returns:
      (count, *shape) float32: entry ``t`` is ``jax.random.gumbel(fold_in(key, first + t),
      shape)``, the noise of ``jax.random.categorical`` (the argmax of noise + logits).

    Examples:
      >>> from autoreg.sampling.ancestral import position_noise
      >>> key = jax.random.key(0)
      >>> noise = position_noise(key, 3, 2, (1, 4))  # positions 3 and 4, B = 1, K = 4
      >>> noise.shape
      (2, 1, 4)
      >>> bool((noise[1] == jax.random.gumbel(jax.random.fold_in(key, 4), (1, 4))).all())
      True
    """
    positions = first + jnp.arange(count)
    return jax.vmap(lambda p: jax.random.gumbel(jax.random.fold_in(key, p), shape))(positions)


def draw_with_noise(noise: jax.Array, logits: jax.Array, temperature) -> jax.Array:
    """``draw_categorical`` given its noise (from ``position_noise``).

    ``jnp.argmax`` of noise + logits / temperature (the first maximum, or the first NaN), as two
    plain reductions: XLA's CPU argmax (a variadic reduce) costs more than a pixel's layers.

    Args:
      noise: (B, K) Gumbel noise of the position.
      logits: (B, K) logits of the position.
      temperature: scalar dividing the logits.

    Returns:
      (B,) int32 values in 0..K-1.

    Examples:
      >>> from autoreg.sampling.ancestral import draw_categorical, draw_with_noise
      >>> key = jax.random.key(0)
      >>> logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4]] * 3, np.float32))  # (B, K)
      >>> noise = jax.random.gumbel(jax.random.fold_in(key, 7), (3, 4))  # flat position 7's
      >>> draw_with_noise(noise, logits, 1.0), draw_categorical(key, 7, logits, 1.0)
      (Array([3, 1, 1], dtype=int32), Array([3, 1, 1], dtype=int32))
    """
    z = noise + logits / temperature  # (B, K)
    nan = jnp.isnan(z)
    hit = jnp.where(nan.any(axis=-1, keepdims=True), nan, z == z.max(axis=-1, keepdims=True))
    index = jnp.arange(z.shape[-1], dtype=jnp.int32)
    return jnp.where(hit, index, z.shape[-1]).min(axis=-1)


def unobserved_range(observed: jax.Array) -> tuple[jax.Array, jax.Array]:
    """First and one-past-last flat position that some example still has to sample.

    Args:
      observed: (B, *event) bool.

    Returns:
      Two int32 scalars ``(first, stop)``; ``(D, D)`` when everything is observed (D
      positions per example).

    Examples:
      >>> from autoreg.sampling.ancestral import unobserved_range
      >>> observed = np.ones((2, 2, 2, 1), bool)  # D = 4 positions per example
      >>> observed[0, 1, 0] = observed[1, 0, 1] = False  # flat positions 2 and 1
      >>> tuple(int(i) for i in unobserved_range(observed))
      (1, 3)
    """
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

    Returns:
      True when no observed position follows an unobserved one in any example.

    Examples:
      >>> from autoreg.sampling.ancestral import observed_is_prefix
      >>> observed = np.zeros((1, 4, 4, 1), bool)
      >>> observed[:, :2] = True  # the top rows
      >>> observed_is_prefix(observed)
      True
      >>> observed[:, 3] = True  # and the bottom row
      >>> observed_is_prefix(observed)
      False
    """
    flat = np.asarray(observed, bool).reshape(len(observed), -1)  # (B, D)
    # A prefix is a non-increasing row: no observed position right after a hidden one.
    return not bool((flat[:, 1:] & ~flat[:, :-1]).any())


def as_key(key) -> jax.Array:
    """A PRNG key from a key or an int seed.

    Args:
      key: a JAX PRNG key (returned as it is) or an int seed.

    Returns:
      The key; for a seed, ``jax.random.key(seed)``.

    Examples:
      >>> from autoreg.sampling.ancestral import as_key
      >>> key = jax.random.key(0)
      >>> as_key(key) is key, bool(as_key(0) == key)
      (True, True)
    """
    if isinstance(key, int | np.integer):
        return jax.random.key(int(key))
    return key


@functools.partial(jax.jit, static_argnums=0)
def naive_sampler(graphdef, state, key, x, observed, labels, temperature, *, features=None):
    """Re-run the network once per position; clamp observed positions to ``x`` (a ``Sampler``).

    Works for every model: the reference the fast samplers are tested against. Only positions
    from the first to the last one some example leaves unobserved are visited.

    Args:
      graphdef: ``nnx.split(model)[0]``, static under jit.
      state: ``nnx.split(model)[1]``.
      key: PRNG key; position ``i`` is drawn with ``draw_categorical(key, i, ...)``.
      x: (B, *event) int32, read only where ``observed``.
      observed: (B, *event) bool.
      labels: (B,) int32 class labels for a class-conditional model, else None.
      temperature: float32 scalar dividing the logits.
      features: (B, frames, F) for a locally conditioned model, passed to it; else None.

    Returns:
      (B, *event) int32 samples.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.sampling.ancestral import naive_sampler
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> graphdef, state = nnx.split(model)
      >>> x = np.full((2, 4, 4, 1), 3, np.int32)
      >>> observed = np.zeros(x.shape, bool)
      >>> observed[:, :2] = True  # keep the top two rows of x
      >>> key, temperature = jax.random.key(0), np.float32(1)
      >>> out = naive_sampler(graphdef, state, key, x, observed, None, temperature, features=None)
      >>> out.shape, bool((out[:, :2] == 3).all())
      ((2, 4, 4, 1), True)
    """
    model = nnx.merge(graphdef, state)
    batch, shape = x.shape[0], x.shape
    network = model if features is None else functools.partial(model, features=features)

    def step(i, flat):  # flat: (B, D)
        logits = network(flat.reshape(shape), labels)
        logits = logits.reshape(batch, flat.shape[1], -1)  # (B, D, K)
        new = draw_categorical(key, i, logits[:, i], temperature)  # (B,)
        keep = observed.reshape(batch, -1)[:, i]
        progress.report(i + 1)
        return flat.at[:, i].set(jnp.where(keep, flat[:, i], new))

    start, stop = unobserved_range(observed)
    flat = jnp.where(observed, x, 0).reshape(batch, -1)
    return jax.lax.fori_loop(start, stop, step, flat).reshape(shape)
