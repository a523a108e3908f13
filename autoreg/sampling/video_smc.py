"""Sequential Monte Carlo for the Video PixelCNN on its cached sampler: frame by frame.

The video's particle filter is the image filter of ``autoreg.sampling.smc_raster`` run on each
frame's raster loop (``video_cached.frame_plan``), with what lies outside the frame carried by
the particles: the clip so far and the context state. A resampling within a frame moves them
with the frame's caches (the frame's gate-bias maps included), and each finished frame advances
its particle's context once, as the cached sampler does.

Frames before the first one with a hole are the same for every particle of an input: their
context is computed once per input, and their log-probability (part of the log-evidence) by one
forward pass of the B inputs. Every frame from the first with a hole to the last is visited, so
that the observed frames after a hole weigh the particles.

Positions, keys and the order of weighing, resampling and drawing are the reference's
(``smc.smc_sampler``), so the completions are its completions for the same arguments (a
``ParticleFilter``; the registry's default for ``video_pixelcnn``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.likelihood import log_prob_per_position
from autoreg.sampling import activation_cache
from autoreg.sampling.ancestral import reject_features, unobserved_range
from autoreg.sampling.raster_loop import RasterState, run_raster
from autoreg.sampling.smc import choose_particles
from autoreg.sampling.smc_raster import Particles, particle_draw, visited_positions
from autoreg.sampling.video_cached import frame_plan, next_context

__all__ = ["video_particle_filter"]


def prefix_log_prob(model, clip: jax.Array, temperature, until) -> jax.Array:
    """(B,) log-probability of every clip's flat positions before ``until`` (all observed).

    Args:
      model: the merged ``VideoPixelCNN``.
      clip: (B, T, H, W, C) int32, observed at every position before ``until``.
      temperature: scalar dividing the logits.
      until: int32 scalar, a flat position.
    """
    batch = clip.shape[0]
    lp = log_prob_per_position(model(clip) / temperature, clip).reshape(batch, -1)  # (B, D)
    return jnp.where(jnp.arange(lp.shape[1]) < until, lp, 0.0).sum(-1)


@functools.partial(jax.jit, static_argnums=(0, 7))
def video_particle_filter(
    graphdef, state, key, x, observed, labels, temperature, particles, ess_threshold, features=None
):
    """``smc_sampler``'s completions of (B, T, H, W, C) clips, frame by frame on the cached
    video sampler: a ``ParticleFilter`` for a ``VideoPixelCNN`` (labels, features: None).

    Examples:
      >>> from flax import nnx
      >>> from autoreg.sampling.video_smc import video_particle_filter
      >>> shape = dict(levels=4, image_shape=(3, 3, 1))
      >>> model = autoreg.create_model("video_pixelcnn", preset="tiny", **shape)
      >>> graphdef, state = nnx.split(model)
      >>> x = np.random.default_rng(0).integers(0, 4, (1, 3, 3, 3, 1)).astype(np.int32)
      >>> observed = np.ones(x.shape, bool)
      >>> observed[:, 1, 1:] = False  # the middle frame's lower rows: later frames observed
      >>> args = (graphdef, state, jax.random.key(0), x, observed, None, np.float32(1), 4, 0.5)
      >>> completed, log_evidence = video_particle_filter(*args)
      >>> completed.shape, bool((completed[observed] == x[observed]).all())
      ((1, 3, 3, 3, 1), True)
    """
    model = nnx.merge(graphdef, state)
    model.check_labels(labels)
    reject_features(model, features)
    batch, frames, height, width, colours = x.shape
    per_frame = height * width * colours
    dims, n = frames * per_frame, batch * particles
    clip = jnp.where(observed, x, 0)
    start, _ = unobserved_range(observed)
    first_frame = start // per_frame  # frames when every position is observed

    # The frames before the first hole: once per input.
    context = jax.lax.fori_loop(
        0, first_frame, lambda t, s: model.next_state(clip[:, t], s), model.initial_state(batch)
    )
    log_w = jnp.repeat(
        prefix_log_prob(model, clip, temperature, first_frame * per_frame)[:, None],
        particles,
        axis=1,
    )  # (B, P)

    def each_particle(a):  # (B, ...) -> (B * P, ...), input b's copies in rows b * P ...
        return jnp.repeat(a, particles, axis=0)

    observed_n = each_particle(observed.reshape(batch, frames, per_frame))  # (N, T, H*W*C)
    visited = visited_positions(observed)
    resample_key = jax.random.fold_in(key, dims)

    def frame_step(t, carry):
        clip_n, context_n, log_w = carry
        image_pad, caches, row_fn, pixel_fn = frame_plan(model, model.context_of(context_n), width)
        frame_observed = jax.lax.dynamic_index_in_dim(observed_n, t, axis=1, keepdims=False)
        frame = jax.lax.dynamic_index_in_dim(clip_n, t, axis=1, keepdims=False)
        start = RasterState(
            frame.reshape(n, per_frame),
            activation_cache.empty_cache(n, width, colours, image_pad),
            caches,
            Particles(log_w, (clip_n, context_n)),
        )
        end = run_raster(
            key,
            start,
            height,
            levels=model.levels,
            image_pad=image_pad,
            row_fn=row_fn,
            pixel_fn=pixel_fn,
            draw=particle_draw(resample_key, frame_observed, visited, temperature, ess_threshold),
            first_position=t * per_frame,
        )
        clip_n, context_n = end.extra.carried  # the ancestors' clips and contexts
        frame = end.flat.reshape(n, height, width, colours)
        clip_n = jax.lax.dynamic_update_index_in_dim(clip_n, frame, t, axis=1)
        return clip_n, next_context(model, frame, context_n, t + 1 < frames), end.extra.log_w

    carry = (each_particle(clip), jax.tree.map(each_particle, context), log_w)
    clip_n, _, log_w = jax.lax.fori_loop(first_frame, frames, frame_step, carry)
    samples, log_evidence = choose_particles(
        jax.random.fold_in(key, dims + 1), clip_n.reshape(n, dims), log_w
    )
    return samples.reshape(x.shape), log_evidence
