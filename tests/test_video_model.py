"""The Video PixelCNN beyond the registry tables: clips of any length, prediction as exact
completion, checkpoints, the presets' context reach, clear errors.

(Causality over (T, H, W, C), no blind spot within and across frames, the G-test and the
cached sampler against the naive one run in the registry-wide tables: test_models.py,
test_exactness.py, test_samplers.py.)
"""

import dataclasses

import jax
import numpy as np
import pytest
from flax import nnx

import autoreg
from autoreg.generate import completion_method
from autoreg.modalities import VIDEO
from autoreg.models.video_pixelcnn import VideoPixelCNNConfig
from autoreg.sampling.ancestral import naive_sampler

LEVELS = 4


@pytest.fixture(scope="module")
def model():
    return autoreg.create_model(
        "video_pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=LEVELS, seed=2
    )


@pytest.fixture(scope="module")
def clips():
    return np.random.default_rng(0).integers(0, LEVELS, (2, 5, 4, 4, 1))  # 5 frames, not 3


def test_a_clip_is_frames_then_raster_then_colour(model):
    assert model.modality is VIDEO
    assert model.event_shape() == (3, 4, 4, 1)  # the tiny preset's 3 frames
    assert model.event_shape(7) == (7, 4, 4, 1)
    samples = autoreg.sample(model, jax.random.key(0), 2, progress=False)
    assert samples.shape == (2, 3, 4, 4, 1)


@pytest.mark.slow
def test_predicting_a_longer_clip_is_exact_completion_of_its_observed_frames(model, clips):
    observed = np.zeros(clips.shape, bool)
    observed[:, :2] = True  # two frames observed, three predicted
    assert completion_method(model, observed) == "cached"
    out = np.asarray(autoreg.complete(model, jax.random.key(1), clips, observed, progress=False))
    graphdef, state = nnx.split(model)
    naive = naive_sampler(
        graphdef, state, jax.random.key(1), clips.astype(np.int32), observed, None, np.float32(1)
    )
    np.testing.assert_array_equal(out, np.asarray(naive))
    np.testing.assert_array_equal(out[:, :2], clips[:, :2])
    assert (out[:, 2:] != clips[:, 2:]).any()  # the future was drawn, not copied


@pytest.mark.slow
def test_the_first_frame_is_a_frame_without_context(model, clips):
    # The context of frame 0 is the LSTM's zero state: its logits are the decoder's alone,
    # the same whatever follows; frame 1's depend on frame 0.
    other = clips.copy()
    other[:, 1:] = (other[:, 1:] + 1) % LEVELS
    logits, moved = np.asarray(model(clips)), np.asarray(model(other))
    np.testing.assert_array_equal(logits[:, 0], moved[:, 0])
    changed_first = clips.copy()
    changed_first[:, 0] = (changed_first[:, 0] + 2) % LEVELS
    assert not np.array_equal(np.asarray(model(changed_first))[:, 1], logits[:, 1])


def test_checkpoint_round_trip_keeps_config_and_log_prob(model, clips, tmp_path):
    autoreg.save_checkpoint(model, tmp_path / "video")
    loaded = autoreg.load_checkpoint(tmp_path / "video")
    assert loaded.config == model.config
    assert isinstance(loaded.config.encoder_dilations, tuple)
    np.testing.assert_array_equal(
        np.asarray(autoreg.log_prob(loaded, clips)), np.asarray(autoreg.log_prob(model, clips))
    )


def test_frames_of_another_shape_are_one_clear_error(model):
    with pytest.raises(ValueError, match=r"frames of \(4, 4, 1\)"):
        autoreg.complete(model, 0, np.zeros((1, 3, 5, 5, 1), np.int32), np.ones((1, 3, 5, 5, 1)))
    with pytest.raises(ValueError, match="rank 5"):
        autoreg.log_prob(model, np.zeros((1, 4, 4, 1), np.int32))


@pytest.mark.slow
@pytest.mark.parametrize("preset, parameters", [("reference", 797_888), ("small", 157_136)])
def test_each_preset_context_sees_the_whole_previous_frame(preset, parameters):
    """At the preset's own frame size, one pixel of frame t-1 in a corner changes the context
    of frame t in the opposite corner (both ways), and the preset builds with the parameter
    count docs/results.md states.

    Catches a preset whose encoder dilations and LSTM kernel reach less than the frame (a
    dilation dropped, a smaller frame size), a network that reaches less than its
    ``context_reach()`` says (a dilated block that ignores its dilation, padding that
    clips the far taps, a block skipped), and a context of frame t made from other frames
    than t-1.
    """
    model = autoreg.create_model("video_pixelcnn", preset=preset)  # 8-bit, as documented
    height, width, _ = model.config.image_shape
    clips = np.zeros((3, 2, height, width, 1), np.int32)  # frame 1's context reads frame 0
    clips[1, 0, 0, 0] = 255  # the top-left pixel of frame 0
    clips[2, 0, -1, -1] = 255  # the bottom-right one
    context = np.asarray(jax.jit(model.contexts)(clips))[:, 1]  # (3, H, W, hidden)
    to_bottom_right = np.abs(context[1, -1, -1] - context[0, -1, -1]).max()
    to_top_left = np.abs(context[2, 0, 0] - context[0, 0, 0]).max()
    assert to_bottom_right > 1e-6, "the top-left pixel does not reach the bottom-right context"
    assert to_top_left > 1e-6, "the bottom-right pixel does not reach the top-left context"
    count = sum(p.size for p in jax.tree.leaves(nnx.state(model, nnx.Param)))
    assert count == parameters


def test_bad_config_fields_are_named():
    with pytest.raises(ValueError, match="lstm_kernel must be odd"):
        VideoPixelCNNConfig(lstm_kernel=2)
    with pytest.raises(ValueError, match="encoder_dilations"):
        VideoPixelCNNConfig(encoder_dilations=(1, 0))


@pytest.mark.parametrize("kernel, dilation", [(3, 1), (3, 4), (5, 2)])
def test_frame_convolutions_compute_the_same_function_both_ways(kernel, dilation):
    """The encoder's and the LSTM's convolutions through XLA (``"conv"``, the GPU/TPU path)
    equal the gathered taps (the CPU's). Catches a dense kernel scattered in the wrong tap
    order, padding that misses the far taps, or a dilation lost."""
    from flax import nnx

    from autoreg.models.video_pixelcnn import FrameConv, full_taps

    taps = full_taps(kernel, dilation)
    conv = FrameConv(3, 5, taps, impl="taps", rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(1), (2, 9, 11, 3))
    gathered = np.asarray(conv(x))
    conv.impl = "conv"
    np.testing.assert_allclose(np.asarray(conv(x)), gathered, atol=1e-5)
    moved = x.at[:, 4 + dilation * (kernel // 2), 5].add(1.0)  # the far bottom tap of (4, 5)
    assert not np.allclose(np.asarray(conv(moved))[:, 4, 5], np.asarray(conv(x))[:, 4, 5])


def test_an_inflated_model_starts_as_its_image_model_on_every_frame():
    """Catches a decoder layer or the head left at random, layers copied in the wrong order,
    and a context that moves the gates before training (its convolutions start at zero); a
    class-conditional image model's label biases are left out."""
    from autoreg.video.inflation import inflate

    image = autoreg.create_model(
        "gated_pixelcnn", preset="tiny", image_shape=(5, 5, 1), levels=LEVELS, num_classes=3
    )
    video = inflate(image, preset="tiny", image_shape=(6, 6, 1), frames=3, temporal="conv3d")
    assert video.config.features == image.config.features and video.num_classes == 0
    x = np.random.default_rng(2).integers(0, LEVELS, (2, 3, 6, 6, 1))
    no_label_bias = nnx.clone(image)
    for layer in no_label_bias.layers:
        layer.label_bias = None
    no_label_bias.config = dataclasses.replace(image.config, num_classes=0)
    expected = np.stack([np.asarray(no_label_bias(x[:, t])) for t in range(3)], axis=1)
    np.testing.assert_allclose(np.asarray(video(x)), expected, atol=1e-4)


@pytest.mark.parametrize(
    "name, overrides, message",
    [
        ("pixelcnn", {}, "inflated from a gated_pixelcnn, not pixelcnn"),
        ("gated_pixelcnn", dict(features=16), "features of the decoder are the image model's"),
        (
            "gated_pixelcnn",
            dict(image_shape=(6, 6, 3)),
            "the image model has 1 colours, the frames 3",
        ),
    ],
)
def test_inflation_refuses_what_does_not_fit(name, overrides, message):
    from autoreg.video.inflation import inflate

    image = autoreg.create_model(name, preset="tiny", image_shape=(5, 5, 1), levels=LEVELS)
    with pytest.raises(ValueError, match=message):
        inflate(image, preset="tiny", **overrides)
