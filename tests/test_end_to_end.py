"""End to end through the command line, for every registry model: train a tiny model a few steps,
then load its checkpoint and sample, complete and evaluate with it.

Uses only what stays put when the registry moves: ``autoreg.MODELS``, ``load_checkpoint``,
``log_prob`` and ``autoreg.cli.main``.
"""

import json
import math

import numpy as np
import pytest
import soundfile
from PIL import Image

import autoreg
from autoreg.cli import main

SIDE = 8  # images: 8x8 grayscale
RATE = 16_000  # WaveNet's default sample rate (Hz)
WINDOW = 64  # audio samples per training / evaluation window
HOLDOUT = 0.016  # seconds held out at the end of the clip: 256 samples, 4 windows
STEPS = 3
GRID = 16  # samples in the grid that training writes at its last step


def kind(name: str) -> str:
    return autoreg.MODELS[name].model_cls.modality.name


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """(path of an .npz with 8x8 uint8 x_train/x_test, its x_test as (4, 8, 8, 1) data)."""
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (16, SIDE, SIDE), dtype=np.uint8)
    x_test = rng.integers(0, 256, (4, SIDE, SIDE), dtype=np.uint8)
    path = tmp_path_factory.mktemp("images") / "images.npz"
    np.savez(path, x_train=x_train, x_test=x_test)
    return path, x_test[..., None]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """(path of an .npy of six 3-frame 8x8 uint8 clips, the same as (6, 3, 8, 8, 1) data): one
    set of clips, its own test split."""
    x = np.random.default_rng(0).integers(0, 256, (6, 3, SIDE, SIDE), dtype=np.uint8)
    path = tmp_path_factory.mktemp("clips") / "clips.npy"
    np.save(path, x)
    return path, x[..., None]


def mu_law_audio(codes: np.ndarray, mu: int = 255) -> np.ndarray:
    """Audio in [-1, 1] whose 8-bit mu-law codes are ``codes`` (the centre of each code's bin)."""
    y = 2.0 * codes / mu - 1.0
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """(path of a 0.1 s float WAV, the (4, 64) mu-law codes of its held-out windows)."""
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, int(0.1 * RATE))
    path = tmp_path_factory.mktemp("audio") / "clip.wav"
    soundfile.write(path, mu_law_audio(codes), RATE, subtype="FLOAT")
    tail = codes[-round(HOLDOUT * RATE) :]
    return path, tail.reshape(-1, WINDOW)


def run(capsys, *argv) -> str:
    """Run ``autoreg ARGV``; assert it succeeds; return what it printed."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def bits_per_dim(model, x) -> float:
    return float(-np.mean(autoreg.log_prob(model, x)) / (x[0].size * math.log(2.0)))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_train_then_sample_complete_and_eval(name, images, audio, clips, tmp_path, capsys):
    audio_model = kind(name) == "audio"
    data, test_x = {"image": images, "audio": audio, "video": clips}[kind(name)]
    work = tmp_path / "run"
    data_options = ["--window", WINDOW, "--holdout-seconds", HOLDOUT] if audio_model else []
    out = run(
        capsys,
        *("train", "--model", name, "--preset", "tiny", "--data", data, "--workdir", work),
        *("--steps", STEPS, "--batch-size", 4, "--checkpoint-every", 2, "--log-every", 1),
        *("--eval-every", 0, "--ema", 0.5, "--no-progress", *data_options),
    )
    assert f"trained {name}" in out

    # Training: a metrics line per step, finite, a test evaluation at the end, two checkpoints.
    lines = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    train_bits = [line["train_bits_per_dim"] for line in lines if "train_bits_per_dim" in line]
    assert len(train_bits) == STEPS and all(math.isfinite(b) for b in train_bits)
    (final_test,) = [line for line in lines if "test_bits_per_dim" in line]
    assert final_test["step"] == STEPS
    assert sorted(p.name for p in (work / "checkpoints").iterdir()) == ["2", str(STEPS)]

    # The checkpoint is the model (the EMA parameters) that training evaluated at its last step.
    model = autoreg.load_checkpoint(work)
    assert model.name == name
    loaded_bits = bits_per_dim(model, test_x)
    assert loaded_bits == pytest.approx(final_test["test_bits_per_dim"], rel=1e-5)

    # Eval through the CLI agrees, and writes a finite bits/dim.
    result = tmp_path / "eval.json"
    run(capsys, "eval", "--checkpoint", work, "--data", data, "--json", result, *data_options)
    record = json.loads(result.read_text())
    assert record["num_examples"] == len(test_x) and record["model"] == name
    assert math.isfinite(record["bits_per_dim"])
    assert record["bits_per_dim"] == pytest.approx(loaded_bits, rel=1e-5)

    if audio_model:
        check_audio_sampling(capsys, work, tmp_path)
    elif kind(name) == "video":
        check_video_sampling(capsys, work, tmp_path, data)
    else:
        check_image_sampling(capsys, work, tmp_path, data)


def check_audio_sampling(capsys, work, tmp_path):
    """Sample a short clip; complete refuses an audio model with a one-line error."""
    clip = tmp_path / "sample.wav"
    run(capsys, "sample", "--checkpoint", work, "--seconds", 0.005, "--out", clip)
    samples, rate = soundfile.read(clip)
    assert rate == RATE and samples.shape == (round(0.005 * RATE),)
    assert main(["complete", "--checkpoint", str(work), "--image", "x.png"]) != 0
    err = capsys.readouterr().err
    assert "audio model" in err and len(err.strip().splitlines()) == 1


def check_video_sampling(capsys, work, tmp_path, data):
    """Sample clips and predict futures as animated GIFs; complete refuses a video model."""
    assert Image.open(work / f"samples_{STEPS}.gif").n_frames > 1  # training's last samples
    samples = tmp_path / "samples.gif"
    run(capsys, "sample", "--checkpoint", work, "--num", 2, "--out", samples)
    assert Image.open(samples).n_frames > 1
    futures = tmp_path / "futures.gif"
    args = ["--video", data, "--context", 1, "--frames", 2, "--num", 2, "--out", futures]
    run(capsys, "predict", "--checkpoint", work, *args)
    assert Image.open(futures).n_frames > 1
    assert main(["complete", "--checkpoint", str(work), "--image", "x.png"]) != 0
    err = capsys.readouterr().err
    assert "video model" in err and len(err.strip().splitlines()) == 1


def check_image_sampling(capsys, work, tmp_path, data):
    """Sample a grid (the same as training's last one) and complete the bottom halves."""
    grid = tmp_path / "samples.png"
    run(capsys, "sample", "--checkpoint", work, "--num", GRID, "--seed", STEPS, "--out", grid)
    picture = np.asarray(Image.open(grid))
    native = 2 + 4 * (SIDE + 2)  # 4x4 grid, 2px padding
    scale = 7  # the default upscaling to at least 256 px
    assert picture.shape == (scale * native, scale * native)
    # Training sampled its last grid with seed (--seed 0) + step from the same parameters, and
    # upscales it the same way.
    trained = np.asarray(Image.open(work / f"samples_{STEPS}.png"))
    np.testing.assert_array_equal(picture, trained)

    completions = tmp_path / "completions.png"
    args = ["--data", data, "--index", 0, 1, "--num", 2, "--occlude", "bottom", "--scale", 1]
    out = run(capsys, "complete", "--checkpoint", work, *args, "--out", completions)
    assert "exact" in out
    rows = np.asarray(Image.open(completions))
    assert rows.shape == (2 + 2 * (SIDE + 2), 2 + 4 * (SIDE + 2), 3)  # (input, 2, original) x 2
    for row in range(2):
        y = 2 + row * (SIDE + 2)
        x = 2 + 3 * (SIDE + 2)
        original = rows[y : y + SIDE, x : x + SIDE]
        for column in (1, 2):  # the observed top half of every completion is the original's
            x = 2 + column * (SIDE + 2)
            np.testing.assert_array_equal(rows[y : y + SIDE // 2, x : x + SIDE], original[:4])
