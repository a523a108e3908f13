"""Log-mel features (librosa), Griffin-Lim, and frame-aligned vocoder windows."""

import logging

import numpy as np
import pytest
import soundfile

from autoreg.data.audio import audio_windows, mu_law_encode
from autoreg.data.mel import MelAnalysis, check_mel_shape, log_mel, mel_to_audio
from autoreg.data.mel_windows import mel_windows
from autoreg.models.wavenet import WaveNetConfig

SMALL = MelAnalysis(
    sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=16, fmax=4000
)


def tone(seconds, rate=8000, freq=440.0, seed=0):
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.01, t.shape)
    return (0.3 * np.sin(2 * np.pi * freq * t) * (t % 0.5 < 0.3) + noise).astype(np.float32)


@pytest.mark.filterwarnings("ignore:n_fft=256 is too large:UserWarning")  # the 100-sample clip
def test_log_mel_has_one_frame_per_hop_and_silence_is_zero():
    audio = tone(1.0)
    features = log_mel(audio, SMALL)
    assert features.shape == (8000 // 64, 16) and features.dtype == np.float32
    assert (features >= 0).all() and features.max() > 1
    np.testing.assert_array_equal(log_mel(np.zeros(640, np.float32), SMALL), 0.0)
    assert log_mel(audio[:100], SMALL).shape == (1, 16)  # T // hop frames


def test_log_mel_rejects_bad_input():
    with pytest.raises(ValueError, match="shorter than one frame"):
        log_mel(np.zeros(10, np.float32), SMALL)
    with pytest.raises(ValueError, match="one float clip"):
        log_mel(np.zeros((2, 640), np.float32), SMALL)
    with pytest.raises(ValueError, match=r"shape \(frames, 16\)"):
        check_mel_shape(np.zeros((5, 8)), 16)
    with pytest.raises(ValueError, match="fmax"):
        MelAnalysis(fmax=9000.0)


def test_griffin_lim_resynthesises_the_loudness_envelope():
    audio = tone(1.0)
    features = log_mel(audio, SMALL)
    out = mel_to_audio(features, SMALL, n_iter=8)
    assert out.shape == (len(features) * 64,) and out.dtype == np.float32
    again = log_mel(out, SMALL)
    energy = features.mean(1), again.mean(1)
    assert np.corrcoef(*energy)[0, 1] > 0.9


def test_analysis_is_part_of_the_config_and_survives_json():
    cfg = WaveNetConfig(local_features=16, hop_length=64, sample_rate=8000, mel=SMALL)
    from autoreg.models.config_io import config_from_dict, config_to_dict

    assert config_from_dict(WaveNetConfig, config_to_dict(cfg)) == cfg
    with pytest.raises(ValueError, match="must equal the model's"):
        WaveNetConfig(local_features=8, hop_length=64, sample_rate=8000, mel=SMALL)


@pytest.fixture(scope="module")
def speakers(tmp_path_factory):
    root = tmp_path_factory.mktemp("speakers")
    for i, name in enumerate(["ann", "bob"]):
        (root / name).mkdir()
        soundfile.write(root / name / "a.wav", tone(2.5, freq=300 + 200 * i, seed=i), 8000)
    return root


def test_windows_start_on_frames_with_their_context_and_speakers(speakers):
    w = mel_windows(speakers, SMALL, 640, context=2, num=12, speaker_from="parent", seed=1)
    assert w.examples.shape == (12, 640) and w.features.shape == (12, 2 + 10, 16)
    assert w.speaker_names == ("ann", "bob") and set(w.labels) <= {0, 1}
    for codes, features, speaker in zip(w.examples, w.features, w.labels, strict=True):
        audio = soundfile.read(speakers / w.speaker_names[speaker] / "a.wav", dtype="float32")[0]
        part = audio[: len(audio) - 16000][: (len(audio) - 16000) // 64 * 64]  # training part
        all_codes = mu_law_encode(part)
        starts = [
            s for s in range(0, len(part) - 639, 64) if (all_codes[s : s + 640] == codes).all()
        ]
        assert starts, "a window that starts between frames"
        frame = starts[0] // 64
        mel = np.concatenate([np.zeros((2, 16), np.float32), log_mel(part, SMALL)])
        np.testing.assert_allclose(features, mel[frame : frame + 12], atol=1e-5)


def test_heldout_windows_are_the_tails_with_their_own_mel(speakers):
    w = mel_windows(speakers, SMALL, None, context=2, split="heldout", speaker_from="stem")
    assert w.examples.shape == (2, 16000) and w.features.shape == (2, 2 + 250, 16)
    np.testing.assert_array_equal(w.features[:, :2], 0.0)  # nothing before the tail is seen
    assert w.speaker_names == ("a",)
    with pytest.raises(ValueError, match="unknown to the model"):
        mel_windows(speakers, SMALL, 640, context=2, speaker_from="parent", speakers=("ann",))


def test_heldout_windows_skip_clips_shorter_than_the_tail_as_plain_windows_do(tmp_path, caplog):
    for i, (name, seconds) in enumerate((("ann", 0.5), ("bob", 2.0), ("cat", 1.5))):
        (tmp_path / name).mkdir()
        soundfile.write(tmp_path / name / "a.wav", tone(seconds, seed=i), 8000)
    heldout = dict(split="heldout", holdout_seconds=1.0)
    with caplog.at_level(logging.WARNING, logger="autoreg"):
        mel = mel_windows(tmp_path, SMALL, None, context=2, speaker_from="parent", **heldout)
        plain, files = audio_windows(tmp_path, 8000, None, return_sources=True, **heldout)
    skipped = (
        f"skipped 1 clip shorter than the 1.0 s held out: {tmp_path / 'ann' / 'a.wav'} (0.50 s)"
    )
    assert [record.getMessage() for record in caplog.records] == [skipped, skipped]
    assert mel.speaker_names == ("ann", "bob", "cat") and list(mel.labels) == [1, 2]
    assert list(files) == [1, 2]  # bob and cat, by their index among all the files
    np.testing.assert_array_equal(mel.examples, plain)  # the same tails, 125 whole frames each
    with pytest.raises(ValueError, match="every clip is shorter than the 2.5 s held out: .*ann"):
        mel_windows(tmp_path, SMALL, None, context=2, split="heldout", holdout_seconds=2.5)
    with pytest.raises(ValueError, match="too short for a 1.0 s held-out tail"):
        mel_windows(tmp_path, SMALL, 640, context=2, holdout_seconds=1.0)  # training: refused
