"""PixelSNAIL: attention removes the blind spot; presets compare with the PixelCNN's size.

Causality (RGB order included), the cached sampler against naive, and the G-test of its samples
are in the registry-wide tables (test_models.py, test_samplers.py, test_exactness.py).
"""

import numpy as np
import pytest
from causality import dependence_on_earlier
from flax import nnx

import autoreg
from autoreg.models.config_io import count_params
from autoreg.models.functional import logits as model_logits

LEVELS = 8


@pytest.mark.parametrize("shape", [(4, 4, 1), (4, 4, 3)])
def test_every_earlier_position_moves_the_logits(shape):
    model = autoreg.create_model(
        "pixelsnail", preset="tiny", levels=LEVELS, image_shape=shape, seed=1
    )
    x = np.random.default_rng(0).integers(0, LEVELS, shape)
    d = int(np.prod(shape))
    for p in (d - 1, d // 2, shape[1] * shape[2] + 1):  # last, middle, second row's start
        missing = set(range(p)) - set(
            dependence_on_earlier(lambda b: model_logits(model, b), x, LEVELS, p)
        )
        assert missing == set(), (p, missing)


def test_without_attention_the_blind_spot_returns():
    # The same network with no attention layer: the masked 3x3 stack misses the upper right.
    shape = (4, 4, 1)
    model = autoreg.create_model(
        "pixelsnail", preset="tiny", levels=LEVELS, image_shape=shape, attention_every=9, seed=1
    )
    x = np.random.default_rng(0).integers(0, LEVELS, shape)
    seen = dependence_on_earlier(lambda b: model_logits(model, b), x, LEVELS, 8)
    assert 7 not in seen  # pixel (1, 3), the last of the row above (2, 0): out of reach
    assert 4 in seen  # pixel (1, 0), right above


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_reference_preset_is_within_20_percent_of_pixelcnn(shape):
    def size(name):
        return count_params(
            nnx.eval_shape(
                lambda: autoreg.create_model(name, preset="reference", image_shape=shape)
            )
        )

    assert abs(size("pixelsnail") / size("pixelcnn") - 1) < 0.2


def test_heads_follow_colour_groups():
    config = autoreg.registry.make_config("pixelsnail", "tiny", image_shape=(4, 4, 3))
    assert config.heads == 3 * config.heads_per_colour
    with pytest.raises(ValueError, match="multiple of 2\\*C=6"):
        autoreg.create_model("pixelsnail", preset="tiny", image_shape=(4, 4, 3), channels=8)


@pytest.mark.slow
def test_cached_sampler_attends_per_colour_group_exactly():
    # Two heads per colour group, so the cached sampler's one-group-per-sub-step attention
    # slices more than one head; a partly observed pixel starts completion mid-pixel.
    model = autoreg.create_model(
        "pixelsnail",
        preset="tiny",
        levels=LEVELS,
        image_shape=(4, 4, 3),
        heads_per_colour=2,
        num_classes=2,
        seed=4,
    )
    labels = np.array([0, 1, 1])
    kw = dict(labels=labels, temperature=0.8)
    cached = np.asarray(autoreg.sample(model, 5, 3, method="cached", **kw))
    np.testing.assert_array_equal(cached, autoreg.sample(model, 5, 3, method="naive", **kw))
    x = np.random.default_rng(2).integers(0, LEVELS, (3, 4, 4, 3))
    observed = np.zeros(x.shape, bool)
    observed[:, :2] = True
    observed[:, 2, 0, :1] = True  # the red of pixel (2, 0) only
    done = [
        np.asarray(autoreg.complete(model, 6, x, observed, method=m, **kw))
        for m in ("cached", "naive")
    ]
    np.testing.assert_array_equal(*done)
