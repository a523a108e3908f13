"""Every registered model: causal logits (RGB order included), right shapes, presets build."""

import functools

import numpy as np
import pytest
from causality import causality_violations

import autoreg
from autoreg.models.functional import logits as model_logits
from autoreg.registry import make_config

LEVELS = 8


@functools.cache
def tiny(name: str, colours: int = 3):
    """A tiny random-init model of each family: 4x4 images with ``colours`` channels (audio: T)."""
    model = autoreg.create_model(name, preset="tiny", levels=LEVELS, seed=1)
    if model.fixed_shape:
        model = autoreg.create_model(
            name, preset="tiny", levels=LEVELS, image_shape=(4, 4, colours), seed=1
        )
    return model


def example(model, length: int = 24) -> np.ndarray:
    shape = model.event_shape(None if model.fixed_shape else length)
    return np.random.default_rng(0).integers(0, LEVELS, size=shape)


def labels_for(model, n):
    return np.arange(n) % model.num_classes if model.num_classes else None


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_logits_at_p_ignore_positions_at_and_after_p(name):
    model = tiny(name)
    x = example(model)

    def logits_fn(batch):
        return model_logits(model, batch, labels_for(model, len(batch)))

    assert causality_violations(logits_fn, x, LEVELS) == []


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_logits_shape_and_dtype(name):
    model = tiny(name)
    x = example(model)[None].repeat(2, axis=0)
    logits = model_logits(model, x, labels_for(model, 2))
    assert logits.shape == x.shape + (LEVELS,)
    assert logits.dtype == np.float32
    assert np.isfinite(np.asarray(logits)).all()


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_presets_build_with_levels_and_overrides(name):
    spec = autoreg.MODELS[name]
    assert {"tiny", "reference"} <= set(spec.presets)
    config = make_config(name, "reference", levels=2)
    assert config.levels == 2
    with pytest.raises(ValueError, match="unknown preset"):
        make_config(name, "huge")
    with pytest.raises(ValueError, match="no_such_field"):
        make_config(name, "tiny", no_such_field=3)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown model 'nope'.*pixelcnn"):
        autoreg.create_model("nope")
