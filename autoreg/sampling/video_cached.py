"""Cached sampling for the Video PixelCNN: the context once per frame, the cached raster loop
within it.

A frame's context (the convolutional LSTM's state after the frames before it, or a temporal
convolution over a ring of the last frames' encodings) does not depend on the frame itself,
so the sampler computes it once, when the frame starts, encoding only the finished frame before
(``VideoPixelCNN.next_state``, ``context_of``), and turns it into every decoder layer's
gate-bias maps (``gate_biases``). Within the frame it runs the Gated
PixelCNN's cached raster loop (``autoreg.sampling.gated_pixelcnn_cached``; ``frame_plan``): the
vertical stack once per row, with that row of the bias maps, the horizontal stack once per
sub-pixel. Frames
that are wholly observed (the clip a prediction starts from) draw nothing but still advance the
context; frames after the last position to sample are not visited.

Draws follow the ancestral rule at each flat position ``t * H * W * C + (raster, colour)``, so
the samples are ``naive_sampler``'s for the same key (a ``Sampler``); the registry's default
for ``video_pixelcnn``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.sampling import activation_cache
from autoreg.sampling.ancestral import reject_features, unobserved_range
from autoreg.sampling.gated_pixelcnn_cached import (
    cache_layout,
    empty_caches,
    horizontal_pixel,
    vertical_row,
)
from autoreg.sampling.raster_loop import RasterPlan, sample_raster
from autoreg.validation import check_count

__all__ = ["cached_video_sampler", "frame_plan", "next_context"]


def frame_plan(model, context: jax.Array, width: int) -> RasterPlan:
    """The raster loop's plan for one frame of a clip, given the frame's context.

    The caches are the Gated PixelCNN's, and two kept ones: every decoder layer's gate-bias
    maps of the whole frame (from ``context``), and the current row's horizontal biases that
    ``frame_row`` slices from them for ``frame_pixel``. Both are (B, ...) per clip, so a
    particle filter that resamples mid-frame moves them with the rest.

    Args:
      model: the merged ``VideoPixelCNN``.
      context: (B, H, W, context_channels), the frame's context.
      width: W.

    Returns:
      The ``RasterPlan``.
    """
    batch = context.shape[0]
    layers = model.step_layers()
    layout = cache_layout(layers)
    biases = tuple(model.gate_biases(context))  # per layer: (v, h) maps, each (B, H, W, 2F)
    row_biases = tuple(jnp.zeros_like(h[:, :1]) for _, h in biases)  # each (B, 1, W, 2F)
    caches = (
        empty_caches(layout, len(layers), batch, width, model.config.features),
        activation_cache.Kept(biases),
        activation_cache.Kept(row_biases),
    )
    return RasterPlan(
        image_pad=layout.image_pad,
        caches=caches,
        row_fn=functools.partial(frame_row, model, layout, width),
        pixel_fn=functools.partial(frame_pixel, model, layout),
    )


def frame_row(model, layout, width: int, i, image, caches):
    """``row_fn`` of a frame: the vertical stack over row ``i`` with that row's gate biases.

    Keeps the row's horizontal gate biases for ``frame_pixel``.
    """
    gated_caches, biases, _ = caches
    row = [
        tuple(jax.lax.dynamic_slice_in_dim(b, i, 1, axis=1) for b in pair) for pair in biases.value
    ]
    gated_caches = vertical_row(model.step_layers(), layout, row, width, i, image, gated_caches)
    return gated_caches, biases, activation_cache.Kept(tuple(h for _, h in row))


def frame_pixel(model, layout, j, image, caches):
    """``pixel_fn`` of a frame: the horizontal stack at column ``j`` of the current row."""
    gated_caches, biases, row_biases = caches
    pixel = [(None, jax.lax.dynamic_slice_in_dim(h, j, 1, axis=2)) for h in row_biases.value]
    logits, gated_caches = horizontal_pixel(model, layout, pixel, j, image, gated_caches)
    return logits, (gated_caches, biases, row_biases)  # (B, C, K)


def next_context(model, frame, state, needed):
    """``model.next_state(frame, state)`` where ``needed`` (a traced bool: a frame follows that
    the loop visits), else ``state`` unchanged: the last frame is never encoded."""
    return jax.lax.cond(needed, lambda s: model.next_state(frame, s), lambda s: s, state)


def sample_frame(model, key, frame, observed, temperature, context, first, unroll):
    """Ancestral sampling of one frame given its context (call inside jit).

    Args:
      model: the merged ``VideoPixelCNN``.
      key: PRNG key of the draws.
      frame: (B, H, W, C) int32, read where ``observed``.
      observed: (B, H, W, C) bool.
      temperature: scalar float32.
      context: (B, H, W, context_channels), the frame's context.
      first: the flat position of the frame's first sub-pixel.
      unroll: the raster loop's column unrolling.

    Returns:
      (B, H, W, C) int32, the frame with its unobserved sub-pixels drawn.
    """
    image_pad, caches, row_fn, pixel_fn = frame_plan(model, context, frame.shape[2])
    return sample_raster(
        key,
        frame,
        observed,
        temperature,
        levels=model.levels,
        image_pad=image_pad,
        caches=caches,
        row_fn=row_fn,
        pixel_fn=pixel_fn,
        unroll=unroll,
        first_position=first,
    )


@functools.partial(jax.jit, static_argnums=0, static_argnames="unroll")
def cached_video_sampler(
    graphdef, state, key, x, observed, labels, temperature, *, features=None, unroll=1
):
    """``naive_sampler``'s samples for a Video PixelCNN, the context once per frame.

    A ``Sampler`` for ``nnx.split`` of a ``VideoPixelCNN``; x and the samples are
    (B, T, H, W, C) clips. It takes one more static keyword, ``unroll`` (the raster loop's).
    """
    model = nnx.merge(graphdef, state)
    model.check_labels(labels)
    reject_features(model, features)
    unroll = check_count(unroll, "unroll")
    batch, _, height, width, colours = x.shape
    per_frame = height * width * colours
    start, stop = unobserved_range(observed)
    # Frames up to the last position to sample (none when everything is observed).
    num_frames = jnp.where(start < stop, (stop - 1) // per_frame + 1, 0)
    clip = jnp.where(observed, x, 0)

    def frame_step(t, carry):
        clip, context_state = carry
        frame = sample_frame(
            model,
            key,
            jax.lax.dynamic_index_in_dim(clip, t, axis=1, keepdims=False),
            jax.lax.dynamic_index_in_dim(observed, t, axis=1, keepdims=False),
            temperature,
            model.context_of(context_state),
            t * per_frame,
            unroll,
        )  # (B, H, W, C)
        clip = jax.lax.dynamic_update_index_in_dim(clip, frame, t, axis=1)
        return clip, next_context(model, frame, context_state, t + 1 < num_frames)

    clip, _ = jax.lax.fori_loop(0, num_frames, frame_step, (clip, model.initial_state(batch)))
    return clip
