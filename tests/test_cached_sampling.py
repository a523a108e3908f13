"""The pieces the cached samplers rest on, and a check that their comparison can fail.

That every fast sampler gives the naive sampler's samples bit for bit is tested for every
model in test_samplers.py; here: the per-position noise they share with the naive sampler
draws what ``draw_categorical`` draws, a fully observed completion returns its input, and a
cached sampler of a damaged model would be told apart from the naive one.
"""

import functools

import jax
import numpy as np
import pytest
from flax import nnx

import autoreg
from autoreg.sampling.ancestral import (
    draw_categorical,
    draw_with_noise,
    naive_sampler,
    position_noise,
)

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


def test_the_comparison_can_fail():
    # A cached sampler that lost the vertical stack's contribution (e.g. stale row caches)
    # would sample like a model without the vertical-to-horizontal connection: not like naive.
    model = tiny("gated_pixelcnn", (5, 5, 1), 0)
    graphdef, state = nnx.split(model)
    broken = nnx.clone(model)
    for layer in broken.layers:
        layer.vertical_to_horizontal.kernel[...] = 0.0 * layer.vertical_to_horizontal.kernel[...]
    x = np.zeros((4, 5, 5, 1), np.int32)
    observed = np.zeros(x.shape, bool)
    key, temperature = jax.random.key(7), np.float32(1.0)
    cached = autoreg.MODELS["gated_pixelcnn"].samplers["cached"](
        graphdef, state, key, x, observed, None, temperature
    )
    right = naive_sampler(graphdef, state, key, x, observed, None, temperature)
    wrong = naive_sampler(*nnx.split(broken), key, x, observed, None, temperature)
    np.testing.assert_array_equal(np.asarray(cached), np.asarray(right))
    assert not np.array_equal(np.asarray(cached), np.asarray(wrong))
