"""Exact ancestral sampling and completion, each one jit-compiled loop over positions.

All samplers share one contract so that they give identical samples for the same key:
variables are visited in data order (flattened raster scan, then channel; time for audio), and
the value at flat position ``i`` is ``draw_categorical(key, i, logits_i, temperature)``. The
generic ("naive") sampler re-runs the whole network at every position and works for any model.
Faster samplers (for example a cached one) register in ``SAMPLERS`` under the model's name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.validation import check_data, check_labels, check_observed, check_temperature

# SAMPLERS[model_name][method] = fn(graphdef, state, key, x, observed, labels, temperature)
# -> samples, with x, observed: (B, *event). The generic "naive" method is available for all.
SAMPLERS: dict[str, dict[str, Callable]] = {}


def draw_categorical(key: jax.Array, position, logits: jax.Array, temperature) -> jax.Array:
    """Sample (B,) values from (B, K) logits with the noise of flat position ``position``."""
    return jax.random.categorical(jax.random.fold_in(key, position), logits / temperature, axis=-1)


def unobserved_range(observed: jax.Array) -> tuple[jax.Array, jax.Array]:
    """First and one-past-last flat position that some example still has to sample."""
    missing = ~observed.reshape(observed.shape[0], -1).all(axis=0)  # (D,)
    d = missing.shape[0]
    first = jnp.argmax(missing)
    last = d - jnp.argmax(missing[::-1])
    return jnp.where(missing.any(), first, d), jnp.where(missing.any(), last, d)


@functools.partial(jax.jit, static_argnums=0)
def naive_sampler(graphdef, state, key, x, observed, labels, temperature):
    """Re-run the network once per position; clamp observed positions to ``x``.

    Args:
      x: (B, *event) int32, read only where ``observed``.
      observed: (B, *event) bool.

    Returns:
      (B, *event) int32 samples.
    """
    model = nnx.merge(graphdef, state)
    batch, shape = x.shape[0], x.shape

    def step(i, flat):  # flat: (B, D)
        logits = model(flat.reshape(shape), labels)
        logits = logits.reshape(batch, flat.shape[1], -1)  # (B, D, K)
        new = draw_categorical(key, i, logits[:, i], temperature)  # (B,)
        keep = observed.reshape(batch, -1)[:, i]
        return flat.at[:, i].set(jnp.where(keep, flat[:, i], new))

    start, stop = unobserved_range(observed)
    flat = jnp.where(observed, x, 0).reshape(batch, -1)
    return jax.lax.fori_loop(start, stop, step, flat).reshape(shape)


def sampling_methods(model) -> list[str]:
    """Sampling methods available for ``model``, the default first."""
    return [*SAMPLERS.get(model.name, {}), "naive"]


def as_key(key):
    if isinstance(key, int | np.integer):
        return jax.random.key(int(key))
    return key


def _run(model, key, x, observed, labels, temperature, method):
    temperature = check_temperature(temperature)
    methods = sampling_methods(model)
    method = method or methods[0]
    if method not in methods:
        raise ValueError(
            f"sampling method {method!r} is not available for {model.name}; "
            f"available: {', '.join(methods)}"
        )
    sampler = naive_sampler if method == "naive" else SAMPLERS[model.name][method]
    graphdef, state = nnx.split(model)
    labels = None if labels is None else jnp.asarray(labels)
    key, x, observed, temperature = (
        as_key(key),
        jnp.asarray(x),
        jnp.asarray(observed),
        jnp.float32(temperature),
    )
    return sampler(graphdef, state, key, x, observed, labels, temperature)


def sample(
    model,
    key,
    num: int,
    *,
    temperature: float = 1.0,
    labels=None,
    length: int | None = None,
    method: str | None = None,
) -> jax.Array:
    """Draw ``num`` exact samples from the model by ancestral sampling.

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      num: number of samples.
      temperature: divides the logits; 1.0 samples the model's distribution exactly.
      labels: (num,) or scalar class labels for class-conditional models.
      length: number of time steps, for audio models only.
      method: ``"naive"`` (re-run the network per position) or a faster method registered for
        this model; default: the fastest available (see ``sampling_methods``).

    Returns:
      (num, H, W, C) int32 samples (audio: (num, T)).

    Example:
      >>> x = autoreg.sample(model, jax.random.key(0), 16)
    """
    if not isinstance(num, int | np.integer) or num < 1:
        raise ValueError(f"num must be a positive integer, got {num!r}")
    shape = (int(num), *model.event_shape(length))
    labels = check_labels(model, labels, int(num))
    x = np.zeros(shape, np.int32)
    return _run(model, key, x, np.zeros(shape, bool), labels, temperature, method)


def complete(
    model,
    key,
    x,
    observed,
    *,
    temperature: float = 1.0,
    labels=None,
    method: str | None = None,
    particles: int = 64,
) -> jax.Array:
    """Sample the unobserved positions of ``x`` given the observed ones.

    Observed positions come back bit-identical. With an exact method (the default, or
    ``"naive"``), positions are sampled in data order: an exact sample of the model's
    conditional when the observed positions form a prefix of the data order (e.g. the top rows
    of an image); otherwise observed positions after a hole are clamped but not looked ahead
    at. ``method="smc"`` also weighs those (sequential Monte Carlo with ``particles`` particles
    per input, see ``autoreg.smc``): approximate, consistent as particles grow, and the better
    choice for a box in the middle of an image.

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      x: (B, H, W, C) integers in 0..K-1 (audio: (B, T)); values at unobserved positions ignored.
      observed: bool mask, (H, W), (H, W, C) or (B, H, W, C) (audio: (T,) or (B, T)).
      temperature, labels: as for ``sample``.
      method: a sampling method of ``sample``, or ``"smc"``.
      particles: particles per input for ``method="smc"``.

    Returns:
      (B, H, W, C) int32 completions.
    """
    if method == "smc":
        from autoreg.smc import smc_complete

        return smc_complete(
            model, key, x, observed, particles=particles, labels=labels, temperature=temperature
        )
    x = check_data(model, x)
    observed = check_observed(observed, x.shape)
    labels = check_labels(model, labels, x.shape[0])
    return _run(model, key, x, observed, labels, temperature, method)
