"""SMC completion: observed pixels kept, exact on suffix holes, better on middle holes.

The distribution tests run both particle filters of the PixelCNN: the one on its cached sampler
(the default) and the reference that re-runs the network at every position. That every filter
returns the reference's completions for the same key is tested for every model in
test_samplers.py.
"""

import functools
import itertools

import jax
import numpy as np
import optax
import pytest
from flax import nnx
from scipy import stats

import autoreg
from autoreg.generate import smc_complete
from autoreg.likelihood import log_prob_from_logits
from autoreg.modalities import AUDIO
from autoreg.sampling.smc import effective_sample_size, systematic_resample

FILTERS = ["cached", "naive"]  # the PixelCNN's particle filters: on its cached sampler, reference


def train(model, make_batch, steps: int, lr: float = 2e-2):
    """A few Adam steps of maximum likelihood on batches from ``make_batch(rng)``."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    opt = optax.adam(lr)
    opt_state = opt.init(params)

    @jax.jit
    def step(params, opt_state, batch):
        def nll(params):
            logits = nnx.merge(graphdef, params, rest)(batch)
            return -log_prob_from_logits(logits, batch, 3).mean()

        grads = jax.grad(nll)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    rng = np.random.default_rng(0)
    for _ in range(steps):
        params, opt_state = step(params, opt_state, make_batch(rng))
    nnx.update(model, params)
    return model


def noisy_copy_batch(rng, n: int = 128) -> np.ndarray:
    """1x3 images, K=3: x0 uniform, x1 ~ (.6, .3, .1), x2 = x1 with probability .8."""
    x0 = rng.integers(0, 3, n)
    x1 = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    x2 = np.where(rng.random(n) < 0.8, x1, (x1 + rng.integers(1, 3, n)) % 3)
    return np.stack([x0, x1, x2], axis=1).reshape(n, 1, 3, 1).astype(np.int32)


def stripes_under_noise(rng, n: int = 64) -> np.ndarray:
    """6x6 images, K=4: two rows of noise, then vertical stripes of random values."""
    x = np.repeat(rng.integers(0, 4, (n, 1, 6)), 6, axis=1)
    x[:, :2] = rng.integers(0, 4, (n, 2, 6))
    return x[..., None].astype(np.int32)


@functools.cache
def copy_model():
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=3, image_shape=(1, 3, 1))
    return train(model, noisy_copy_batch, steps=200)


@functools.cache
def stripes_model():
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(6, 6, 1))
    return train(model, stripes_under_noise, steps=200)


def exact_conditional(model, x, observed) -> dict:
    """{completion as tuple: probability} by enumerating every image consistent with x."""
    d = x.size
    images = np.array(list(itertools.product(range(model.levels), repeat=d))).reshape(-1, d)
    images = images[(images[:, observed.reshape(-1)] == x.reshape(-1)[observed.reshape(-1)]).all(1)]
    log_p = np.asarray(autoreg.log_prob(model, images.reshape(-1, *x.shape)), np.float64)
    p = np.exp(log_p - log_p.max())
    return {tuple(im): q for im, q in zip(images, p / p.sum(), strict=True)}


def goodness_of_fit(samples, exact: dict) -> float:
    """Chi-square p-value of the samples against the exact distribution."""
    flat = [tuple(s) for s in np.asarray(samples).reshape(len(samples), -1)]
    assert set(flat) <= set(exact)
    outcomes = list(exact)
    observed = np.array([flat.count(o) for o in outcomes])
    expected = np.array([exact[o] for o in outcomes]) * len(flat)
    return stats.chisquare(observed, expected).pvalue


@functools.cache
def rgb_case():
    """A tiny RGB model and three 4x4 images with per-input random masks."""
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=8, image_shape=(4, 4, 3))
    x = np.random.default_rng(0).integers(0, 8, (3, 4, 4, 3))
    observed = np.random.default_rng(1).random((3, 4, 4, 3)) < 0.6
    return model, x, observed


def test_observed_pixels_are_bit_identical():
    model, x, observed = rgb_case()
    out = np.asarray(smc_complete(model, jax.random.key(0), x, observed, particles=4))
    assert out.dtype == np.int32 and out.shape == x.shape
    np.testing.assert_array_equal(out[observed], x[observed])
    assert out.min() >= 0 and out.max() < 8
    assert (out[~observed] != x[~observed]).any()  # the holes really are sampled
    other = np.asarray(smc_complete(model, jax.random.key(1), x, observed, particles=4))
    assert (other[~observed] != out[~observed]).any()  # the key drives the draws


# The families whose only particle filter is the reference (the others: test_particle_filters.py,
# which also checks the observed positions; pixelcnn's reference: above).
REFERENCE_ONLY = sorted(
    n for n, s in autoreg.MODELS.items() if list(s.particle_filters) == ["naive"]
)


@pytest.mark.parametrize("name", REFERENCE_ONLY)
def test_every_registry_model_keeps_observed_positions(name):
    model = autoreg.create_model(name, preset="tiny", levels=4, seed=1)
    if model.modality is not AUDIO:
        model = autoreg.create_model(name, preset="tiny", levels=4, image_shape=(3, 3, 1), seed=1)
    shape = (2, *model.event_shape(None if model.modality is not AUDIO else 9))
    x = np.random.default_rng(0).integers(0, 4, shape)
    observed = np.random.default_rng(1).random(shape) < 0.5
    labels = np.arange(2) % model.num_classes if model.num_classes else None
    out = np.asarray(smc_complete(model, 0, x, observed, particles=2, labels=labels))
    assert out.shape == x.shape
    np.testing.assert_array_equal(out[observed], x[observed])


def test_one_particle_is_plain_completion():
    model, x, _ = rgb_case()
    box = np.ones((4, 4), bool)
    box[1:3, 1:3] = False
    one = smc_complete(model, jax.random.key(3), x, box, particles=1)
    plain = autoreg.complete(model, jax.random.key(3), x, box, method="naive")
    np.testing.assert_array_equal(one, plain)


@pytest.mark.slow
def test_suffix_hole_matches_exact_conditional_like_plain_completion(method="cached"):
    model = copy_model()
    x = np.tile(np.array([1, 0, 0]).reshape(1, 1, 3, 1), (2000, 1, 1, 1))
    observed = np.array([[True, False, False]])  # a suffix hole: the exact case
    exact = exact_conditional(model, x[0], observed[..., None])
    smc = smc_complete(model, jax.random.key(0), x, observed, particles=64, method=method)
    plain = autoreg.complete(model, jax.random.key(1), x, observed, method="exact")
    assert goodness_of_fit(smc, exact) > 1e-3
    assert goodness_of_fit(plain, exact) > 1e-3
    # Two-sample check of SMC against plain completion.
    codes_smc = np.asarray(smc).reshape(len(x), -1) @ np.array([9, 3, 1])
    codes_plain = np.asarray(plain).reshape(len(x), -1) @ np.array([9, 3, 1])
    table = np.array([np.bincount(c, minlength=27) for c in (codes_smc, codes_plain)])
    table = table[:, table.sum(0) > 0]
    assert stats.chi2_contingency(table).pvalue > 1e-3


@pytest.mark.parametrize("method", FILTERS)
def test_middle_hole_matches_exact_posterior_where_plain_does_not(method):
    model = copy_model()
    x = np.tile(np.array([0, 0, 2]).reshape(1, 1, 3, 1), (2000, 1, 1, 1))
    observed = np.array([[True, False, True]])  # the last pixel follows the hole
    exact = exact_conditional(model, x[0], observed[..., None])
    smc = smc_complete(model, jax.random.key(0), x, observed, particles=64, method=method)
    plain = autoreg.complete(model, jax.random.key(0), x, observed, method="exact")
    assert goodness_of_fit(smc, exact) > 1e-3
    assert goodness_of_fit(plain, exact) < 1e-6  # the test can tell them apart


@pytest.mark.slow
def test_middle_box_completions_are_more_likely_than_plain_ones():
    model = stripes_model()
    x = stripes_under_noise(np.random.default_rng(1), 48)
    box = np.ones((6, 6), bool)
    box[2:4, 1:5] = False  # the stripes' first rows; the rows below reveal them
    plain = autoreg.complete(model, jax.random.key(0), x, box, method="exact")
    smc = autoreg.complete(model, jax.random.key(0), x, box, particles=32)  # cached filter
    ll_plain = float(autoreg.log_prob(model, plain).mean())
    ll_smc = float(autoreg.log_prob(model, smc).mean())
    assert ll_smc > ll_plain + 10.0, (ll_smc, ll_plain)
    np.testing.assert_array_equal(np.asarray(smc)[:, box], x[:, box])


@pytest.mark.parametrize("method", FILTERS)
def test_resampling_keeps_the_posterior_and_an_unbiased_evidence(method):
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=3, image_shape=(1, 5, 1))
    n = 2000
    x = np.tile(np.array([0, 2, 0, 1, 1]).reshape(1, 1, 5, 1), (n, 1, 1, 1))
    observed = np.array([False, True, False, True, True]).reshape(1, 1, 5, 1)
    exact = exact_conditional(model, x[0], observed[0])
    every = np.array(list(exact)).reshape(-1, 1, 5, 1)
    p_observed = np.exp(np.asarray(autoreg.log_prob(model, every), np.float64)).sum()
    graphdef, state = nnx.split(model)
    args = (jax.numpy.asarray(x), jax.numpy.asarray(np.broadcast_to(observed, x.shape)), None)
    # ess_threshold=1: resample after every observation that makes the weights uneven.
    particle_filter = autoreg.MODELS["pixelcnn"].particle_filters[method]
    samples, log_ev = particle_filter(graphdef, state, jax.random.key(0), *args, 1.0, 16, 1.0)
    assert goodness_of_fit(samples, exact) > 1e-3  # fails if resampling kept the old weights
    plain = autoreg.complete(model, jax.random.key(0), x, observed, method="exact")
    assert goodness_of_fit(plain, exact) < 1e-6
    evidence = np.exp(np.asarray(log_ev, np.float64))
    assert abs(evidence.mean() - p_observed) < 4 * evidence.std() / np.sqrt(n)


def test_systematic_resampling_follows_the_weights():
    log_w = np.log(np.array([[0.5, 0.25, 0.25, 1e-30], [0.25, 0.25, 0.25, 0.25]]))
    idx = np.asarray(systematic_resample(jax.random.key(0), log_w))
    assert idx[0].tolist() == [0, 0, 1, 2]  # for any uniform offset
    assert sorted(idx[1].tolist()) == [0, 1, 2, 3]
    np.testing.assert_allclose(effective_sample_size(log_w), [8 / 3, 4.0], rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(particles=0), "particles must be a positive integer"),
        (dict(particles=2.5), "particles must be a positive integer"),
        (dict(temperature=0.0), "temperature"),
        (dict(ess_threshold=1.5), "ess_threshold"),
        (dict(method="fast"), "particle filter 'fast' is not available for pixelcnn"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, match):
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(3, 3, 1))
    x = np.zeros((1, 3, 3, 1), np.int32)
    with pytest.raises(ValueError, match=match):
        smc_complete(model, 0, x, np.ones((3, 3), bool), **kwargs)


def test_bad_masks_and_data_are_clear_errors():
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(3, 3, 1))
    x = np.zeros((1, 3, 3, 1), np.int32)
    with pytest.raises(ValueError, match="boolean mask"):
        smc_complete(model, 0, x, np.ones((3, 3), np.int32))
    with pytest.raises(ValueError, match="does not fit"):
        smc_complete(model, 0, x, np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="expects"):
        smc_complete(model, 0, np.zeros((1, 4, 4, 1), np.int32), np.ones((4, 4), bool))
