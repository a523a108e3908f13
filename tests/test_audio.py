"""Audio data: the mu-law codec, reading and resampling, windows and held-out tails, WAV writing."""

import logging
import re

import numpy as np
import pytest
import soundfile

from autoreg.data.audio import (
    audio_dataset,
    audio_windows,
    load_clips,
    mu_law_decode,
    mu_law_encode,
    read_audio,
    write_wav,
)


@pytest.mark.parametrize("levels", [256, 16])
def test_mu_law_endpoints_are_exact(levels):
    np.testing.assert_array_equal(mu_law_encode(np.array([-1.0, 1.0]), levels), [0, levels - 1])
    np.testing.assert_array_equal(mu_law_decode(np.array([0, levels - 1]), levels), [-1.0, 1.0])


@pytest.mark.parametrize("levels", [256, 16])
def test_mu_law_is_monotonic_and_codes_round_trip(levels):
    x = np.linspace(-1.0, 1.0, 100_001)
    codes = mu_law_encode(x, levels)
    assert np.all(np.diff(codes) >= 0)
    assert set(np.unique(codes)) == set(range(levels))  # every code is reachable
    decoded = mu_law_decode(np.arange(levels), levels)
    assert np.all(np.diff(decoded) > 0)
    np.testing.assert_array_equal(mu_law_encode(decoded, levels), np.arange(levels))


def test_mu_law_round_trip_error_is_bounded_by_the_quantisation_step():
    x = np.random.default_rng(0).uniform(-1.0, 1.0, 200_000)
    x[:3] = [0.0, 1e-7, -1e-7]
    codes = mu_law_encode(x)
    decoded = mu_law_decode(codes).astype(np.float64)

    def compand(v):
        return np.sign(v) * np.log1p(255 * np.abs(v)) / np.log1p(255)

    # Uniform quantisation of the companded signal: within half a step (1 / mu) there.
    assert np.abs(compand(decoded) - compand(x)).max() <= 1 / 255 + 1e-9
    # In the signal itself: within the local step, and half of it away from full scale.
    steps = np.diff(mu_law_decode(np.arange(256)).astype(np.float64))  # (255,)
    local = np.maximum(steps[np.clip(codes - 1, 0, 254)], steps[np.clip(codes, 0, 254)])
    error = np.abs(decoded - x)
    assert np.all(error <= local)
    inner = (codes > 0) & (codes < 255)
    assert np.all(error[inner] <= 0.5 * local[inner] + 1e-9)
    assert steps.min() < 2e-4 < 0.03 < steps.max()  # fine near 0, coarse near full scale


def test_mu_law_rejects_bad_input():
    with pytest.raises(TypeError, match="float audio"):
        mu_law_encode(np.array([0, 100], np.int16))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        mu_law_encode(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="NaN"):
        mu_law_encode(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="0..255"):
        mu_law_decode(np.array([0, 256]))
    with pytest.raises(TypeError, match="integer codes"):
        mu_law_decode(np.array([0.5]))
    with pytest.raises(ValueError, match="levels"):
        mu_law_encode(np.zeros(3), levels=1)


def sine(seconds, rate, freq=440.0, amplitude=0.5):
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_read_mixes_down_and_resamples(tmp_path):
    left = sine(0.5, 22050)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)  # (T, 2)
    soundfile.write(tmp_path / "a.wav", stereo, 22050)
    audio = read_audio(tmp_path / "a.wav", 16000)
    assert audio.dtype == np.float32 and audio.shape == (8000,)
    reference = sine(0.5, 16000) / 2  # the mean of the two channels, at 16 kHz
    assert np.abs(audio[100:-100] - reference[100:-100]).max() < 0.01
    with pytest.raises(ValueError, match="22050 Hz, not 16000 Hz"):
        read_audio(tmp_path / "a.wav", 16000, resample=False)


@pytest.mark.parametrize(("suffix", "subtype"), [(".flac", "PCM_16"), (".ogg", "VORBIS")])
def test_reads_flac_and_ogg(tmp_path, suffix, subtype):
    soundfile.write(tmp_path / f"a{suffix}", sine(0.25, 16000), 16000, subtype=subtype)
    audio = read_audio(tmp_path / f"a{suffix}", 16000)
    assert audio.shape == (4000,)
    assert np.abs(audio[500:-500] - sine(0.25, 16000)[500:-500]).max() < 0.05


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_audio(tmp_path / "missing.wav", 16000)
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(ValueError, match="empty"):
        read_audio(tmp_path / "empty.wav", 16000)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x01junk" * 20)
    with pytest.raises(ValueError, match="cannot read audio file"):
        read_audio(tmp_path / "corrupt.wav", 16000)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("no audio here")
    with pytest.raises(ValueError, match="no audio files"):
        load_clips(tmp_path / "notes", 16000)


def test_windows_never_reach_into_the_heldout_tail(tmp_path):
    quiet = np.zeros(16000, np.float32)  # 1 s of code 128, then 1 s at full scale
    loud = np.full(16000, 0.99, np.float32)
    soundfile.write(tmp_path / "a.wav", np.concatenate([quiet, loud]), 16000, subtype="FLOAT")
    soundfile.write(tmp_path / "b.wav", np.concatenate([quiet, loud]), 16000, subtype="FLOAT")
    train, sources = audio_windows(
        tmp_path, 16000, 400, num=50, holdout_seconds=1.0, seed=1, return_sources=True
    )
    assert train.shape == (50, 400) and train.dtype == np.int32
    assert set(np.unique(train)) == {128}
    assert set(sources) == {0, 1}
    heldout = audio_windows(tmp_path, 16000, None, split="heldout", holdout_seconds=1.0)
    assert heldout.shape == (2, 16000) and set(np.unique(heldout)) == {255}
    tiles = audio_windows(tmp_path, 16000, 5000, split="heldout", holdout_seconds=1.0)
    assert tiles.shape == (6, 5000)
    with pytest.raises(ValueError, match="too short"):
        audio_windows(tmp_path, 16000, 16001, holdout_seconds=1.0)
    with pytest.raises(ValueError, match="too short"):
        audio_windows(tmp_path, 16000, 100, holdout_seconds=2.0)
    with pytest.raises(ValueError, match="split"):
        audio_windows(tmp_path, 16000, 100, split="test")
    data = audio_dataset(tmp_path, 16000, 400, num=6, holdout_seconds=1.0, label_by_file=True)
    assert data.examples.shape == (6, 400) and data.levels == 256
    assert set(data.labels) <= {0, 1} and str(tmp_path) in data.source


def test_heldout_skips_clips_shorter_than_the_tail_and_keeps_file_indices(tmp_path, caplog):
    for name, seconds in (("a", 0.5), ("b", 2.0), ("c", 2.0)):
        soundfile.write(tmp_path / f"{name}.wav", sine(seconds, 16000), 16000)
    skipped = rf"skipped 1 clip shorter than the 1.0 s held out: {tmp_path / 'a.wav'} \(0.50 s\)"
    with caplog.at_level(logging.WARNING, logger="autoreg"):
        codes, sources = audio_windows(
            tmp_path, 16000, None, split="heldout", holdout_seconds=1.0, return_sources=True
        )
    assert len(caplog.records) == 1 and re.fullmatch(skipped, caplog.records[0].getMessage())
    assert codes.shape == (2, 16000) and list(sources) == [1, 2]  # b and c keep their labels
    with pytest.raises(ValueError, match="every clip is shorter than the 3.0 s held out"):
        audio_windows(tmp_path, 16000, None, split="heldout", holdout_seconds=3.0)


def test_write_wav_round_trips_codes_atomically(tmp_path):
    codes = np.random.default_rng(0).integers(0, 256, 3000)
    path = write_wav(tmp_path / "out" / "x.wav", codes, 16000)
    write_wav(path, codes, 16000)  # overwriting is fine
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.wav"]  # no temporary left
    data, rate = soundfile.read(path, dtype="float32")
    assert rate == 16000 and soundfile.info(path).subtype == "PCM_16"
    np.testing.assert_array_equal(mu_law_encode(data), codes)
    write_wav(tmp_path / "f.wav", sine(0.1, 8000), 8000)
    assert soundfile.info(tmp_path / "f.wav").frames == 800


def test_write_wav_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(T,\)"):
        write_wav(tmp_path / "a.wav", np.zeros((2, 10), np.int32), 16000)
    with pytest.raises(ValueError, match="empty"):
        write_wav(tmp_path / "a.wav", np.zeros(0, np.int32), 16000)
    with pytest.raises(ValueError, match="0..255"):
        write_wav(tmp_path / "a.wav", np.array([0, 300]), 16000)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        write_wav(tmp_path / "a.wav", np.array([0.0, 2.0]), 16000)
    with pytest.raises(TypeError, match="booleans"):
        write_wav(tmp_path / "a.wav", np.array([True]), 16000)
    with pytest.raises(ValueError, match="sample_rate"):
        write_wav(tmp_path / "a.wav", np.array([1, 2]), 0)
    assert list(tmp_path.iterdir()) == []


def test_real_clips_load_at_16khz(shared_data):
    clips = load_clips(shared_data / "audio", 16000)
    assert len(clips) == 5
    lengths = {name.rsplit("/", 1)[-1]: len(codes) for name, codes in clips.items()}
    # 45.8 s of Brahms at 22.05 kHz, resampled; LibriSpeech is already at 16 kHz.
    assert abs(lengths["brahms-hungarian-dance-5.ogg"] / 16000 - 45.8) < 0.1
    assert lengths["librispeech-198-209-0000.ogg"] == 222561
    for codes in clips.values():
        assert codes.dtype == np.int32 and codes.min() >= 0 and codes.max() <= 255
        assert len(np.unique(codes)) > 100  # real signals use much of the code range
