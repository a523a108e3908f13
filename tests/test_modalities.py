"""The modalities (``autoreg.modalities``): each kind of data answers for itself."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

import autoreg
from autoreg.errors import InputTypeError
from autoreg.modalities import AUDIO, IMAGE, MODALITIES, VIDEO, modality


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_a_models_axes_are_its_modalitys(name):
    """Every registry model names a modality whose axes are its example's (audio: time)."""
    model_cls = autoreg.MODELS[name].model_cls
    assert model_cls.modality in MODALITIES.values()
    model = autoreg.create_model(name, preset="tiny")
    length = model.modality.sample_length(model, None)  # audio: the default clip
    shape = model.modality.sample_shape(model, length, None)
    assert len(shape) == len(model.modality.axes)


@pytest.mark.parametrize(
    "kind, wrong",
    [
        (IMAGE, dict(window=800)),
        (IMAGE, dict(frames=4)),
        (AUDIO, dict(binarize=True)),
        (AUDIO, dict(frame_size=32)),
        (VIDEO, dict(patch_size=8)),
        (VIDEO, dict(mel=None)),
    ],
)
def test_an_option_of_another_kind_is_refused_by_the_type(kind, wrong):
    """The options dataclass has no such field; the message names it and what it takes."""
    (field,) = wrong
    known = ", ".join(f.name for f in dataclasses.fields(kind.options_cls))
    message = f"^{field} is not an option of {kind.name} sources \\(they take {known}\\)$"
    with pytest.raises(InputTypeError, match=message):
        kind.options(**wrong)
    with pytest.raises(TypeError):  # as the dataclass itself refuses it
        kind.options_cls(**wrong)


def test_kinds_are_named_and_an_unknown_one_is_refused():
    assert [modality(name) for name in ("image", "audio", "video")] == [IMAGE, AUDIO, VIDEO]
    with pytest.raises(ValueError, match=r"kind must be one of image, audio, video, got 'text'"):
        modality("text")


def test_each_kind_describes_a_batch_in_its_own_words():
    assert IMAGE.describe(16, (28, 28, 1)) == "16 images of 28x28x1"
    assert AUDIO.describe(1, (32000,)) == "1 clip of 32000 samples"
    assert VIDEO.describe(4, (20, 64, 64, 1)) == "4 clips of 20 frames of 64x64x1"


@pytest.mark.parametrize(
    "name, shape, message",
    [
        ("pixelcnn", (2, 4, 4), r"x must have rank 4 \(batch, height, width, channels\)"),
        ("pixelcnn", (2, 4, 5, 1), r"x has shape \(4, 5, 1\) per example, the model expects"),
        ("wavenet", (2, 3, 1), r"x must have rank 2 \(batch, time\)"),
        ("video_pixelcnn", (2, 4, 4, 1), r"rank 5 \(batch, frames, height, width, channels\)"),
        ("video_pixelcnn", (2, 7, 5, 4, 1), r"expects frames of \(4, 4, 1\)"),
    ],
)
def test_the_shape_rule_of_a_batch_is_the_modalitys(name, shape, message):
    shape_option = {} if name == "wavenet" else {"image_shape": (4, 4, 1)}
    model = autoreg.create_model(name, preset="tiny", **shape_option)
    with pytest.raises(ValueError, match=message):
        autoreg.log_prob(model, np.zeros(shape, np.int32))


def test_a_video_model_takes_any_number_of_frames_and_audio_any_length():
    video = autoreg.create_model("video_pixelcnn", preset="tiny", image_shape=(4, 4, 1))
    VIDEO.check_batch_shape(video, (2, 9, 4, 4, 1), "x")
    wavenet = autoreg.create_model("wavenet", preset="tiny")
    AUDIO.check_batch_shape(wavenet, (2, 12345), "x")
    assert AUDIO.fixed_example_shape(wavenet) is None
    assert VIDEO.fixed_example_shape(video) == video.event_shape()


def test_each_kind_writes_its_samples_file(tmp_path):
    """A PNG grid, one WAV per clip, one GIF of the clips side by side."""
    image = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
    IMAGE.write_samples(image, np.full((4, 4, 4, 1), 3), tmp_path / "s.png", scale=1)
    assert np.asarray(Image.open(tmp_path / "s.png")).max() == 255
    wavenet = autoreg.create_model("wavenet", preset="tiny")
    AUDIO.write_samples(wavenet, np.full((2, 100), 128), tmp_path / "s.wav")
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["s_0.wav", "s_1.wav"]
    video = autoreg.create_model("video_pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
    clips = np.broadcast_to(np.arange(3)[None, :, None, None, None], (2, 3, 4, 4, 1))
    VIDEO.write_samples(video, clips, tmp_path / "s.gif", scale=1)  # frames of 0, 1, 2
    assert autoreg.data.load_clips(tmp_path / "s.gif").shape[:2] == (1, 3)  # a clip of 3 frames


def test_audio_options_refuse_speakers_without_mel():
    with pytest.raises(ValueError, match="speaker_from and speakers are for mel windows"):
        AUDIO.options(speaker_from="parent")
