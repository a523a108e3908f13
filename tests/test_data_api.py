"""The Python API end to end: ``autoreg.data.load`` of each kind of source, then ``autoreg.train``
and ``autoreg.evaluate`` on the datasets it returns."""

import json

import numpy as np
import pytest
import soundfile

import autoreg
from autoreg.data import Dataset, MissingSplit

MEL = dict(sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=8, fmax=4000.0)
VOCODER = dict(local_features=8, hop_length=64, sample_rate=8000, mel=MEL, upsample_context=1)
CONFIG = autoreg.TrainConfig(steps=2, batch_size=2, eval_examples=2, sample_every=-1)


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    """An MNIST-style .npz of 8x8 images with class labels 0..9, both splits."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("npz") / "digits.npz"
    images = rng.integers(0, 256, (14, 8, 8), np.uint8)
    labels = np.arange(14) % 10
    np.savez(path, x_train=images[:10], y_train=labels[:10], x_test=images[10:], y_test=labels[10:])
    return path


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """Two speakers' folders of one 2.5 s clip each, at 8 kHz."""
    root = tmp_path_factory.mktemp("voices")
    t = np.arange(20_000) / 8000
    for i, name in enumerate(["ann", "bob"]):
        (root / name).mkdir()
        audio = 0.4 * np.sin(2 * np.pi * (200 + 100 * i) * t) * (t % 0.4 < 0.25)
        soundfile.write(root / name / "clip.wav", audio.astype(np.float32), 8000)
    return root


def test_load_an_npz_with_labels(npz):
    train_set = autoreg.data.load(npz, split="train", levels=4)
    test_set = autoreg.data.load(str(npz), split="test", levels=4)
    assert isinstance(train_set, Dataset) and train_set.features is None
    assert train_set.examples.shape == (10, 8, 8, 1) and train_set.examples.max() < 4
    assert train_set.labels.tolist() == list(range(10)) and train_set.levels == 4
    assert len(test_set) == 4 and test_set.labels.tolist() == [0, 1, 2, 3]
    assert test_set.source == str(npz)


def test_a_missing_test_split_is_missing_split(tmp_path):
    np.savez(tmp_path / "only.npz", x_train=np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(MissingSplit):
        autoreg.data.load(tmp_path / "only.npz", split="test")
    train_set, test_set = autoreg.data.load_pair(tmp_path / "only.npz")
    assert len(train_set) == 3 and test_set is None


def test_load_an_audio_folder_as_windows(voices):
    options = dict(kind="audio", sample_rate=8000, holdout_seconds=1.0, label_by_file=True)
    train_set = autoreg.data.load(voices, window=400, num=6, **options)
    assert train_set.examples.shape == (6, 400) and train_set.features is None
    assert set(train_set.labels) <= {0, 1}
    tails = autoreg.data.load(voices, split="test", **options)  # each held-out second whole
    assert tails.examples.shape == (2, 8000) and tails.labels.tolist() == [0, 1]
    with pytest.raises(ValueError, match="binarize is not an option of audio sources"):
        autoreg.data.load(voices, kind="audio", binarize=True)


def test_load_mel_windows_with_speakers(voices):
    mel = autoreg.data.mel.MelAnalysis(**MEL)
    options = dict(kind="audio", mel=mel, context=1, speaker_from="parent", holdout_seconds=1.0)
    windows = autoreg.data.load(voices, window=640, num=4, levels=16, **options)
    assert windows.examples.shape == (4, 640) and windows.features.shape == (4, 1 + 10, 8)
    assert windows.speaker_names == ("ann", "bob") and set(windows.labels) <= {0, 1}
    assert windows.take(2).features.shape == (2, 11, 8)


@pytest.mark.slow
def test_train_and_evaluate_a_class_conditional_image_model(npz, tmp_path):
    train_set = autoreg.data.load(npz, split="train", levels=4)
    test_set = autoreg.data.load(npz, split="test", levels=4)
    model = autoreg.create_model(
        "gated_pixelcnn", preset="tiny", image_shape=(8, 8, 1), levels=4, num_classes=10
    )
    trained = autoreg.train(model, train_set, test_set, workdir=tmp_path / "run", config=CONFIG)
    assert trained is model
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert any("test_bits_per_dim" in line for line in lines)
    result = autoreg.evaluate(model, test_set, limit=2, progress=False)
    assert result.num_examples == 2 and np.isfinite(result.bits_per_dim)
    unlabelled = autoreg.data.load(npz, split="test", levels=4)  # labels ignored by this one
    plain = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(8, 8, 1), levels=4)
    assert autoreg.evaluate(plain, unlabelled, limit=2, progress=False).num_examples == 2
    with pytest.raises(ValueError, match="K=256 levels"):
        autoreg.evaluate(plain, autoreg.data.load(npz, split="test"), progress=False)


def test_train_and_evaluate_a_mel_conditioned_wavenet(voices, tmp_path):
    model = autoreg.create_model(
        "wavenet", preset="tiny", levels=16, num_classes=2, speakers=("ann", "bob"), **VOCODER
    )
    options = dict(mel=model.config.mel, context=model.config.upsample_context)
    options.update(kind="audio", levels=16, speaker_from="parent", holdout_seconds=1.0)
    train_set = autoreg.data.load(voices, split="train", window=640, num=4, **options)
    test_set = autoreg.data.load(voices, split="test", window=640, **options)
    autoreg.train(model, train_set, test_set, workdir=tmp_path / "run", config=CONFIG)
    assert autoreg.load_checkpoint(tmp_path / "run").config.speakers == ("ann", "bob")
    result = autoreg.evaluate(model, test_set, limit=2, progress=False)
    assert result.num_examples == 2 and result.dims_per_example == 640
    assert np.isfinite(result.bits_per_dim)
