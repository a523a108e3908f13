"""Completion of holes that are not a suffix of the data order, by sequential Monte Carlo: the
rules every particle filter follows, and the reference filter that re-runs the network.

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

Every particle filter follows the rules of this module, so that all of them return the same
completions for the same key (as every sampler returns ``naive_sampler``'s samples):

- position ``i`` is drawn with ``draw_categorical(key, i, logits / temperature, 1.0)``, the noise
  of the ancestral samplers (so one particle is plain ancestral completion);
- at every position that some input leaves unobserved, after the weights of the observed
  positions so far have been added, ``resample`` decides with ``fold_in(key, D)`` folded with
  ``i`` which inputs resample and picks their ancestors (``systematic_resample``);
- at the end ``choose_particles`` picks each input's completion with ``fold_in(key, D + 1)``.

``smc_sampler`` here is the reference ("naive") filter: it runs the whole network on all
``B * P`` particles at each position. The registry lists each model's particle filters
(``ModelSpec.particle_filters``, the fastest first): the image and video families run theirs
on their cached samplers (``autoreg.sampling.smc_raster``), at about the cost of sampling
``B * P`` images. ``autoreg.complete`` and ``autoreg.generate.smc_complete`` pick one.
"""

from __future__ import annotations

import functools
import math
from typing import Protocol

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.likelihood import log_prob_per_position
from autoreg.models.functional import call_model
from autoreg.sampling import progress
from autoreg.sampling.ancestral import draw_categorical, unobserved_range

__all__ = [
    "ParticleFilter",
    "choose_particles",
    "effective_sample_size",
    "resample",
    "smc_sampler",
    "systematic_resample",
]


class ParticleFilter(Protocol):
    """The signature of every particle filter in ``ModelSpec.particle_filters`` (jit-compiled).

    Each returns ``smc_sampler``'s completions for the same arguments (the reference filter;
    the registry-wide tests check this).
    """

    def __call__(
        self,
        graphdef,
        state,
        key,
        x,
        observed,
        labels,
        temperature,
        particles: int,
        ess_threshold,
        features=None,
    ) -> tuple[jax.Array, jax.Array]:
        """Complete the unobserved positions of ``x`` by sequential Monte Carlo.

        Args:
          graphdef: ``nnx.split(model)[0]``, static.
          state: ``nnx.split(model)[1]``.
          key: PRNG key. Position ``i`` is drawn with ``draw_categorical(key, i, ...)`` as in
            the exact samplers, so ``particles=1`` reproduces ``naive_sampler`` bit for bit.
          x: (B, *event) int32, read only where ``observed``.
          observed: (B, *event) bool.
          labels: (B,) int32 or None.
          temperature: scalar; the target is the tempered model (logits / temperature).
          particles: P, static.
          ess_threshold: resample an input when its effective sample size falls below this
            times P.
          features: (B, frames, F) local features of a locally conditioned model, else None.

        Returns:
          (B, *event) int32 completions and (B,) float32 log-evidence estimates
          ``log mean_p w_p ≈ log p(observed)``.
        """


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


def resample(key: jax.Array, position, log_w: jax.Array, ess_threshold) -> tuple:
    """The resampling step at ``position``: which particles continue, and their weights.

    Inputs whose effective sample size is below ``ess_threshold * P`` are resampled
    (``systematic_resample`` with ``fold_in(key, position)``) and their weights reset to their
    mean; the others keep their particles and weights.

    Args:
      key: the filter's resampling key (``fold_in(sampling key, D)``).
      position: the flat position being visited (an int or int32 scalar).
      log_w: (B, P) unnormalised log-weights.
      ess_threshold: scalar in [0, 1].

    Returns:
      ``(ancestors, log_w, need)``: (B * P,) int32 indices into the flattened particles
      (particle ``p`` of input ``b`` is row ``b * P + p``), the new (B, P) log-weights and the
      (B,) bool inputs that resampled.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.smc import resample
      >>> log_w = jnp.log(jnp.array([[1.0, 1, 1, 1], [1, 1e-9, 1e-9, 1e-9]]))
      >>> ancestors, new, need = resample(jax.random.key(0), 3, log_w, 0.5)
      >>> ancestors.tolist(), need.tolist()  # input 1 resampled: all copies of its particle 0
      ([0, 1, 2, 3, 4, 4, 4, 4], [False, True])
    """
    batch, particles = log_w.shape
    need = effective_sample_size(log_w) < ess_threshold * particles  # (B,)
    idx = systematic_resample(jax.random.fold_in(key, position), log_w)  # (B, P)
    idx = jnp.where(need[:, None], idx, jnp.arange(particles))
    ancestors = (jnp.arange(batch)[:, None] * particles + idx).reshape(batch * particles)
    mean_w = jax.scipy.special.logsumexp(log_w, -1, keepdims=True) - jnp.log(particles)
    return ancestors, jnp.where(need[:, None], mean_w, log_w), need


def choose_particles(key: jax.Array, flat: jax.Array, log_w: jax.Array) -> tuple:
    """Each input's completion: one draw from its final weighted particles.

    Args:
      key: the filter's selection key (``fold_in(sampling key, D + 1)``).
      flat: (B * P, D) the particles, input ``b``'s in rows ``b * P .. b * P + P - 1``.
      log_w: (B, P) their final log-weights.

    Returns:
      (B, D) the chosen particles and (B,) float32 log-evidence estimates
      ``log mean_p w_p``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.smc import choose_particles
      >>> flat = jnp.arange(4)[:, None]  # (B * P, D) = (4, 1): B = 2 inputs, P = 2
      >>> log_w = jnp.log(jnp.array([[1.0, 1e-9], [1e-9, 1.0]]))
      >>> chosen, log_evidence = choose_particles(jax.random.key(0), flat, log_w)
      >>> chosen.tolist()
      [[0], [3]]
    """
    batch, particles = log_w.shape
    choice = jax.random.categorical(key, log_w, axis=-1)  # (B,)
    samples = flat.reshape(batch, particles, -1)[jnp.arange(batch), choice]  # (B, D)
    log_evidence = jax.scipy.special.logsumexp(log_w, -1) - jnp.log(particles)  # (B,)
    return samples, log_evidence


@functools.partial(jax.jit, static_argnums=(0, 7))
def smc_sampler(
    graphdef, state, key, x, observed, labels, temperature, particles, ess_threshold, features=None
):
    """The reference particle filter: the whole network on every particle at each position.

    A ``ParticleFilter`` (its arguments and results are described there) that works for every
    model: the registry's ``"naive"`` entry, as ``naive_sampler`` is for sampling. Each
    position that some input leaves unobserved costs a forward pass of ``B * P`` inputs.

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
        ancestors, log_w, _ = resample(resample_key, i, log_w, ess_threshold)
        flat = flat[ancestors]
        new = draw_categorical(key, i, logits[ancestors, i], 1.0)  # (N,)
        flat = flat.at[:, i].set(jnp.where(obs[:, i], flat[:, i], new))
        progress.report(i + 1)
        return flat, log_w, i + 1

    def step(i, carry):  # positions every input observes need no network pass
        return jax.lax.cond(missing[i], visit, lambda i, carry: carry, i, carry)

    start, stop = unobserved_range(observed)
    log_w = jnp.zeros((batch, particles), jnp.float32)
    flat, log_w, counted = jax.lax.fori_loop(start, stop, step, (flat, log_w, jnp.int32(0)))
    log_w = weigh(flat, log_w, tempered_logits(flat), counted, dims)  # the observed tail
    samples, log_evidence = choose_particles(jax.random.fold_in(key, dims + 1), flat, log_w)
    return samples.reshape(x.shape), log_evidence
