"""Sequential Monte Carlo on the cached samplers: completing a hole at the cost of sampling.

The reference particle filter (``autoreg.sampling.smc.smc_sampler``) runs the whole network on
all B * P particles at every position of a hole. But its proposal is ancestral sampling with
the observed positions clamped, which is what the cached samplers do, and its weights are the
log-probabilities of the observed positions, which they compute on the way: at each sub-pixel
a plan's ``pixel_fn`` gives that position's logits. So this filter runs the cached samplers'
raster loop (``raster_loop.run_raster``) on the B * P particles with a draw rule of its own,
``particle_draw``, at each sub-pixel:

1. each particle's weight gains the log-probability of the position's value where it is
   observed;
2. at a position that some input leaves unobserved, the inputs whose weights have become
   uneven resample (``smc.resample``), and every particle takes its ancestor's image, caches
   and whatever else the filter carries (``gather_particles``);
3. the value is drawn with the position's noise where it is not observed.

These are the reference's steps, in its order, with its keys, so the completions are the
reference's for the same arguments. The logits and weights are the cached samplers' (a forward
pass's up to float rounding in the order of sums), so a completion could differ only where a
draw, a resampling decision or the final choice is a tie within rounding; the registry-wide
tests find them equal for every family.

The loop visits every row of the image (the rows after the hole weigh the observed positions
there), so a completion costs about as much as sampling B * P images with the cached sampler,
plus a gather of the caches whenever some input resamples.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.likelihood import log_prob_per_position
from autoreg.sampling import activation_cache
from autoreg.sampling.ancestral import draw_with_noise, reject_features
from autoreg.sampling.raster_loop import Draw, RasterState, run_raster
from autoreg.sampling.smc import (
    ParticleFilter,
    choose_particles,
    effective_sample_size,
    resample,
)

__all__ = [
    "Particles",
    "filter_images",
    "gather_particles",
    "particle_draw",
    "raster_particle_filter",
    "visited_positions",
]


class Particles(NamedTuple):
    """The filter's own part of the raster loop's state (``RasterState.extra``).

    Attributes:
      log_w: (B, P) float32 log-weights of each input's particles.
      carried: per-particle state outside the image that resampling must move too, leaves
        (B * P, ...) (the video filter's clip and context; ``()`` for an image).

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.smc_raster import Particles
      >>> Particles(jnp.zeros((2, 4)), ()).log_w.shape
      (2, 4)
    """

    log_w: jax.Array  # (B, P)
    carried: Any


def gather_particles(tree, ancestors: jax.Array):
    """Every particle takes its ancestor's state.

    Args:
      tree: any pytree whose leaves are (B * P, ...) with the particles first, or scalars
        shared by every particle (a cached sampler's row index), which are kept.
      ancestors: (B * P,) int32 row of each particle's ancestor.

    Returns:
      The tree with every per-particle leaf gathered along axis 0.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.sampling.smc_raster import gather_particles
      >>> tree = {"image": jnp.array([[1, 1], [2, 2], [3, 3]]), "row": jnp.int32(5)}
      >>> out = gather_particles(tree, jnp.array([2, 2, 0]))
      >>> out["image"].tolist(), int(out["row"])
      ([[3, 3], [3, 3], [1, 1]], 5)
    """
    return jax.tree.map(lambda leaf: leaf if jnp.ndim(leaf) == 0 else leaf[ancestors], tree)


def visited_positions(observed: jax.Array) -> jax.Array:
    """(D,) bool: the flat positions that some input leaves unobserved (the filter draws and
    may resample there).

    Args:
      observed: (B, *event) bool.

    Examples:
      >>> from autoreg.sampling.smc_raster import visited_positions
      >>> observed = np.array([[True, False, True], [True, True, False]])
      >>> visited_positions(observed).tolist()
      [False, True, True]
    """
    return ~observed.reshape(observed.shape[0], -1).all(axis=0)


def particle_draw(
    resample_key: jax.Array,
    observed_flat: jax.Array,
    visited: jax.Array,
    temperature,
    ess_threshold,
) -> Draw:
    """The particle filter's ``Draw`` rule for ``raster_loop.run_raster``.

    Weighs the position where it is observed, resamples where it is visited and some input's
    effective sample size is below ``ess_threshold * P``, then draws where it is not observed.
    The loop's ``RasterState.extra`` is a ``Particles``.

    Args:
      resample_key: ``fold_in(sampling key, D)``, D the flat positions of the whole event.
      observed_flat: (B * P, D_image) bool, the particles' observed positions of this image
        (the loop's ``p`` indexes it).
      visited: (D,) bool, ``visited_positions`` of the whole event (indexed by the flat
        position in the data order).
      temperature: scalar dividing the logits (the target is the tempered model).
      ess_threshold: scalar in [0, 1].

    Returns:
      The ``Draw``.
    """

    def draw(position, p, noise, logits, state: RasterState) -> RasterState:
        log_w, carried = state.extra
        batch, particles = log_w.shape
        tempered = logits / temperature  # (N, K)
        lp = log_prob_per_position(tempered, state.flat[:, p])  # (N,)
        log_w = log_w + jnp.where(observed_flat[:, p], lp, 0.0).reshape(batch, particles)
        uneven = (effective_sample_size(log_w) < ess_threshold * particles).any()

        def resampled(args):
            log_w, movable = args
            ancestors, log_w, _ = resample(resample_key, position, log_w, ess_threshold)
            return log_w, gather_particles(movable, ancestors)

        # Only when some input resamples: a gather moves every cache of every particle.
        movable = (state.flat, state.image, state.caches, carried, tempered)
        log_w, movable = jax.lax.cond(
            visited[position] & uneven, resampled, lambda args: args, (log_w, movable)
        )
        flat, image, caches, carried, tempered = movable
        new = draw_with_noise(noise, tempered, 1.0)  # (N,): the reference's tempered draw
        flat = flat.at[:, p].set(jnp.where(observed_flat[:, p], flat[:, p], new))
        return RasterState(flat, image, caches, Particles(log_w, carried))

    return draw


def raster_particle_filter(plan) -> ParticleFilter:
    """The jit-compiled particle filter that runs on the raster loop of ``plan``.

    Args:
      plan: a cached sampler's plan, ``plan(model, shape, labels) -> RasterPlan`` (the
        ``plan`` attribute of a ``raster_sampler``); it is built for the B * P particles.

    Returns:
      An ``autoreg.sampling.smc.ParticleFilter`` for (B, H, W, C) images: ``smc_sampler``'s
      completions and log-evidence estimates, at about the cost of sampling B * P images.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.sampling.pixelcnn_cached import cached_pixelcnn_sampler
      >>> from autoreg.sampling.smc import smc_sampler
      >>> from autoreg.sampling.smc_raster import raster_particle_filter
      >>> particle_filter = raster_particle_filter(cached_pixelcnn_sampler.plan)
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> graphdef, state = nnx.split(model)
      >>> x = np.zeros((2, 4, 4, 1), np.int32)
      >>> observed = np.ones(x.shape, bool)
      >>> observed[:, 1:3, 1:3] = False  # a hole in the middle
      >>> args = (graphdef, state, jax.random.key(0), x, observed, None, np.float32(1), 4, 0.5)
      >>> fast, _ = particle_filter(*args)
      >>> reference, _ = smc_sampler(*args)
      >>> bool((fast == reference).all())
      True
    """

    def particle_filter(
        graphdef, state, key, x, observed, labels, temperature, particles, ess_threshold,
        features=None,
    ):  # fmt: skip
        model = nnx.merge(graphdef, state)
        model.check_labels(labels)
        reject_features(model, features)
        return filter_images(
            plan, model, key, x, observed, labels, temperature, particles, ess_threshold
        )

    stem = plan.__name__.replace("sampler", "particle_filter")
    particle_filter.__name__ = particle_filter.__qualname__ = (
        stem if stem != plan.__name__ else f"{plan.__name__}_particle_filter"
    )
    particle_filter.__doc__ = (
        f"``smc_sampler``'s completions on the cached raster loop of ``{plan.__name__}`` "
        "(a ``ParticleFilter``; see ``autoreg.sampling.smc_raster``)."
    )
    return jax.jit(particle_filter, static_argnums=(0, 7))


def filter_images(plan, model, key, x, observed, labels, temperature, particles, ess_threshold):
    """The particle filter on ``plan``'s raster loop over (B, H, W, C) images; call in jit.

    Returns:
      (B, H, W, C) int32 completions and (B,) float32 log-evidence estimates.
    """
    batch, height, width, colours = x.shape
    dims, n = height * width * colours, batch * particles

    def each_particle(a):  # (B, ...) -> (B * P, ...), input b's copies in rows b * P ...
        return jnp.repeat(a, particles, axis=0)

    labels_n = None if labels is None else each_particle(labels)
    image_pad, caches, row_fn, pixel_fn = plan(model, (n, height, width, colours), labels_n)
    start = RasterState(
        each_particle(jnp.where(observed, x, 0).reshape(batch, dims)),  # (N, D)
        activation_cache.empty_cache(n, width, colours, image_pad),
        caches,
        Particles(jnp.zeros((batch, particles), jnp.float32), ()),
    )
    draw = particle_draw(
        jax.random.fold_in(key, dims),
        each_particle(observed.reshape(batch, dims)),
        visited_positions(observed),
        temperature,
        ess_threshold,
    )
    end = run_raster(
        key,
        start,
        height,
        levels=model.levels,
        image_pad=image_pad,
        row_fn=row_fn,
        pixel_fn=pixel_fn,
        draw=draw,
    )
    samples, log_evidence = choose_particles(
        jax.random.fold_in(key, dims + 1), end.flat, end.extra.log_w
    )
    return samples.reshape(x.shape), log_evidence
