"""Vocoding: a mel-conditioned WaveNet end to end (train, eval, sample, vocode) and its errors."""

import json

import numpy as np
import pytest
import soundfile

import autoreg
from autoreg.cli import main
from autoreg.data.mel import MelAnalysis, log_mel
from autoreg.vocode import vocode

MEL = dict(sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=8, fmax=4000.0)
TINY = dict(local_features=8, hop_length=64, sample_rate=8000, mel=MEL, upsample_context=1)


def speech_like(seconds, seed):
    t = np.arange(int(seconds * 8000)) / 8000
    noise = np.random.default_rng(seed).normal(0, 0.02, t.shape)
    return (0.4 * np.sin(2 * np.pi * (200 + 100 * seed) * t) * (t % 0.4 < 0.25) + noise).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def speakers(tmp_path_factory):
    root = tmp_path_factory.mktemp("voices")
    for i, name in enumerate(["ann", "bob"]):
        (root / name).mkdir()
        soundfile.write(root / name / "clip.wav", speech_like(3.0, i), 8000)
    return root


def test_vocode_continues_segments_and_starts_like_sample():
    model = autoreg.create_model("wavenet", preset="tiny", levels=16, seed=2, **TINY)
    features = log_mel(speech_like(0.5, 0), MelAnalysis(**MEL))  # 62 frames
    audio = vocode(model, features, seed=3, segment_frames=20)
    assert audio.shape == (62 * 64,) and audio.dtype == np.float32
    first = autoreg.sample(model, 3, 1, features=features[None, :20])
    np.testing.assert_array_equal(
        autoreg.data.audio.mu_law_encode(audio[: 20 * 64], 16), np.asarray(first)[0]
    )


@pytest.mark.slow
def test_train_eval_sample_and_vocode_a_speaker_vocoder(speakers, tmp_path, capsys):
    work = tmp_path / "run"
    sets = [f"--set={k}={json.dumps(v)}" for k, v in TINY.items()]
    args = ["train", "--model", "wavenet", "--preset", "tiny", "--data", str(speakers)]
    args += [*sets, "--workdir", str(work), "--window", "640", "--steps", "2", "--batch-size", "2"]
    args += ["--speaker-from", "parent", "--no-progress", "--eval-examples", "2"]
    args += ["--levels", "16", "--holdout-seconds", "1"]
    assert main(args) == 0
    model = autoreg.load_checkpoint(work)
    assert model.config.speakers == ("ann", "bob") and model.num_classes == 2
    assert (
        main(
            [
                "eval",
                "--checkpoint",
                str(work),
                "--data",
                str(speakers),
                "--holdout-seconds",
                "1",
                "--speaker-from",
                "parent",
            ]
        )
        == 0
    )
    assert "bits/sample given the mel" in capsys.readouterr().out
    clip = speakers / "ann" / "clip.wav"
    out = tmp_path / "ann.wav"
    base = ["vocode", "--checkpoint", str(work), "--audio", str(clip), "--no-progress"]
    assert main([*base, "--speaker", "ann", "--out", str(out)]) == 0
    audio, rate = soundfile.read(out)
    assert rate == 8000 and len(audio) == 3 * 8000 // 64 * 64
    assert main([*base, "--out", str(out)]) == 2  # no speaker: a validation error
    assert "speaker-conditioned: pass --speaker" in capsys.readouterr().err
    mel = tmp_path / "mel.npy"
    np.save(mel, log_mel(speech_like(0.25, 1), MelAnalysis(**MEL)))
    out = tmp_path / "s.wav"
    sample = ["sample", "--checkpoint", str(work), "--features", str(mel), "--label", "1"]
    assert main([*sample, "--out", str(out)]) == 0
    assert len(soundfile.read(out)[0]) == 31 * 64
    assert (
        main(
            [
                "vocode",
                "--checkpoint",
                str(work),
                "--mel",
                str(mel),
                "--method",
                "griffin-lim",
                "--out",
                str(out),
            ]
        )
        == 0
    )


def test_eval_of_a_vocoder_skips_clips_shorter_than_the_holdout(tmp_path, capsys):
    model = autoreg.create_model("wavenet", preset="tiny", levels=16, **TINY)
    checkpoint = autoreg.save_checkpoint(model, tmp_path / "voc")
    clips = tmp_path / "clips"
    clips.mkdir()
    for i, (name, seconds) in enumerate((("long", 1.5), ("short", 0.5))):
        soundfile.write(clips / f"{name}.wav", speech_like(seconds, i), 8000)
    out = tmp_path / "r.json"
    args = ["eval", "--checkpoint", str(checkpoint), "--data", str(clips), "--json", str(out)]
    assert main([*args, "--holdout-seconds", "1"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        f"autoreg: warning: skipped 1 clip shorter than the 1.0 s held out: "
        f"{clips / 'short.wav'} (0.50 s)"
    ]
    assert json.loads(out.read_text())["num_examples"] == 1  # the last second of long.wav
    assert main([*args, "--holdout-seconds", "2"]) == 2  # no clip left: refused
    assert "every clip is shorter than the 2.0 s held out" in capsys.readouterr().err


def test_vocode_errors_are_one_line(speakers, tmp_path, capsys):
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(8000, np.float32), 8000)
    bad_mel = tmp_path / "bad.npy"
    np.save(bad_mel, np.zeros((10, 3), np.float32))
    model = autoreg.create_model("wavenet", preset="tiny", levels=16, **TINY)
    ckpt = autoreg.save_checkpoint(model, tmp_path / "voc")
    plain = autoreg.save_checkpoint(autoreg.create_model("wavenet", preset="tiny"), tmp_path / "u")
    out = str(tmp_path / "x.wav")
    cases = [
        (["--checkpoint", str(ckpt)], "exactly one of --audio"),
        (["--checkpoint", str(ckpt), "--audio", str(silent)], "is silent"),
        (["--checkpoint", str(ckpt), "--mel", str(bad_mel)], r"shape (frames, 8)"),
        (["--checkpoint", str(plain), "--audio", str(silent)], "not a mel-conditioned vocoder"),
        (["--checkpoint", str(ckpt), "--audio", str(tmp_path / "none.wav")], "not found"),
    ]
    for extra, message in cases:
        assert main(["vocode", *extra, "--out", out]) != 0
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err


@pytest.mark.slow
def test_shipped_vocoder_vocodes_real_speech(shared_data, tmp_path):
    from autoreg.pretrained import load_pretrained, pretrained_path

    if pretrained_path("wavenet_vocoder") is None:
        pytest.skip("no shipped wavenet_vocoder")
    model = load_pretrained("wavenet_vocoder")
    audio, _ = soundfile.read(
        shared_data / "audio" / "librispeech-198-209-0000.ogg", dtype="float32"
    )
    clip = tmp_path / "second.wav"
    soundfile.write(clip, audio[16000:32000], 16000)
    out = tmp_path / "out.wav"
    assert main(["vocode", "--audio", str(clip), "--out", str(out), "--no-progress"]) == 0
    assert len(soundfile.read(out)[0]) == 16000 // 256 * 256
    features = log_mel(audio[-32000:], model.config.mel)
    codes = autoreg.data.audio.mu_law_encode(audio[-32000:][: len(features) * 256])
    given_mel = autoreg.bits_per_dim(model, codes[None], features=features[None])
    unconditional = autoreg.bits_per_dim(load_pretrained("wavenet"), codes[None])
    assert given_mel < unconditional - 0.3  # held-out audio: 4.86 against 5.24
