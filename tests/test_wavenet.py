"""WaveNet: causal pieces, receptive field, conditioning, and fast generation equal to naive."""

import functools
import shutil
import sysconfig

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from causality import causality_violations, dependence_on_earlier
from flax import nnx

import autoreg
from autoreg.models.functional import logits as model_logits
from autoreg.models.wavenet import (
    CausalInputConv,
    DilatedCausalConv1D,
    WaveNetConfig,
    shift_right,
)
from autoreg.sampling import wavenet_queues
from autoreg.sampling.ancestral import naive_sampler

LEVELS = 8
# Dilations 1, 2, 4, 8, 16 twice (receptive field 64): with the default blocks of 16 samples
# both the per-sample queue (d < 16) and the per-block queue (d >= 16) are exercised.
SMALL = dict(preset="tiny", levels=LEVELS, layers_per_stack=5)


@functools.cache
def model_with(seed=1, **overrides):
    return autoreg.create_model("wavenet", **{**SMALL, **overrides}, seed=seed)


def test_shift_right_delays_and_fills():
    x = jnp.arange(1, 6)[None]  # (1, 5)
    np.testing.assert_array_equal(shift_right(x, 2, fill=9), [[9, 9, 1, 2, 3]])
    np.testing.assert_array_equal(shift_right(x, 7), [[0, 0, 0, 0, 0]])


@pytest.mark.parametrize("dilation", [1, 3, 8])
def test_dilated_conv_sees_only_t_and_t_minus_d(dilation):
    conv = DilatedCausalConv1D(2, 3, dilation, nnx.Rngs(0))
    h = jax.random.normal(jax.random.key(1), (1, 12, 2))
    base = np.asarray(conv(h))
    for q in range(12):
        moved = np.asarray(conv(h.at[:, q].add(1.0)))
        changed = np.flatnonzero(np.abs(moved - base).max(axis=(0, 2)) > 0)
        expected = [t for t in (q, q + dilation) if t < 12]
        np.testing.assert_array_equal(changed, expected)


def test_input_conv_sees_only_the_k_previous_samples():
    conv = CausalInputConv(LEVELS, 4, 3, nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).integers(0, LEVELS, (1, 10)))
    base = np.asarray(conv(x))
    for q in range(10):
        moved = np.asarray(conv(x.at[:, q].set((x[0, q] + 1) % LEVELS)))
        changed = np.flatnonzero(np.abs(moved - base).max(axis=(0, 2)) > 0)
        np.testing.assert_array_equal(changed, [t for t in (q + 1, q + 2, q + 3) if t < 10])


def test_receptive_field_is_exactly_the_samples_the_logits_see():
    model = autoreg.create_model("wavenet", preset="tiny", levels=LEVELS, seed=1)
    assert model.receptive_field == 2 + 2 * (1 + 2 + 4) == 16
    x = np.random.default_rng(0).integers(0, LEVELS, 24)
    seen = dependence_on_earlier(lambda b: model_logits(model, b), x, LEVELS, 23)
    assert seen == list(range(23 - 16, 23))


def test_reference_preset_matches_the_benchmark_config():
    config = autoreg.registry.make_config("wavenet", "reference")
    assert config.dilations == tuple(2**i for i in range(10)) * 2
    assert (config.residual_channels, config.gate_channels, config.skip_channels) == (64, 128, 64)
    assert (config.levels, config.sample_rate) == (256, 16000)
    model = nnx.eval_shape(lambda: autoreg.create_model("wavenet", preset="reference"))
    assert model.receptive_field == 2048


def test_event_shape_needs_a_positive_length():
    model = model_with()
    assert model.event_shape(7) == (7,)
    with pytest.raises(ValueError, match="pass length"):
        model.event_shape()
    with pytest.raises(ValueError, match="positive integer"):
        model.event_shape(0)
    with pytest.raises(ValueError, match="gate_channels must be even"):
        WaveNetConfig(gate_channels=7)


def test_global_conditioning_is_causal_and_changes_the_logits():
    model = model_with(num_classes=3)
    x = np.random.default_rng(0).integers(0, LEVELS, 20)

    def logits_fn(batch):
        return model_logits(model, batch, np.full(len(batch), 2))

    assert causality_violations(logits_fn, x, LEVELS) == []
    a = model_logits(model, x[None], np.array([0]))
    b = model_logits(model, x[None], np.array([1]))
    assert not np.allclose(a, b)
    with pytest.raises(ValueError, match="class-conditional"):
        model(jnp.asarray(x[None]))


@pytest.mark.parametrize("upsample", ["nearest", "transposed"])
def test_local_features_keep_causality_and_are_causal_in_frames(upsample):
    model = model_with(local_features=2, hop_length=4, upsample=upsample, num_classes=2)
    x = np.random.default_rng(0).integers(0, LEVELS, 20)
    features = np.random.default_rng(1).normal(size=(1, 5, 2)).astype(np.float32)  # 4 samples each
    logits = jax.jit(lambda batch, labels, features: model(batch, labels, features=features))

    def logits_fn(batch, features=features):  # features fixed, data perturbed
        n = len(batch)
        return logits(jnp.asarray(batch), np.ones(n, int), np.repeat(features, n, axis=0))

    assert logits_fn(x[None]).shape == (1, 20, LEVELS)
    assert causality_violations(logits_fn, x, LEVELS) == []
    base = np.asarray(logits_fn(x[None]))[0]
    for frame in range(5):  # frame f reaches the logits from its first sample 4 f on, not before
        moved = features.copy()
        moved[0, frame] += 1.0
        changed = np.abs(np.asarray(logits_fn(x[None], moved))[0] - base).max(-1) > 0
        np.testing.assert_array_equal(np.flatnonzero(changed), np.arange(4 * frame, 20))


def test_features_may_include_the_frames_before():
    model = model_with(local_features=2, hop_length=4)  # context of 2 frames
    x = jnp.asarray(np.random.default_rng(0).integers(0, LEVELS, (1, 12)))
    features = np.random.default_rng(1).normal(size=(1, 3, 2)).astype(np.float32)
    silence_before = np.concatenate([np.zeros((1, 2, 2), np.float32), features], axis=1)
    np.testing.assert_array_equal(model(x, features=features), model(x, features=silence_before))
    assert not np.allclose(model(x, features=features), model(x, features=silence_before + 1))


def test_tiny_preset_takes_local_features_and_hop_length():
    model = autoreg.create_model("wavenet", preset="tiny", local_features=5, hop_length=8)
    features = np.zeros((1, 3, 5), np.float32)
    assert autoreg.sample(model, 0, 1, features=features).shape == (1, 24)


def test_bad_features_are_clear_errors():
    x = jnp.zeros((2, 12), jnp.int32)
    model = model_with(local_features=2, hop_length=4)
    with pytest.raises(ValueError, match=r"locally conditioned: pass features \(2, 3, 2\)"):
        model(x)
    with pytest.raises(ValueError, match=r"must have shape \(2, 3, 2\) or \(2, 5, 2\)"):
        model(x, features=jnp.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="not a whole number of frames"):
        model(jnp.zeros((2, 13), jnp.int32), features=jnp.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match=r"must have shape \(2, 3, 2\)"):
        model(x, features=jnp.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="takes no features"):
        model_with()(x, features=jnp.zeros((2, 12, 2)))
    with pytest.raises(ValueError, match="needs hop_length"):
        WaveNetConfig(local_features=3)
    with pytest.raises(ValueError, match="upsample must be one of"):
        WaveNetConfig(local_features=3, hop_length=2, upsample="linear")
    with pytest.raises(ValueError, match=r"\(4, 3, 2\)"):  # through the API
        autoreg.sample(model, 0, 4, features=np.zeros((4, 3, 3), np.float32))
    with pytest.raises(ValueError, match="floats"):
        autoreg.log_prob(model, np.zeros((2, 12), np.int32), features=np.zeros((2, 3, 2), int))


def test_fast_sampler_is_the_default_and_naive_still_works():
    model = model_with()
    assert autoreg.sampling_methods(model)[:2] in (["native", "fast"], ["fast", "naive"])
    samples = autoreg.sample(model, 0, 2, length=30, method="naive")
    assert samples.shape == (2, 30) and samples.dtype == jnp.int32
    assert autoreg.log_prob(model, samples).shape == (2,)


def run_both(model, key, x, observed, labels=None, temperature=1.0, **options):
    """Samples of the naive sampler and of fast generation (registered, or with ``options``)."""
    graphdef, state = nnx.split(model)
    args = (key, jnp.asarray(x), jnp.asarray(observed), labels, jnp.float32(temperature))
    fast_sampler = wavenet_queues.fast_sampler
    if options:
        generate = functools.partial(wavenet_queues.generate, **options)
        fast_sampler = jax.jit(generate, static_argnums=0)
    return np.asarray(naive_sampler(graphdef, state, *args)), np.asarray(
        fast_sampler(graphdef, state, *args)
    )


# Blocks of 16 (default): dilations 1..8 per sample, 16 per block; 1: every layer per block;
# 32 in chunks of 32: every layer per sample, and the noise drawn over several chunks.
@pytest.mark.parametrize("options", [{}, {"block": 1}, {"block": 32, "chunk": 32}])
def test_fast_sampler_matches_naive(options):
    model = model_with()
    length = 2 * model.receptive_field + 5  # the queues wrap around; not a multiple of block
    x = np.zeros((2, length), np.int32)
    naive, fast = run_both(model, jax.random.key(3), x, np.zeros_like(x, bool), **options)
    np.testing.assert_array_equal(fast, naive)
    assert len(np.unique(naive)) > 1


@pytest.mark.parametrize("local", [{}, dict(local_features=3, hop_length=16)])
@pytest.mark.slow
def test_fast_generation_state_does_not_grow_with_length(local):
    model = model_with(**local)
    graphdef, state = nnx.split(model)

    def scratch_bytes(length):  # XLA's temporary buffers of the compiled sampler
        x = jnp.zeros((2, length), jnp.int32)
        args = (jax.random.key(3), x, jnp.zeros_like(x, bool), None, jnp.float32(1.0))
        features = jnp.zeros((2, length // 16, 3)) if local else None  # an input, not state
        lowered = wavenet_queues.fast_sampler.lower(graphdef, state, *args, features=features)
        return lowered.compile().memory_analysis().temp_size_in_bytes

    # Only O(T) bookkeeping of a few bytes per sample (and a longer noise chunk here): one
    # activation vector per sample and layer would be 8 channels x 10 layers x 4 = 320 bytes;
    # the naive sampler's scratch grows by 688 bytes per sample. The first length is compiled above.
    short = 2 * model.receptive_field + (0 if local else 5)
    assert (scratch_bytes(short + 1536) - scratch_bytes(short)) / (2 * 1536) < 32


def test_block_must_be_a_power_of_two():
    graphdef, state = nnx.split(model_with())
    generate = functools.partial(wavenet_queues.generate, block=3)
    x = jnp.zeros((1, 8), jnp.int32)
    with pytest.raises(ValueError, match="power of two"):
        jax.jit(generate, static_argnums=0)(
            graphdef, state, jax.random.key(0), x, x > 0, None, jnp.float32(1.0)
        )


def cxx_compiler() -> str | None:
    """The C++ compiler setuptools would build the kernel with, if one is on the PATH."""
    configured = (sysconfig.get_config_var("CXX") or "").split()
    names = [*configured[:1], "c++", "g++", "clang++"]
    return next((found for name in names if (found := shutil.which(name))), None)


def test_the_native_kernel_is_built_where_a_compiler_is():
    # pip install compiles it (setup.py); without it "fast" (XLA) is the default. Where a C++
    # compiler exists the build must have worked, so that test_samplers.py checks the kernel.
    from autoreg.sampling import wavenet_native

    if cxx_compiler() is None:
        pytest.skip("no C++ compiler (c++, g++, clang++ or sysconfig's CXX): nothing to build")
    assert wavenet_native.available(), (
        f"the C++ WaveNet kernel was not built although {cxx_compiler()} exists: "
        "reinstall with pip install -e . and read its build output"
    )
    assert autoreg.sampling_methods(model_with())[0] == "native"


def test_native_kernel_matches_the_xla_queues_across_chunks():
    from autoreg.sampling import wavenet_native

    if not wavenet_native.available():
        pytest.fail("the C++ WaveNet kernel was not built")
    model = model_with(num_classes=3)
    length = wavenet_native.CHUNK + 37  # two calls, the second one partly padding
    x = np.random.default_rng(0).integers(0, LEVELS, (3, length)).astype(np.int32)
    observed = np.zeros(x.shape, bool)
    observed[0, :100] = True
    labels = jnp.asarray([2, 0, 1])
    graphdef, state = nnx.split(model)
    args = (jax.random.key(9), x, observed, labels, jnp.float32(0.8))
    native = wavenet_native.native_sampler(graphdef, state, *args)
    queues = wavenet_queues.fast_sampler(graphdef, state, *args)
    np.testing.assert_array_equal(np.asarray(native), np.asarray(queues))
    np.testing.assert_array_equal(np.asarray(native)[observed], x[observed])


# hop 4: the conditioning changes within a block (per-step biases); hop 16 and 32 with
# nearest-neighbour upsampling: one frame per block of 16 (computed once per block).
@pytest.mark.parametrize(
    "hop, upsample, classes, batch",
    [(4, "transposed", 0, 1), (16, "nearest", 0, 1), (16, "nearest", 3, 2), (32, "nearest", 0, 2)],
)
@pytest.mark.slow
def test_conditioned_fast_sampler_matches_naive(hop, upsample, classes, batch):
    model = model_with(local_features=3, hop_length=hop, upsample=upsample, num_classes=classes)
    length = hop * (-(-(2 * model.receptive_field + 5) // hop))
    x = np.zeros((batch, length), np.int32)
    features = 2 * jax.random.normal(jax.random.key(0), (batch, length // hop, 3))
    labels = jnp.arange(batch) % 3 if classes else None
    graphdef, state = nnx.split(model)
    args = (jax.random.key(3), jnp.asarray(x), jnp.zeros(x.shape, bool), labels, jnp.float32(1.0))
    naive = naive_sampler(graphdef, state, *args, features=features)
    fast = wavenet_queues.fast_sampler(graphdef, state, *args, features=features)
    np.testing.assert_array_equal(fast, naive)
    other = wavenet_queues.fast_sampler(graphdef, state, *args, features=features + 1.0)
    assert not np.array_equal(other, fast)


# Nearest-neighbour upsampling: per-step conditioning (hop 16), one value per chunk (hop 256);
# a transposed convolution: per-step conditioning whatever the hop.
@pytest.mark.parametrize("hop, upsample", [(16, "nearest"), (256, "nearest"), (16, "transposed")])
@pytest.mark.slow
def test_native_kernel_with_mel_conditioning_matches_the_xla_queues(hop, upsample):
    from autoreg.sampling import wavenet_native

    if not wavenet_native.available():
        pytest.fail("the C++ WaveNet kernel was not built")
    model = model_with(local_features=3, hop_length=hop, upsample=upsample, num_classes=2)
    length = 2 * wavenet_native.CHUNK
    x = np.zeros((2, length), np.int32)
    features = 2 * jax.random.normal(jax.random.key(0), (2, length // hop, 3))
    graphdef, state = nnx.split(model)
    args = (jax.random.key(4), jnp.asarray(x), jnp.zeros(x.shape, bool), jnp.asarray([1, 0]))
    args = (*args, jnp.float32(1.0))
    native = wavenet_native.native_sampler(graphdef, state, *args, features=features)
    queues = wavenet_queues.fast_sampler(graphdef, state, *args, features=features)
    np.testing.assert_array_equal(np.asarray(native), np.asarray(queues))
    other = wavenet_native.native_sampler(graphdef, state, *args, features=features + 1.0)
    assert not np.array_equal(np.asarray(other), np.asarray(native))
