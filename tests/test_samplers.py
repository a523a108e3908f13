"""Every fast sampler in the registry gives the naive sampler's samples, bit for bit.

The table is derived from ``autoreg.MODELS[name].samplers``: a sampler added to the registry is
tested here without being listed. Each case runs on RGB images (and one colour, where the mask-A
centre tap is dropped), with class labels where the model takes them, through ``sample`` and
through ``complete``; image models run both convolution paths (``conv_impl="taps"``, the CPU's,
and ``"conv"``, XLA's convolutions as on a GPU or TPU).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from registry_cases import (
    CASES,
    IDS,
    LEVELS,
    PLATFORM,
    TAPS_CASES,
    TAPS_IDS,
    params,
    setup,
    tiny,
    variants,
)

import autoreg


def test_every_model_lists_naive_and_its_default_first():
    for name, spec in autoreg.MODELS.items():
        methods = autoreg.sampling_methods(tiny(name, ()))
        runnable = [m for m, entry in spec.samplers.items() if entry.runs_on(PLATFORM)]
        assert methods == runnable and "naive" in methods
        assert methods[0] != "naive" or len(methods) == 1


# The fast samplers the registry must offer, written out here rather than read from it: a
# sampler that goes missing from the registry (or stops running on a platform) fails below.
FAST_SAMPLERS = {
    ("pixelcnn", "cached"),
    ("gated_pixelcnn", "cached"),
    ("pixelsnail", "cached"),
    ("row_lstm", "incremental"),
    ("diagonal_bilstm", "incremental"),
    ("wavenet", "fast"),
    ("video_pixelcnn", "cached"),
}


def test_the_table_covers_every_fast_sampler_of_this_platform():
    from autoreg.sampling import wavenet_native

    expected = set(FAST_SAMPLERS)
    if PLATFORM == "cpu" and wavenet_native.available():  # the C++ kernel: CPU only
        expected.add(("wavenet", "native"))
    assert {(name, method) for name, method, _, _ in CASES} == expected
    for name in autoreg.MODELS:  # each model's cases: every variant of it, once per sampler
        methods = {m for n, m in expected if n == name}
        runs = [(m, event) for n, m, event, _ in CASES if n == name]
        assert sorted(runs) == sorted((m, e) for m in methods for e, _ in variants(name))


@pytest.mark.device
@pytest.mark.parametrize("case", params(CASES, IDS))
def test_sample_equals_naive(case):
    model, _, labels, length, features = setup(case)
    method = case[1]
    kw = dict(labels=labels, length=length, features=features)
    fast = np.asarray(autoreg.sample(model, 7, 4, method=method, **kw))
    naive = np.asarray(autoreg.sample(model, 7, 4, method="naive", **kw))
    np.testing.assert_array_equal(fast, naive)
    assert len({s.tobytes() for s in naive}) == 4  # different draws, not a constant
    if labels is not None:  # the labels reach the sampler
        other = autoreg.sample(model, 7, 4, method=method, **{**kw, "labels": labels[::-1]})
        assert not np.array_equal(np.asarray(other), fast)
    if features is not None:  # the features reach the sampler
        other = autoreg.sample(model, 7, 4, method=method, **{**kw, "features": features[::-1]})
        assert not np.array_equal(np.asarray(other), fast)


@pytest.mark.parametrize("case", params(CASES, IDS))
def test_completion_equals_naive_and_keeps_observed(case):
    model, x, labels, _, features = setup(case)
    method = case[1]
    # A prefix, a stray observed position and a partial pixel or stretch: exact and SMC-free.
    flat = np.zeros(x.shape, bool).reshape(4, -1)
    flat[:, : flat.shape[1] // 3] = True
    flat[:, flat.shape[1] // 2] = True
    flat[1, -2:] = True
    observed = flat.reshape(x.shape)
    kw = dict(labels=labels, temperature=0.7, features=features)
    fast = np.asarray(autoreg.complete(model, 11, x, observed, method=method, **kw))
    naive = np.asarray(autoreg.complete(model, 11, x, observed, method="naive", **kw))
    np.testing.assert_array_equal(fast, naive)
    np.testing.assert_array_equal(fast[observed], x[observed])


@pytest.mark.parametrize("case", params(TAPS_CASES, TAPS_IDS))
def test_auto_completion_of_a_prefix_uses_the_default_sampler(case):
    model, x, labels, _, features = setup(case)
    observed = np.zeros(x.shape, bool).reshape(4, -1)
    observed[:, : observed.shape[1] // 2] = True
    observed = observed.reshape(x.shape)
    kw = dict(labels=labels, features=features)
    auto = np.asarray(autoreg.complete(model, 5, x, observed, **kw))
    naive = np.asarray(autoreg.complete(model, 5, x, observed, method="naive", **kw))
    np.testing.assert_array_equal(auto, naive)


def test_auto_completion_of_a_box_runs_smc():
    from autoreg.generate import smc_complete

    model = tiny("pixelcnn", (("image_shape", (4, 4, 3)),))
    x = np.random.default_rng(2).integers(0, LEVELS, (2, 4, 4, 3))
    observed = np.ones((4, 4), bool)
    observed[1:3, 1:3] = False
    auto = autoreg.complete(model, jax.random.key(4), x, observed, particles=8)
    smc = smc_complete(model, jax.random.key(4), x, observed, particles=8)
    exact = autoreg.complete(model, jax.random.key(4), x, observed, method="exact")
    np.testing.assert_array_equal(auto, smc)
    assert not np.array_equal(np.asarray(auto), np.asarray(exact))


@pytest.mark.parametrize("name", ["pixelcnn", "gated_pixelcnn", "row_lstm"])
def test_image_samplers_reject_features(name):
    model = tiny(name, (("image_shape", (2, 2, 1)),))
    graphdef, state = nnx.split(model)
    x = jnp.zeros((1, 2, 2, 1), jnp.int32)
    sampler = autoreg.MODELS[name].samplers[autoreg.sampling_methods(model)[0]]
    with pytest.raises(ValueError, match="takes no local conditioning features"):
        sampler(graphdef, state, jax.random.key(0), x, x > 0, None, 1.0, features=x[..., 0])
    with pytest.raises(ValueError, match="takes no features"):
        autoreg.sample(model, 0, 1, features=np.zeros((1, 2, 2), np.float32))


def test_unknown_completion_method_lists_the_choices():
    model = tiny("pixelcnn", ())
    x = np.zeros((1, 28, 28, 1), np.int32)
    with pytest.raises(ValueError, match="auto, exact, smc, cached, naive"):
        autoreg.complete(model, 0, x, np.ones((28, 28), bool), method="fast")


def test_unrolled_raster_loops_draw_the_same_samples():
    # What a GPU may favour (fewer, larger kernels) must not change a single draw. The loop is
    # shared by every cached image sampler (raster_loop), so one model checks it.
    name = "pixelcnn"
    model, x, labels, _, _ = setup((name, "cached", "4x4x3-taps", dict(image_shape=(4, 4, 3))))
    graphdef, state = nnx.split(model)
    observed = jnp.zeros(x.shape, bool).at[:, 0].set(True)
    args = (graphdef, state, jax.random.key(3), jnp.asarray(x), observed, None, jnp.float32(1))
    sampler = autoreg.MODELS[name].samplers["cached"]
    once = np.asarray(sampler(*args))
    np.testing.assert_array_equal(np.asarray(sampler(*args, unroll=2)), once)
    with pytest.raises(ValueError, match="unroll must be a positive integer"):
        sampler(*args, unroll=0)


def test_wavenet_block_and_unroll_variants_draw_the_same_samples():
    from autoreg.sampling.wavenet_queues import fast_variant

    model, x, labels, length, _ = setup(("wavenet", "fast", "audio", {}))
    graphdef, state = nnx.split(model)
    observed = jnp.zeros(x.shape, bool)
    args = (graphdef, state, jax.random.key(4), jnp.asarray(x), observed, None, jnp.float32(1))
    naive = np.asarray(autoreg.MODELS["wavenet"].samplers["naive"](*args))
    np.testing.assert_array_equal(np.asarray(fast_variant(4, 4)(*args)), naive)
