"""The prepared GPU command (experiments/device_run.sh) runs end to end with --quick on the CPU,
so that it cannot rot between GPU windows, and returns what the device tool can carry back."""

import json
import os
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

import autoreg

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {
    "env.txt",
    "tests.txt",
    "speed_gpu.md",
    "train_gpu.jsonl",
    "eval_gpu.json",
    "gated_pixelcnn.tar.gz",
    "log.txt",
}


@pytest.mark.slow
def test_quick_device_run_writes_every_file(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "mnist.npz"
    np.savez(
        data,
        x_train=rng.integers(0, 256, (64, 8, 8), dtype=np.uint8),
        y_train=rng.integers(0, 10, 64),
        x_test=rng.integers(0, 256, (32, 8, 8), dtype=np.uint8),
        y_test=rng.integers(0, 10, 32),
    )
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out)}
    command = ["bash", str(ROOT / "experiments/device_run.sh"), "--quick", "--data", str(data)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    files = {p.name for p in out.iterdir()}
    assert files == EXPECTED and len(files) <= 8  # what one device call brings back
    assert all((out / f).stat().st_size < 16 * 2**20 for f in files)
    tests = (out / "tests.txt").read_text()  # --quick collects the device tables only
    assert "test_sample_equals_naive" in tests and "test_default_sampler_fits" in tests
    assert "pytest exit status 0" in tests
    speed = (out / "speed_gpu.md").read_text()
    for row in ("| forward pass |", "| cached, unroll 2 |", "| naive* |", "bfloat16 compute"):
        assert row in speed
    assert "with command buffers" in speed and "| fast, block 4, unroll 4 |" in speed
    assert json.loads((out / "eval_gpu.json").read_text())["bits_per_dim"] > 0
    assert any("test_bits_per_dim" in line for line in (out / "train_gpu.jsonl").open())
    with tarfile.open(out / "gated_pixelcnn.tar.gz") as archive:
        archive.extractall(tmp_path / "ckpt", filter="data")
    model = autoreg.load_checkpoint(tmp_path / "ckpt" / "gated_pixelcnn")
    assert model.name == "gated_pixelcnn" and model.num_classes == 10


def test_a_missing_data_file_is_one_clear_line(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path / "out")}
    command = ["bash", str(ROOT / "experiments/device_run.sh"), "--quick", "--data", "nope.npz"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "nope.npz not found" in run.stdout + run.stderr
