"""The pieces the cached samplers rest on, and a check that their comparison can fail.

That every fast sampler gives the naive sampler's samples bit for bit is tested for every
model in test_samplers.py; here: the per-position noise they share with the naive sampler
draws what ``draw_categorical`` draws, a fully observed completion returns its input, and
that comparison fails for a broken cached sampler.
"""

import dataclasses
import functools

import jax
import numpy as np
import pytest
import test_samplers

import autoreg
from autoreg.registry import xla
from autoreg.sampling import activation_cache
from autoreg.sampling.ancestral import draw_categorical, draw_with_noise, position_noise
from autoreg.sampling.raster_loop import RasterPlan, raster_sampler

LEVELS = 8


@functools.cache
def tiny(name, shape, num_classes):
    extra = dict(num_classes=num_classes) if num_classes else {}
    return autoreg.create_model(
        name, preset="tiny", levels=LEVELS, image_shape=shape, seed=3, **extra
    )


@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_position_noise_draws_equal_draw_categorical(temperature):
    key = jax.random.key(5)
    logits = np.array(jax.random.normal(jax.random.key(6), (12, 4, LEVELS)))
    logits[2] = 0.0  # all tied: the first index wins
    logits[3, :, [1, 5]] = np.inf
    logits[4, :, [2, 6]] = np.nan  # jnp.argmax picks the first NaN
    first = 30
    noise = jax.jit(position_noise, static_argnums=(2, 3))(key, first, len(logits), (4, LEVELS))
    draw, with_noise = jax.jit(draw_categorical), jax.jit(draw_with_noise)
    for t in range(len(logits)):
        expected = draw(key, first + t, logits[t], temperature)
        np.testing.assert_array_equal(with_noise(noise[t], logits[t], temperature), expected)


def test_cached_completion_of_fully_observed_images_returns_them():
    model = tiny("gated_pixelcnn", (5, 5, 1), 0)
    x = np.random.default_rng(2).integers(0, LEVELS, size=(4, 5, 5, 1))
    out = autoreg.complete(model, 0, x, np.ones((5, 5), bool), method="cached")
    np.testing.assert_array_equal(np.asarray(out), x)


def first_block_write_dropped(plan):
    """``plan`` (a PixelCNN's) with the first residual block's cache write of each pixel lost:
    later pixels read zeros where that block's activations should be."""

    def broken(model, shape, labels) -> RasterPlan:
        image_pad, caches, row_fn, pixel_fn = plan(model, shape, labels)

        def pixel(j, image, caches):
            logits, written = pixel_fn(j, image, caches)
            return logits, (caches[0], *written[1:])

        return RasterPlan(image_pad, caches, row_fn, pixel)

    return broken


def vertical_rows_stale(plan):
    """``plan`` (a Gated PixelCNN's) whose vertical stack never stores its rows: the layers
    after the first read the rows above as they were before the first row (zeros)."""

    def broken(model, shape, labels) -> RasterPlan:
        image_pad, caches, row_fn, pixel_fn = plan(model, shape, labels)

        def row(i, image, caches):
            _, h_caches, v_to_h = row_fn(i, image, caches)
            return caches[0], h_caches, v_to_h

        return RasterPlan(image_pad, caches, row, pixel_fn)

    return broken


def unchanged(plan):
    return plan


SAMPLE = test_samplers.test_sample_equals_naive
COMPLETE = test_samplers.test_completion_equals_naive_and_keeps_observed


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, breakage, advance_does_nothing, comparisons, caught",
    [
        ("pixelcnn", unchanged, False, (SAMPLE, COMPLETE), False),
        ("pixelcnn", first_block_write_dropped, False, (SAMPLE,), True),
        ("gated_pixelcnn", unchanged, True, (SAMPLE,), True),
        # Four samples from blank images do not tell this one apart; completions of data do.
        ("gated_pixelcnn", vertical_rows_stale, False, (COMPLETE,), True),
    ],
    ids=["pixelcnn-intact", "pixelcnn-write-dropped", "gated-no-advance", "gated-stale-rows"],
)
def test_the_comparison_with_naive_catches_a_broken_sampler(
    name, breakage, advance_does_nothing, comparisons, caught, monkeypatch
):
    """The registry-wide comparisons with the naive sampler (test_samplers.py) fail for a
    cached sampler that drops a cache write, never moves its caches down a row
    (``activation_cache.advance`` doing nothing) or reads stale rows of the vertical stack, and
    pass for the same plan intact.

    Each sampler is built from the registry's own plan with ``raster_sampler`` (a fresh jit,
    so a patched ``advance`` is traced) and put in the registry, where the comparison finds
    it, for the one-colour case of the fast tier.
    """
    spec = autoreg.MODELS[name]
    if advance_does_nothing:
        monkeypatch.setattr(activation_cache, "advance", lambda cache: cache)
    sampler = raster_sampler(breakage(spec.samplers["cached"].sampler.plan))
    monkeypatch.setitem(
        autoreg.MODELS, name, dataclasses.replace(spec, samplers={"cached": xla(sampler)})
    )
    case = (name, "cached", "5x5x1-taps", dict(image_shape=(5, 5, 1), conv_impl="taps"))
    for comparison in comparisons:
        if caught:
            with pytest.raises(AssertionError, match="Arrays are not equal"):
                comparison(case)
        else:
            comparison(case)
