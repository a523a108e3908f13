"""Resources and signals: training and vocoding sized against the memory budget before any work,
SIGTERM/SIGINT stop training at a step with a checkpoint, a missing coordinator times out."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
import soundfile

import autoreg
from autoreg.checkpoint import param_tree, read_metadata
from autoreg.cli import main
from autoreg.memory import MemoryBudgetError, format_bytes, training_bytes
from autoreg.training import TrainConfig, train_arrays

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (8, 8, 1)
MEL = dict(sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=8, fmax=4000.0)
VOCODER = dict(local_features=8, hop_length=64, sample_rate=8000, mel=MEL, upsample_context=1)


def tiny_model():
    return autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=SHAPE)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """An .npz of random 8-bit (N, 8, 8, 1) train and test images."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "images.npz"
    x = rng.integers(0, 256, size=(80, *SHAPE), dtype=np.uint8)
    np.savez(path, x_train=x[:64], x_test=x[64:])
    return path


def train_args(images, workdir, *extra) -> list:
    return [
        "train",
        "--model",
        "pixelcnn",
        "--preset",
        "tiny",
        "--data",
        str(images),
        "--levels",
        "4",
        "--workdir",
        str(workdir),
        "--batch-size",
        "8",
        "--eval-every",
        "0",
        "--sample-every",
        "-1",
        "--no-progress",
        *extra,
    ]


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- memory -------------------------------------------------------------------------------------


def test_training_over_the_limit_is_refused_before_the_workdir_is_touched(
    images, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("AUTOREG_MEMORY_LIMIT", "1K")
    workdir = tmp_path / "work"
    assert main(train_args(images, workdir, "--steps", "2")) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("autoreg: error: training pixelcnn with a batch of 8 images"), line
    assert "KiB, more than the memory limit of 1.00 KiB" in line, line
    assert "not even one example per device fits" in line, line
    assert not workdir.exists()


def test_a_huge_batch_is_refused_naming_the_largest_batch_that_fits(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOREG_MEMORY_LIMIT", "64M")
    model = tiny_model()
    x = np.zeros((20000, *SHAPE), np.uint8)
    with pytest.raises(
        MemoryBudgetError, match=r"batch size of at most \d+ \(--batch-size"
    ) as caught:
        train_arrays(
            model, x, tmp_path / "work", TrainConfig(steps=1, batch_size=20000), progress=False
        )
    best = int(str(caught.value).split("batch size of at most ")[1].split()[0].rstrip(")"))
    assert 0 < best < 20000
    assert training_bytes(model, best, SHAPE) <= 64 * 2**20 < training_bytes(model, best + 1, SHAPE)
    assert not (tmp_path / "work").exists()


def test_the_training_estimate_is_of_the_order_xla_asks_for():
    # XLA asked for 419 GB for the reference PixelCNN on MNIST at --batch-size 20000.
    model = autoreg.create_model("pixelcnn", preset="reference", image_shape=(28, 28, 1))
    needed = training_bytes(model, 20000, (28, 28, 1))
    assert 100 * 2**30 < needed < 2000 * 2**30, format_bytes(needed)
    assert training_bytes(model, 32, (28, 28, 1)) < 2 * 2**30  # the default batch fits a laptop


def test_small_sizes_read_in_small_units():
    assert format_bytes(1024) == "1.00 KiB" and format_bytes(3 * 2**20) == "3.00 MiB"


@pytest.fixture(scope="module")
def vocoder(tmp_path_factory) -> Path:
    model = autoreg.create_model("wavenet", preset="tiny", levels=16, **VOCODER)
    return autoreg.save_checkpoint(model, tmp_path_factory.mktemp("voc") / "vocoder")


def test_audio_at_a_tiny_rate_is_refused_before_it_is_resampled(
    vocoder, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("AUTOREG_MEMORY_LIMIT", "64M")
    wav = tmp_path / "slow.wav"
    soundfile.write(wav, np.sin(np.arange(2000) / 3.0).astype(np.float32), 1)  # 1 Hz
    started = time.monotonic()
    code = main(["vocode", "--checkpoint", str(vocoder), "--audio", str(wav), "--out", "o.wav"])
    assert code == 2 and time.monotonic() - started < 20
    line = one_line(capsys.readouterr().err)
    assert "analysing slow.wav (2000 samples at 1 Hz, 16000000 at 8000 Hz)" in line, line
    assert "MiB, more than the memory limit of 64.00 MiB" in line, line


@pytest.mark.parametrize("method", ["griffin-lim", "wavenet"])
def test_a_long_mel_over_the_limit_is_refused_before_the_work(
    vocoder, method, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("AUTOREG_MEMORY_LIMIT", "4M")
    mel = tmp_path / "long.npy"
    np.save(mel, np.zeros((20000, 8), np.float32))
    out = tmp_path / "o.wav"
    argv = ["vocode", "--checkpoint", str(vocoder), "--mel", str(mel), "--method", method]
    assert main([*argv, "--out", str(out)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "20000 frames" in line and "memory limit of 4.00 MiB" in line, line
    assert not out.exists()


# --- signals ------------------------------------------------------------------------------------

STEPS = 400  # long enough that a signal sent once training has begun arrives before the end


@pytest.fixture(scope="module")
def uninterrupted(images, tmp_path_factory) -> dict:
    """The parameters after STEPS steps of a run that nothing interrupted."""
    workdir = tmp_path_factory.mktemp("reference") / "work"
    args = train_args(images, workdir, "--steps", str(STEPS), "--checkpoint-every", "1000")
    assert main(args) == 0
    return jax.tree.map(np.asarray, param_tree(autoreg.load_checkpoint(workdir)))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.slow
def test_a_signal_stops_training_with_a_checkpoint_and_resume_is_exact(
    images, uninterrupted, signum, tmp_path, capsys
):
    workdir = tmp_path / "work"
    argv = train_args(images, workdir, "--steps", str(STEPS), "--checkpoint-every", "1000")
    argv += ["--log-every", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "autoreg.cli", *argv],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = workdir / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.is_file() and metrics.read_text().strip()):  # training has begun
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, err
    line = one_line(err)
    name = signal.Signals(signum).name
    assert line.startswith(f"autoreg: stopped by {name} at step "), line
    assert "checkpoint saved" in line and "--resume" in line, line
    step = int(line.split(" at step ")[1].split(";")[0])
    assert 0 < step < STEPS
    # The checkpoint of the step it stopped at is whole and says so (a half-written one, or
    # one of an earlier step under this name, fails here).
    assert read_metadata(workdir / "checkpoints" / str(step))["step"] == step
    autoreg.load_checkpoint(workdir / "checkpoints" / str(step))  # every array restores

    assert main([*argv, "--resume"]) == 0, capsys.readouterr().err
    resumed = jax.tree.map(np.asarray, param_tree(autoreg.load_checkpoint(workdir)))
    jax.tree.map(np.testing.assert_array_equal, resumed, uninterrupted)


def test_signal_handlers_are_restored_after_training(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    x = np.zeros((16, *SHAPE), np.uint8)
    train_arrays(
        tiny_model(), x, tmp_path / "w", TrainConfig(steps=1, batch_size=8), progress=False
    )
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


# --- distributed --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_coordinator_that_never_appears_times_out_in_one_line(images, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once closed
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JAX_COORDINATOR_ADDRESS": address,
        "JAX_NUM_PROCESSES": "2",
        "JAX_PROCESS_ID": "1",
        "AUTOREG_COORDINATOR_TIMEOUT": "2",
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autoreg.cli", *train_args(images, tmp_path / "w", "--steps", "1")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert address in line and "2 s" in line and "AUTOREG_COORDINATOR_TIMEOUT" in line, line
