"""The registry's sampler cases shared by the sampler and particle filter tables.

``variants(name)`` lists the events each model runs on (RGB and one colour, with class labels
where the model takes them; image models on both convolution paths, ``conv_impl="taps"``, the
CPU's, and ``"conv"``, XLA's convolutions as on a GPU or TPU), ``tiny`` builds the model of a
case and ``setup`` its data.
"""

import dataclasses
import functools

import jax
import numpy as np
import pytest
from flax import nnx

import autoreg
from autoreg.modalities import AUDIO
from autoreg.models.config_checks import CONV_IMPLS
from autoreg.platforms import default_platform

LEVELS = 8
IMPLS = [impl for impl in CONV_IMPLS if impl != "auto"]  # the two paths "auto" picks between
# The Video PixelCNN's other contexts over frames (its default, "convlstm", runs everywhere).
VIDEO_VARIANTS = {
    "conv3d": dict(temporal="conv3d", temporal_frames=2),
    "conv2plus1d": dict(temporal="conv2plus1d", condition_kernel=3),
}


def variants(name):
    """(event description, create_model overrides) of the cases run for model ``name``."""
    spec = autoreg.MODELS[name]
    conditional = "num_classes" in {f.name for f in dataclasses.fields(spec.config_cls)}
    labels = dict(num_classes=3) if conditional else {}
    fields = {f.name for f in dataclasses.fields(spec.config_cls)}
    if "image_shape" not in fields:
        cases = [("audio", {}), ("audio-labels", labels)] if labels else [("audio", {})]
        if "local_features" in fields:  # locally conditioned (a vocoder), with and without labels
            local = dict(local_features=3, hop_length=4)
            cases += [("audio-features", local), ("audio-features-labels", {**local, **labels})]
        return cases
    # XLA's convolutions on RGB with labels (the one-colour conv path: test_exactness.py).
    cases = [
        ("5x5x1-taps", dict(image_shape=(5, 5, 1), conv_impl="taps")),
        *[(f"4x4x3-{i}", dict(image_shape=(4, 4, 3), conv_impl=i, **labels)) for i in IMPLS],
    ]
    if "temporal" in fields:  # video: each other context, on RGB
        cases += [
            (f"4x4x3-taps-{variant}", dict(image_shape=(4, 4, 3), conv_impl="taps", **fields))
            for variant, fields in VIDEO_VARIANTS.items()
        ]
    return cases


PLATFORM = default_platform()
# Every fast sampler of this platform, on every variant of its model.
CASES = [
    (name, method, event, overrides)
    for name, spec in autoreg.MODELS.items()
    for method, entry in spec.samplers.items()
    if method != "naive" and entry.runs_on(PLATFORM)  # the C++ WaveNet kernel: CPU only
    for event, overrides in variants(name)
]
IDS = [f"{name}-{method}-{event}" for name, method, event, _ in CASES]
# The completion policy does not depend on the convolution path: one path is enough there.
TAPS_CASES = [case for case in CASES if case[3].get("conv_impl") != "conv"]
TAPS_IDS = [f"{name}-{method}-{event}" for name, method, event, _ in TAPS_CASES]


@functools.cache
def tiny(name, overrides):
    """A tiny model; class-label parameters scaled up so that labels visibly change samples."""
    model = autoreg.create_model(name, preset="tiny", levels=LEVELS, seed=3, **dict(overrides))
    params = nnx.state(model, nnx.Param)

    def scale(path, value):
        return value * 20 if any("label" in str(k) or "class" in str(k) for k in path) else value

    nnx.replace_by_pure_dict(
        params, jax.tree_util.tree_map_with_path(scale, nnx.to_pure_dict(params))
    )
    nnx.update(model, params)
    return model


def setup(case):
    """(model, data (4, *event), labels or None, length or None, features or None) for one row."""
    name, _, _, overrides = case
    model = tiny(name, tuple(sorted(overrides.items())))
    length = None if model.modality is not AUDIO else 2 * model.receptive_field + 5
    features = None
    if overrides.get("local_features"):
        hop = overrides["hop_length"]
        length = hop * (-(-length // hop))  # whole frames
        shape = (4, length // hop, overrides["local_features"])
        features = 2 * np.random.default_rng(5).normal(size=shape).astype(np.float32)
    shape = (4, *model.event_shape(length))
    x = np.random.default_rng(1).integers(0, LEVELS, shape).astype(np.int32)
    labels = np.array([2, 0, 1, 2]) if model.num_classes else None
    return model, x, labels, length, features


def in_fast_tier(case) -> bool:
    """Whether a case runs in the fast tier (``pytest -m "not slow"``): images of one colour
    and plain audio, not video; RGB, labels, features and video run with the whole suite."""
    name, _, event, _ = case
    return name != "video_pixelcnn" and event in ("5x5x1-taps", "audio")


def params(cases, ids) -> list:
    """Each case as a ``pytest.param`` with its id, marked ``slow`` outside the fast tier."""
    return [
        pytest.param(case, id=case_id, marks=() if in_fast_tier(case) else pytest.mark.slow)
        for case, case_id in zip(cases, ids, strict=True)
    ]
