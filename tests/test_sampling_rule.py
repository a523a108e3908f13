"""The ancestral sampling rule exists once: every sampler draws as ``draw_with_noise`` does.

``draw_with_noise`` is ``jnp.argmax`` of noise + logits / temperature: the first NaN if there
is one, else the first maximum. The XLA samplers call it; the C++ WaveNet kernel follows it,
NaN included, which these tests pin by feeding every sampler NaN logits.
"""

from __future__ import annotations

import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from autoreg.models.wavenet import PRESETS, WaveNet, WaveNetConfig
from autoreg.sampling import wavenet_native, wavenet_queues
from autoreg.sampling.ancestral import draw_categorical, draw_with_noise, naive_sampler

LEVELS = 16
NAN_AT = (5, 11)  # classes whose logits are NaN: the rule picks the first, 5


def test_draw_with_noise_is_argmax_nan_included():
    noise = jax.random.gumbel(jax.random.key(0), (6, LEVELS))
    logits = jax.random.normal(jax.random.key(1), (6, LEVELS))
    logits = logits.at[1, 7].set(jnp.nan).at[1, 3].set(jnp.nan).at[2, :].set(jnp.nan)
    logits = logits.at[3, :].set(-jnp.inf).at[4, 2].set(jnp.inf).at[4, 9].set(jnp.inf)
    expected = jnp.argmax(noise + logits / 0.7, axis=-1)
    drawn = draw_with_noise(noise, logits, 0.7)
    np.testing.assert_array_equal(drawn, expected)
    assert drawn.tolist()[1:5] == [3, 0, 0, 2]


def test_draw_categorical_picks_the_first_nan():
    logits = jnp.zeros((3, LEVELS)).at[:, NAN_AT[1]].set(jnp.nan).at[:, NAN_AT[0]].set(jnp.nan)
    drawn = draw_categorical(jax.random.key(0), 4, logits, 1.0)
    assert drawn.tolist() == [NAN_AT[0]] * 3


def nan_wavenet() -> WaveNet:
    """A tiny WaveNet whose logits at ``NAN_AT`` are NaN at every step (a NaN output bias)."""
    model = WaveNet(WaveNetConfig(levels=LEVELS, **PRESETS["tiny"]), rngs=nnx.Rngs(0))
    bias = np.zeros(LEVELS, np.float32)
    bias[list(NAN_AT)] = np.nan
    model.logits_bias[...] = jnp.asarray(bias)
    return model


def native_kernel_built() -> bool:
    """Whether the C++ kernel is there; a failure, not a skip, where a compiler exists."""
    if wavenet_native.available():
        return True
    if any(shutil.which(cc) for cc in ("c++", "g++", "clang++")):
        pytest.fail(
            "a C++ compiler exists but the WaveNet kernel was not built: "
            "rebuild it with `pip install -e . --no-deps`"
        )
    return False


def sample(sampler, model, batch: int = 2, length: int = 40):
    graphdef, state = nnx.split(model)
    x = jnp.zeros((batch, length), jnp.int32)
    observed = jnp.zeros((batch, length), bool).at[:, :3].set(True)
    return np.asarray(
        sampler(graphdef, state, jax.random.key(3), x, observed, None, jnp.float32(1.0))
    )


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.slow
def test_every_wavenet_sampler_picks_the_first_nan(batch):
    model = nan_wavenet()
    samplers = {"naive": naive_sampler, "queues": wavenet_queues.fast_sampler}
    if native_kernel_built():
        samplers["native"] = wavenet_native.native_sampler
    for name, sampler in samplers.items():
        values = sample(sampler, model, batch)
        assert (values[:, :3] == 0).all(), name  # observed
        assert (values[:, 3:] == NAN_AT[0]).all(), (name, values)


def test_native_kernel_draws_as_the_rule_without_nan():
    if not native_kernel_built():
        pytest.skip("no C++ compiler: the XLA samplers stand in for the kernel")
    model = WaveNet(WaveNetConfig(levels=LEVELS, **PRESETS["tiny"]), rngs=nnx.Rngs(1))
    np.testing.assert_array_equal(
        sample(wavenet_native.native_sampler, model), sample(naive_sampler, model)
    )
