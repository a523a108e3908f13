"""The memory estimate of a forward pass bounds what XLA allocates, for every registry model.

``autoreg.memory.forward_bytes(model, positions)`` is what one example's forward pass is
estimated to need, from what the model says it holds (its ``widest_activation`` and
``attention_arrays``, ``autoreg.models.base``). XLA's compiled program reports
(``Compiled.memory_analysis()``) its arguments (the parameters and the data), its output (the
logits) and its temporaries (every intermediate it keeps live at once; the CPU backend reports
all three, and no aliasing for a forward pass). The test compares

    temp + output + argument  <=  B * forward_bytes + parameter bytes + B * data bytes

for a batch of tiny models at two sizes (the second with 4x the positions), so an estimate that
grows too slowly (an attention matrix left out: quadratic in the pixels) fails at the larger
size, and checks that the estimate is not looser than ``SLACK`` times XLA's figure.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

import autoreg
from autoreg.memory import forward_bytes, training_bytes
from autoreg.models.base import AutoregressiveModel
from autoreg.registry import create_model

BATCH = 2
LEVELS = 16
SIZES = {
    "image": [(8, 8, 3), (16, 16, 3)],
    "audio": [(512,), (2048,)],
    "video": [(3, 8, 8, 3), (4, 16, 16, 1)],
}
SLACK = 4  # the estimate may exceed XLA's figure this many times, no more


def xla_bytes(model, event_shape: tuple) -> int:
    """temp + output + argument bytes of the jitted forward pass of a (B, *event) batch."""
    graphdef, state = nnx.split(model)

    def forward(state, x):
        return nnx.merge(graphdef, state)(x)

    x = jnp.zeros((BATCH, *event_shape), jnp.int32)
    stats = jax.jit(forward).lower(state, x).compile().memory_analysis()
    if stats is None:
        pytest.skip("this backend reports no memory analysis")
    return stats.temp_size_in_bytes + stats.output_size_in_bytes + stats.argument_size_in_bytes


def estimated_bytes(model, event_shape: tuple) -> int:
    """The estimate of the same: the batch's forward passes, the parameters and the data."""
    params = sum(leaf.nbytes for leaf in jax.tree.leaves(nnx.state(model, nnx.Param)))
    positions = math.prod(event_shape)
    return BATCH * forward_bytes(model, positions) + params + BATCH * 4 * positions


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_forward_estimate_bounds_what_xla_allocates(name):
    kind = autoreg.MODELS[name].model_cls.modality.name
    for event_shape in SIZES[kind]:
        shape = {
            "image": {"image_shape": event_shape},
            "audio": {},
            "video": {"frames": event_shape[0], "image_shape": event_shape[1:]},
        }[kind]
        model = create_model(name, preset="tiny", levels=LEVELS, **shape)
        measured, estimate = xla_bytes(model, event_shape), estimated_bytes(model, event_shape)
        assert measured <= estimate, (name, event_shape, measured, estimate)
        assert estimate <= SLACK * measured, (name, event_shape, measured, estimate)


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_a_config_is_sized_as_its_model(name):
    """A config alone (a checkpoint's, before its model exists) gets its model's answers."""
    kind = autoreg.MODELS[name].model_cls.modality.name
    model = create_model(name, preset="tiny", levels=LEVELS)
    positions = 64 if kind == "audio" else math.prod(model.event_shape())
    assert forward_bytes(type(model), positions, model.config) == forward_bytes(model, positions)


def test_a_model_that_does_not_say_what_it_holds_is_not_sized():
    """No guess from field names: a family must answer (``autoreg.models.base``)."""
    model = create_model("pixelcnn", preset="tiny", levels=LEVELS, image_shape=(4, 4, 1))

    class Silent(AutoregressiveModel):
        name = "silent"

        def __init__(self, config):
            self.config = config

    silent = Silent(model.config)
    with pytest.raises(NotImplementedError, match="Silent does not say its widest activation"):
        forward_bytes(silent, 16)
    with pytest.raises(NotImplementedError, match="Silent does not say"):
        training_bytes(silent, 1, (4, 4, 1))
