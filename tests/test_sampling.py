"""The generic ancestral sampler: exact in distribution, clamps observed values, checks input."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from scipy import stats

import autoreg
from autoreg.models.pixelcnn import PixelCNN

LEVELS = 4
NUM_SAMPLES = 20_000


class IgnoresFirstPosition(PixelCNN):
    """A deliberately wrong model: it hides the first position from the network (the rest of
    the contract, its memory answers included, is the PixelCNN's)."""

    name = "broken"

    def __init__(self, model):
        self.inner = model
        self.config = model.config

    def __call__(self, x, labels=None):
        return self.inner(jnp.zeros_like(x), labels)


@pytest.fixture(scope="module")
def two_pixel_model():
    """A 1x2x1 PixelCNN, K=4, whose second pixel depends strongly on the first."""
    model = autoreg.create_model(
        "pixelcnn", preset="tiny", levels=LEVELS, image_shape=(1, 2, 1), seed=3
    )
    params = nnx.state(model, nnx.Param)
    nnx.update(model, jax.tree.map(lambda p: p * 3.0, params))
    return model


def exact_joint(model) -> np.ndarray:
    """(K, K) table of p(x1, x2) from log_prob over every outcome."""
    outcomes = np.array(list(itertools.product(range(LEVELS), repeat=2)))
    log_p = autoreg.log_prob(model, outcomes.reshape(-1, 1, 2, 1))
    return np.exp(np.asarray(log_p, np.float64)).reshape(LEVELS, LEVELS)


def goodness_of_fit(samples: np.ndarray, joint: np.ndarray) -> float:
    """Chi-square p-value of the samples' (x1, x2) counts against the exact joint."""
    flat = samples.reshape(len(samples), 2)
    counts = np.bincount(flat[:, 0] * LEVELS + flat[:, 1], minlength=LEVELS * LEVELS)
    expected = joint.reshape(-1) / joint.sum() * len(samples)
    return stats.chisquare(counts, expected).pvalue


def test_model_is_a_valid_distribution_with_real_dependence(two_pixel_model):
    joint = exact_joint(two_pixel_model)
    assert joint.sum() == pytest.approx(1.0, abs=1e-5)
    conditionals = joint / joint.sum(1, keepdims=True)  # p(x2 | x1)
    total_variation = 0.5 * np.abs(conditionals[:, None] - conditionals[None]).sum(-1).max()
    assert total_variation > 0.3  # otherwise a sampler ignoring x1 could pass the next test


def test_samples_follow_the_exact_joint(two_pixel_model):
    samples = np.asarray(autoreg.sample(two_pixel_model, jax.random.key(0), NUM_SAMPLES))
    assert samples.shape == (NUM_SAMPLES, 1, 2, 1)
    assert goodness_of_fit(samples, exact_joint(two_pixel_model)) > 1e-3


def test_a_sampler_that_ignores_the_first_position_fails(two_pixel_model):
    wrong = IgnoresFirstPosition(two_pixel_model)
    samples = np.asarray(autoreg.sample(wrong, jax.random.key(0), NUM_SAMPLES, method="naive"))
    assert goodness_of_fit(samples, exact_joint(two_pixel_model)) < 1e-6


def test_temperature_sharpens_the_distribution(two_pixel_model):
    hot = np.asarray(autoreg.sample(two_pixel_model, 0, 4000, temperature=2.0))
    cold = np.asarray(autoreg.sample(two_pixel_model, 0, 4000, temperature=0.25))

    def entropy(s):
        p = np.bincount(s.reshape(-1, 2) @ np.array([LEVELS, 1]), minlength=16) / len(s)
        return -(p[p > 0] * np.log(p[p > 0])).sum()

    assert entropy(cold) < entropy(hot)


@pytest.fixture(scope="module")
def rgb_model():
    return autoreg.create_model("pixelcnn", preset="tiny", levels=8, image_shape=(3, 3, 3))


@pytest.mark.parametrize("mask_shape", [(3, 3), (3, 3, 3), (2, 3, 3, 3)])
def test_complete_keeps_observed_values_bit_identical(rgb_model, mask_shape):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 8, size=(2, 3, 3, 3))
    observed = rng.random(mask_shape) < 0.5
    out = np.asarray(autoreg.complete(rgb_model, jax.random.key(1), x, observed))
    mask = np.broadcast_to(observed[..., None] if len(mask_shape) == 2 else observed, x.shape)
    np.testing.assert_array_equal(out[mask], x[mask])
    assert out.min() >= 0 and out.max() < 8


def test_complete_with_everything_observed_returns_x(rgb_model):
    x = np.random.default_rng(1).integers(0, 8, size=(2, 3, 3, 3))
    out = autoreg.complete(rgb_model, jax.random.key(0), x, np.ones((3, 3), bool))
    np.testing.assert_array_equal(np.asarray(out), x)


def test_complete_of_nothing_observed_equals_sample(rgb_model):
    key = jax.random.key(5)
    sampled = autoreg.sample(rgb_model, key, 2)
    completed = autoreg.complete(
        rgb_model, key, np.zeros((2, 3, 3, 3), np.int32), np.zeros((3, 3), bool)
    )
    np.testing.assert_array_equal(np.asarray(sampled), np.asarray(completed))


def test_samples_follow_the_noise_rule_of_flat_positions(rgb_model):
    # The contract every sampler shares: position i is draw_categorical(key, i, logits_i), in
    # data order. Replayed here by hand, one network pass per position.
    from autoreg.models.functional import logits as model_logits
    from autoreg.sampling.ancestral import draw_categorical

    key = jax.random.key(7)
    flat = np.zeros((4, 27), np.int32)
    for i in range(27):
        logits = np.asarray(model_logits(rgb_model, flat.reshape(4, 3, 3, 3))).reshape(4, 27, -1)
        flat[:, i] = np.asarray(draw_categorical(key, i, logits[:, i], 1.0))
    sampled = np.asarray(autoreg.sample(rgb_model, key, 4))
    np.testing.assert_array_equal(sampled, flat.reshape(4, 3, 3, 3))
    other = np.asarray(autoreg.sample(rgb_model, jax.random.key(8), 4))
    assert not np.array_equal(sampled, other)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num=0), "num"),
        (dict(num=2, temperature=0.0), "temperature"),
        (dict(num=2, method="magic"), "method"),
        (dict(num=2, length=10), "length"),
        (dict(num=2, labels=[1, 2]), "unconditional"),
    ],
)
def test_sample_rejects_bad_arguments(rgb_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        autoreg.sample(rgb_model, jax.random.key(0), **kwargs)


def test_complete_rejects_bad_masks(rgb_model):
    x = np.zeros((2, 3, 3, 3), np.int32)
    with pytest.raises(ValueError, match="boolean"):
        autoreg.complete(rgb_model, 0, x, np.ones((3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        autoreg.complete(rgb_model, 0, x, np.ones((4, 4), bool))
