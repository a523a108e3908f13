"""The shared K-way likelihood: exact sums of log-softmax, bits per dim, input validation."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import autoreg
from autoreg.likelihood import log_prob_per_position
from autoreg.models.functional import logits as model_logits


@pytest.fixture(scope="module")
def model():
    return autoreg.create_model("pixelcnn", preset="tiny", levels=16, image_shape=(4, 4, 3))


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).integers(0, 16, size=(3, 4, 4, 3))


def test_log_prob_is_sum_of_log_softmax_at_observed_values(model, x):
    logits = np.asarray(model_logits(model, x), np.float64)  # (B, H, W, C, K)
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = np.take_along_axis(log_softmax, x[..., None], axis=-1).sum(axis=(1, 2, 3, 4))
    np.testing.assert_allclose(autoreg.log_prob(model, x), expected, rtol=1e-5)


def test_bits_per_dim_is_mean_nll_over_dims_ln2(model, x):
    nll = -np.asarray(autoreg.log_prob(model, x), np.float64).mean()
    assert autoreg.bits_per_dim(model, x) == pytest.approx(nll / (4 * 4 * 3 * math.log(2)))


def test_uniform_logits_give_log2_k_bits_per_dim():
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=16, image_shape=(4, 4, 3))
    # Zero weights in the last layer: every logit equals its (zero) bias.
    last = model.logits_out
    last.kernel[...] = jnp.zeros_like(last.kernel[...])
    x = np.random.default_rng(1).integers(0, 16, size=(2, 4, 4, 3))
    assert autoreg.bits_per_dim(model, x) == pytest.approx(math.log2(16), rel=1e-6)


def test_log_prob_from_logits_on_hand_example():
    logits = jnp.log(jnp.array([[[0.25, 0.75], [0.5, 0.5]]]))  # (B=1, T=2, K=2)
    x = jnp.array([[1, 0]])
    assert autoreg.log_prob_from_logits(logits, x, 1)[0] == pytest.approx(math.log(0.375))


def test_log_prob_per_position_picks_each_observed_value():
    logits = jnp.log(jnp.array([[[0.25, 0.75], [0.5, 0.5]]])).astype(jnp.bfloat16)  # (1, 2, 2)
    x = np.array([[1, 0]], np.uint8)
    picked = log_prob_per_position(logits, x)
    assert picked.shape == (1, 2) and picked.dtype == jnp.float32
    np.testing.assert_allclose(picked, np.log([[0.75, 0.5]]), rtol=1e-2)
    assert picked.sum() == pytest.approx(float(autoreg.log_prob_from_logits(logits, x, 1)[0]))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 4, 4, 3), np.float32), "integers"),
        (np.zeros((2, 4, 4, 3), bool), "integers"),
        (np.zeros((4, 4, 3), np.int32), "rank 4"),
        (np.zeros((2, 4, 5, 3), np.int32), "shape"),
        (np.full((2, 4, 4, 3), 16), "outside 0..15"),
        (np.full((2, 4, 4, 3), -1), "outside 0..15"),
    ],
)
def test_bad_data_is_a_value_error(model, bad, message):
    with pytest.raises(ValueError, match=message):
        autoreg.log_prob(model, bad)
    with pytest.raises(ValueError, match=message):
        autoreg.bits_per_dim(model, bad)


def test_unconditional_model_rejects_labels(model, x):
    with pytest.raises(ValueError, match="unconditional"):
        autoreg.log_prob(model, x, labels=np.zeros(3, np.int32))


@pytest.mark.slow
def test_log_prob_is_differentiable_for_training(model, x):
    def nll(m):
        return -autoreg.log_prob_from_logits(m(jnp.asarray(x)), jnp.asarray(x), 3).mean()

    grads = nnx.grad(nll)(model)
    leaves = jax.tree.leaves(grads)
    assert leaves and all(np.isfinite(np.asarray(g)).all() for g in leaves)
