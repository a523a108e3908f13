"""Every model's default sampler draws from the model's exact distribution (a G-test).

A two-position model (1x2x1 images; audio of length 2; video of two 1x1x1 frames, so that the
second position depends on the first through the context alone) with K = 4 has a joint of 16
outcomes that ``log_prob`` gives exactly; 20,000 samples of each registry model's default
sampler must fit it. The parameters are scaled up so that the second position depends strongly
on the first (otherwise a sampler ignoring the first position could pass; test_sampling.py
shows such a sampler fails this test). Image models run both convolution paths ("taps", the
CPU's; "conv", XLA's convolutions as on a GPU or TPU).
"""

import dataclasses
import itertools

import jax
import numpy as np
import pytest
from flax import nnx
from registry_cases import VIDEO_VARIANTS
from scipy import stats

import autoreg
from autoreg.modalities import AUDIO, VIDEO
from autoreg.models.config_checks import CONV_IMPLS

LEVELS = 4
NUM_SAMPLES = 20_000


def impls(name: str) -> list:
    """ "taps" and "conv" for a model with a convolution path to choose, else [None]."""
    fields = {f.name for f in dataclasses.fields(autoreg.MODELS[name].config_cls)}
    return [i for i in CONV_IMPLS if i != "auto"] if "conv_impl" in fields else [None]


CASES = [(name, impl) for name in sorted(autoreg.MODELS) for impl in impls(name)]
CASES += [(f"video_pixelcnn-{variant}", "taps") for variant in VIDEO_VARIANTS]


def two_position_model(name, impl=None):
    name, _, variant = name.partition("-")  # a video variant: video_pixelcnn-conv3d
    model = autoreg.create_model(name, preset="tiny", levels=LEVELS, seed=3)
    if model.modality is VIDEO:
        model = autoreg.create_model(
            name,
            preset="tiny",
            levels=LEVELS,
            image_shape=(1, 1, 1),
            frames=2,
            seed=3,
            conv_impl=impl,
            **VIDEO_VARIANTS.get(variant, {}),
        )
    elif model.modality is not AUDIO:
        model = autoreg.create_model(
            name, preset="tiny", levels=LEVELS, image_shape=(1, 2, 1), seed=3, conv_impl=impl
        )
    # 3x, but 2x for video: at 3x the LSTM's gates saturate and the context forgets the frame.
    scale = 2.0 if model.modality is VIDEO else 3.0
    params = nnx.state(model, nnx.Param)
    nnx.update(model, jax.tree.map(lambda p: p * scale, params))
    return model


def exact_joint(model) -> np.ndarray:
    """(K * K,) p(x1, x2) over every outcome, from log_prob."""
    outcomes = np.array(list(itertools.product(range(LEVELS), repeat=2)))
    shape = (-1, *model.event_shape()) if model.modality is not AUDIO else (-1, 2)
    labels = np.zeros(len(outcomes), np.int32) if model.num_classes else None
    log_p = autoreg.log_prob(model, outcomes.reshape(shape), labels)
    return np.exp(np.asarray(log_p, np.float64))


@pytest.mark.slow
@pytest.mark.device
@pytest.mark.parametrize(
    "name, impl", CASES, ids=[n if i is None else f"{n}-{i}" for n, i in CASES]
)
def test_default_sampler_fits_the_exact_joint(name, impl):
    model = two_position_model(name, impl)
    joint = exact_joint(model)
    assert joint.sum() == pytest.approx(1.0, abs=1e-5)
    conditionals = joint.reshape(LEVELS, LEVELS) / joint.reshape(LEVELS, LEVELS).sum(1)[:, None]
    assert 0.5 * np.abs(conditionals[:, None] - conditionals[None]).sum(-1).max() > 0.1
    length = None if model.modality is not AUDIO else 2
    labels = np.zeros(NUM_SAMPLES, np.int32) if model.num_classes else None
    samples = autoreg.sample(model, jax.random.key(0), NUM_SAMPLES, length=length, labels=labels)
    flat = np.asarray(samples).reshape(NUM_SAMPLES, 2)
    counts = np.bincount(flat[:, 0] * LEVELS + flat[:, 1], minlength=LEVELS * LEVELS)
    expected = joint / joint.sum() * NUM_SAMPLES
    assert stats.power_divergence(counts, expected, lambda_="log-likelihood").pvalue > 1e-3
