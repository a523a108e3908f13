"""Completion of holes that are not a suffix of the data order, by sequential Monte Carlo.

Ancestral completion (``autoreg.complete(..., method="exact")``) samples the unobserved
positions in data order from ``p(x_i | x_<i)``. That is exact when the observed positions form
a prefix of the data order (the hole is a suffix: the bottom rows, everything after a pixel), but
a box in the middle of an image or a mask also has observed positions AFTER the hole, and
ancestral completion never looks at them. ``autoreg.complete``'s default, ``method="auto"``,
therefore runs this module for such holes.

``smc_complete`` targets the true conditional ``p(hole | all observed) ∝ p(x)`` with a particle
filter: each input gets ``P`` particles, sampled in data order from the model's own conditionals
(the proposal) with observed positions clamped; each particle is weighted by the model probability
of the observed positions that follow the sampled ones, ``prod_j p(x_j | x_<j)`` over observed
``j``. Whenever the weights of an input have become uneven (effective sample size below
``ess_threshold * P``) its particles are resampled (systematic resampling), so particles that
contradict the observations are dropped early, row by row, instead of only at the end. Each
returned completion is one draw from the final weighted particle set.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.likelihood import log_prob_per_position
from autoreg.models.functional import call_model
from autoreg.sampling.ancestral import as_key, draw_categorical, unobserved_range
from autoreg.validation import (
    check_count,
    check_data,
    check_features,
    check_labels,
    check_observed,
    check_temperature,
)

__all__ = ["effective_sample_size", "smc_complete", "smc_sampler", "systematic_resample"]


def effective_sample_size(log_w: jax.Array) -> jax.Array:
    """The effective sample size ``(sum w)^2 / sum w^2`` of each input's particles.

    Args:
      log_w: (B, P) unnormalised log-weights of P particles per input.

    Returns:
      (B,) float32 in 1..P: P for even weights, 1 when one particle has all the weight.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.smc import effective_sample_size
      >>> weights = jnp.array([[1.0, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]])
      >>> effective_sample_size(jnp.log(weights))
      Array([4., 1., 2.], dtype=float32)
    """
    norm = log_w - jax.scipy.special.logsumexp(log_w, axis=-1, keepdims=True)
    return 1.0 / jnp.exp(2.0 * norm).sum(-1)


def systematic_resample(key: jax.Array, log_w: jax.Array) -> jax.Array:
    """Systematic resampling: the ancestors of each input's new particles.

    Particle ``p`` of input ``b`` gets ``floor(P * w_bp)`` or one more copies (low variance).

    Args:
      key: PRNG key of the one uniform offset per input.
      log_w: (B, P) unnormalised log-weights.

    Returns:
      (B, P) int32 ancestor indices in 0..P-1, sorted.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.smc import systematic_resample
      >>> weights = jnp.array([[1.0, 1, 1, 1], [1, 0, 0, 0], [0, 0, 1, 3]])
      >>> systematic_resample(jax.random.key(0), jnp.log(weights))
      Array([[0, 1, 2, 3],
             [0, 0, 0, 0],
             [2, 3, 3, 3]], dtype=int32)
    """
    batch, num = log_w.shape
    w = jax.nn.softmax(log_w, axis=-1)  # (B, P)
    cdf = jnp.cumsum(w, axis=-1)  # (B, P)
    u = (jax.random.uniform(key, (batch, 1)) + jnp.arange(num)) / num  # (B, P), sorted
    idx = jax.vmap(functools.partial(jnp.searchsorted, side="right"))(cdf, u)
    return jnp.minimum(idx, num - 1)


@functools.partial(jax.jit, static_argnums=(0, 7))
def smc_sampler(
    graphdef, state, key, x, observed, labels, temperature, particles, ess_threshold, features=None
):
    """One compiled particle filter over the data order; see the module docstring.

    Args:
      graphdef: ``nnx.split(model)[0]``, static.
      state: ``nnx.split(model)[1]``.
      key: PRNG key. Position ``i`` is drawn with ``draw_categorical(key, i, ...)`` as in the
        exact samplers, so ``particles=1`` reproduces ``naive_sampler`` bit for bit.
      x: (B, *event) int32, read only where ``observed``.
      observed: (B, *event) bool.
      labels: (B,) int32 or None.
      temperature: scalar; the target is the tempered model (logits / temperature).
      particles: P, static.
      ess_threshold: resample an input when its effective sample size falls below this times P.
      features: (B, frames, F) local features of a locally conditioned model, else None.

    Returns:
      (B, *event) int32 completions and (B,) float32 log-evidence estimates
      ``log mean_p w_p ≈ log p(observed)``.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.sampling.smc import smc_sampler
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> graphdef, state = nnx.split(model)
      >>> x = np.zeros((2, 4, 4, 1), np.int32)
      >>> observed = np.ones(x.shape, bool)
      >>> observed[:, 1:3, 1:3] = False  # a hole in the middle
      >>> temperature, particles, ess_threshold = np.float32(1), 4, np.float32(0.5)
      >>> out, log_evidence = smc_sampler(
      ...     graphdef, state, jax.random.key(0), x, observed, None, temperature, particles,
      ...     ess_threshold, None,
      ... )
      >>> out.shape, log_evidence.shape, bool((log_evidence < 0).all())
      ((2, 4, 4, 1), (2,), True)
    """
    model = nnx.merge(graphdef, state)
    batch, event = x.shape[0], x.shape[1:]
    dims = math.prod(event)
    n = batch * particles
    obs = jnp.repeat(observed.reshape(batch, 1, dims), particles, axis=1).reshape(n, dims)
    flat = jnp.where(observed, x, 0).astype(jnp.int32).reshape(batch, 1, dims)
    flat = jnp.repeat(flat, particles, axis=1).reshape(n, dims)  # (N, D), N = B * P
    labels = None if labels is None else jnp.repeat(labels, particles)  # (N,)
    if features is not None:
        features = jnp.repeat(features, particles, axis=0)  # (N, frames, F)
    positions = jnp.arange(dims)
    missing = ~observed.reshape(batch, dims).all(axis=0)  # (D,) some input samples here
    resample_key = jax.random.fold_in(key, dims)
    select_key = jax.random.fold_in(key, dims + 1)

    def tempered_logits(flat):  # (N, D) -> (N, D, K)
        logits = call_model(model, flat.reshape((n, *event)), labels, features)
        return logits.reshape(n, dims, -1) / temperature

    def weigh(flat, log_w, logits, since, until):
        # Observed positions in [since, until) have final contexts: add their log-probs.
        window = (positions >= since) & (positions < until)  # (D,)
        lp = jnp.where(obs & window, log_prob_per_position(logits, flat), 0.0)  # (N, D)
        return log_w + lp.sum(-1).reshape(batch, particles)

    def visit(i, carry):
        flat, log_w, counted = carry
        logits = tempered_logits(flat)  # (N, D, K)
        log_w = weigh(flat, log_w, logits, counted, i + 1)
        # Resample the inputs whose weights have become uneven, before extending the particles.
        need = effective_sample_size(log_w) < ess_threshold * particles  # (B,)
        idx = systematic_resample(jax.random.fold_in(resample_key, i), log_w)  # (B, P)
        idx = jnp.where(need[:, None], idx, jnp.arange(particles))
        ancestors = (jnp.arange(batch)[:, None] * particles + idx).reshape(n)  # (N,)
        mean_w = jax.scipy.special.logsumexp(log_w, -1, keepdims=True) - jnp.log(particles)
        log_w = jnp.where(need[:, None], mean_w, log_w)
        flat = flat[ancestors]
        new = draw_categorical(key, i, logits[ancestors, i], 1.0)  # (N,)
        flat = flat.at[:, i].set(jnp.where(obs[:, i], flat[:, i], new))
        return flat, log_w, i + 1

    def step(i, carry):  # positions every input observes need no network pass
        return jax.lax.cond(missing[i], visit, lambda i, carry: carry, i, carry)

    start, stop = unobserved_range(observed)
    log_w = jnp.zeros((batch, particles), jnp.float32)
    flat, log_w, counted = jax.lax.fori_loop(start, stop, step, (flat, log_w, jnp.int32(0)))
    log_w = weigh(flat, log_w, tempered_logits(flat), counted, dims)  # the observed tail
    choice = jax.random.categorical(select_key, log_w, axis=-1)  # (B,)
    samples = flat.reshape(batch, particles, dims)[jnp.arange(batch), choice]  # (B, D)
    log_evidence = jax.scipy.special.logsumexp(log_w, -1) - jnp.log(particles)  # (B,)
    return samples.reshape(x.shape), log_evidence


def smc_complete(
    model,
    key,
    x,
    observed,
    *,
    particles: int = 64,
    labels=None,
    temperature: float = 1.0,
    ess_threshold: float = 0.5,
    features=None,
) -> jax.Array:
    """Complete arbitrary holes (a box, a mask) with a sequential Monte Carlo sampler.

    Which mode is exact:

    - A hole that is a suffix of the data order (observed positions form a prefix) is completed
      EXACTLY by plain ancestral completion, ``autoreg.complete``. Here no observed position
      follows a sampled one, all particles keep equal weights, nothing is resampled, and this
      function is exact too, for any number of particles (it returns one of P exact draws).
    - Any other hole is APPROXIMATE: the target is ``p(hole | every observed position)``,
      proportional to the model's ``p(x)``; the returned completion is one draw from a weighted
      particle set (sampling-importance-resampling with resampling along the way). It is
      biased for finite ``particles`` and consistent as ``particles -> infinity``; plain
      completion, in contrast, ignores the observed positions after the hole at any cost.

    The network runs once per data position that some input leaves unobserved, on a batch of
    ``B * particles`` images, plus one final pass; memory grows with ``B * particles``.

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      x: (B, H, W, C) integers in 0..K-1 (audio: (B, T)); values at unobserved positions ignored.
        Repeat an input along B for several independent completions of it.
      observed: bool mask, (H, W), (H, W, C) or (B, H, W, C) (audio: (T,) or (B, T)).
      particles: P >= 1 particles per input; 1 reproduces ``complete(..., method="naive")``.
      labels: (B,) or scalar class labels for class-conditional models.
      temperature: divides the logits, for the proposal and the weights alike (the target is
        the tempered model); 1.0 targets the model itself.
      ess_threshold: in [0, 1]; an input's particles are resampled when their effective sample
        size falls below ``ess_threshold * particles``. 0 never resamples (plain importance
        sampling with one final weighting); 1 resamples whenever the weights are uneven.
      features: (B, T // hop_length, F) local features of a locally conditioned model.

    Returns:
      (B, H, W, C) int32 completions (audio: (B, T)); observed positions are bit-identical to x.

    Raises:
      ValueError: bad data, mask, labels, temperature, particles or ess_threshold.

    Examples:
      >>> from autoreg.sampling.smc import smc_complete
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> images = np.zeros((2, 4, 4, 1), np.int32)
      >>> observed = np.ones((4, 4), bool)
      >>> observed[1:3, 1:3] = False  # a hole in the middle: not a suffix of the raster order
      >>> out = smc_complete(model, jax.random.key(0), images, observed, particles=4)
      >>> out.shape, bool((np.asarray(out)[:, observed] == 0).all())  # observed pixels kept
      ((2, 4, 4, 1), True)
    """
    particles = check_count(particles, "particles")
    if not (isinstance(ess_threshold, int | float) and 0.0 <= ess_threshold <= 1.0):
        raise ValueError(f"ess_threshold must be a number in [0, 1], got {ess_threshold!r}")
    temperature = check_temperature(temperature)
    x = check_data(model, x)
    observed = check_observed(observed, x.shape)
    labels = check_labels(model, labels, x.shape[0])
    features = check_features(model, features, x.shape)
    key = as_key(key)
    graphdef, state = nnx.split(model)
    samples, _ = smc_sampler(
        graphdef,
        state,
        key,
        jnp.asarray(x),
        jnp.asarray(observed),
        None if labels is None else jnp.asarray(labels),
        jnp.float32(temperature),
        int(particles),
        jnp.float32(ess_threshold),
        None if features is None else jnp.asarray(features),
    )
    return samples
