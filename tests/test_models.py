"""Every registered model: causal logits (RGB order included), no blind spot where the
architecture promises none, right shapes, presets build.

Image models run both convolution paths: ``conv_impl="taps"`` (the CPU's) and ``"conv"`` (XLA's
convolutions, what ``"auto"`` picks on a GPU or TPU). Causality is checked bit for bit on both: a
masked weight is an exact zero, so a later position cannot move the logits at p by any rounding.
"""

import dataclasses
import functools

import numpy as np
import pytest
from causality import causality_violations, dependence_on_earlier
from registry_cases import VIDEO_VARIANTS

import autoreg
from autoreg.modalities import AUDIO, IMAGE
from autoreg.models.config_checks import CONV_IMPLS
from autoreg.models.functional import logits as model_logits
from autoreg.registry import make_config

LEVELS = 8
# Image models whose logits see every earlier position, with the overrides of "tiny" that show
# it (Diagonal BiLSTM: a wider head; with 2 ReLU units per colour all can be off for an input).
# The others have a blind spot by design: PixelCNN's masked stack and Row LSTM's triangle miss
# the upper right.
# Video PixelCNN: a wider skip sum and head, for the same reason.
NO_BLIND_SPOT = {
    "gated_pixelcnn": {},
    "diagonal_bilstm": {"output_channels": 24},
    "pixelsnail": {},
    "video_pixelcnn": {"skip_channels": 12, "head_channels": 12},
}
BLIND_SPOT = ("pixelcnn", "row_lstm")


def impls(name: str) -> list:
    """The convolution paths of model ``name``: "taps" and "conv", or [None] without a choice."""
    fields = {f.name for f in dataclasses.fields(autoreg.MODELS[name].config_cls)}
    return [i for i in CONV_IMPLS if i != "auto"] if "conv_impl" in fields else [None]


CASES = [(name, impl) for name in sorted(autoreg.MODELS) for impl in impls(name)]


def params(cases) -> list:
    """``(name, impl)`` cases as ``pytest.param``s; XLA's convolution path and video run in the
    whole suite only (``slow``), the fast tier keeps the taps path of the image and audio models."""
    return [
        pytest.param(
            name,
            impl,
            id=name if impl is None else f"{name}-{impl}",
            marks=pytest.mark.slow if impl == "conv" or name == "video_pixelcnn" else (),
        )
        for name, impl in cases
    ]


@functools.cache
def tiny(name: str, colours: int = 3, impl: str | None = None, **overrides):
    """A tiny random-init model of each family: 4x4 images with ``colours`` channels (video:
    the tiny preset's 3 frames of them; audio: T)."""
    extra = overrides if impl is None else {"conv_impl": impl, **overrides}
    model = autoreg.create_model(name, preset="tiny", levels=LEVELS, seed=1)
    if model.modality is not AUDIO:
        model = autoreg.create_model(
            name, preset="tiny", levels=LEVELS, image_shape=(4, 4, colours), seed=1, **extra
        )
    return model


def example(model, length: int = 24) -> np.ndarray:
    shape = model.event_shape(None if model.modality is not AUDIO else length)
    return np.random.default_rng(0).integers(0, LEVELS, size=shape)


def labels_for(model, n):
    return np.arange(n) % model.num_classes if model.num_classes else None


@pytest.mark.device
@pytest.mark.parametrize("name, impl", params(CASES))
def test_logits_at_p_ignore_positions_at_and_after_p(name, impl):
    model = tiny(name, 3, impl)
    x = example(model)

    def logits_fn(batch):
        return model_logits(model, batch, labels_for(model, len(batch)))

    assert causality_violations(logits_fn, x, LEVELS) == []


def test_every_image_model_states_whether_it_has_a_blind_spot():
    images = {name for name in autoreg.MODELS if tiny(name).modality is not AUDIO}
    assert images == set(NO_BLIND_SPOT) | set(BLIND_SPOT)


def unseen_earlier(model, positions) -> dict:
    """{p: earlier positions that move no logit at p} over two images (a ReLU can hide a
    dependence for one input, so take the union of what is seen)."""
    missing = {}
    for p in positions:
        seen = set()
        for seed in (0, 1):
            x = np.random.default_rng(seed).integers(0, LEVELS, model.event_shape())

            def logits_fn(batch):
                return model_logits(model, batch, labels_for(model, len(batch)))

            seen.update(dependence_on_earlier(logits_fn, x, LEVELS, p))
        missing[p] = sorted(set(range(p)) - seen)
    return missing


NO_BLIND_SPOT_CASES = [(n, i) for n, i in CASES if n in NO_BLIND_SPOT]


@pytest.mark.parametrize("name, impl", params(NO_BLIND_SPOT_CASES))
def test_no_blind_spot_every_earlier_position_moves_the_logits(name, impl):
    model = tiny(name, 3, impl, **NO_BLIND_SPOT[name])  # 4x4x3: 48 positions a frame
    # The last sub-pixel, and the blue of pixel (1, 3), the last of a row. (A Diagonal BiLSTM
    # misses one position elsewhere, the last of the row above; test_pixelrnn.py pins that.)
    # A video's: the same in its last frame, and the first of that frame (the frames before).
    positions = (47, 23) if model.modality is IMAGE else (143, 119, 96)
    assert unseen_earlier(model, positions) == {p: [] for p in positions}


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(VIDEO_VARIANTS))
def test_each_video_context_is_causal_with_no_blind_spot(variant):
    """The Video PixelCNN's other contexts over frames (a causal 3-D convolution, a (2+1)-D
    one with a 3x3 convolution into the gate biases): no logit reads its own frame's later
    positions through the context, and every earlier position, of this frame and the ones
    before, moves the last ones."""
    overrides = {**NO_BLIND_SPOT["video_pixelcnn"], **VIDEO_VARIANTS[variant]}
    model = tiny("video_pixelcnn", 3, "taps", **overrides)

    def logits_fn(batch):
        return model_logits(model, batch)

    assert causality_violations(logits_fn, example(model), LEVELS) == []
    positions = (143, 119, 96)
    assert unseen_earlier(model, positions) == {p: [] for p in positions}


@pytest.mark.parametrize("name", BLIND_SPOT)
def test_the_blind_spot_of_the_others_is_real(name):
    # The check above can fail: from the first pixel of the last row, (3, 0), these models miss
    # the upper right, e.g. pixel (2, 3) (positions 33..35).
    missing = unseen_earlier(tiny(name, 3, "taps"), (36,))[36]
    assert {33, 34, 35} <= set(missing)


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
