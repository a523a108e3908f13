"""Two processes on 127.0.0.1 train as one: the same checkpoint as one process with the same
seed and global batch, also after --resume; metrics written once."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autoreg
from autoreg.cli import main

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 120  # seconds each two-process launch may take before both processes are killed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_in_two_processes(argv: list, tmp_path: Path) -> None:
    """``autoreg train ARGV`` as processes 0 and 1 of one run; both must exit 0 in LIMIT s."""
    env = {
        **os.environ,
        "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{free_port()}",
        "JAX_NUM_PROCESSES": "2",
        "JAX_PLATFORMS": "cpu",  # one CPU device per process, also where there is a GPU
        "PYTHONPATH": str(ROOT),
    }
    env.pop("XLA_FLAGS", None)
    logs = [tmp_path / f"process_{i}.log" for i in range(2)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "autoreg.cli", "train", *argv],
            env={**env, "JAX_PROCESS_ID": str(i)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(logs[i], "w"),  # noqa: SIM115 (closed with the process)
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + LIMIT
    try:
        codes = [p.wait(timeout=max(1.0, deadline - time.monotonic())) for p in processes]
    except subprocess.TimeoutExpired:
        codes = None
    finally:
        for p in processes:
            p.kill()
            p.wait()
    tails = "\n".join(f"process {i}: {log.read_text()[-1500:]}" for i, log in enumerate(logs))
    if codes is None:
        pytest.fail(f"two-process training did not finish in {LIMIT} s\n{tails}")
    assert codes == [0, 0], tails


@pytest.mark.slow
def test_two_processes_train_and_resume_as_one(tmp_path):
    rng = np.random.default_rng(0)
    x_test = rng.integers(0, 256, (8, 8, 8), dtype=np.uint8)
    data = tmp_path / "images.npz"
    np.savez(data, x_train=rng.integers(0, 256, (32, 8, 8), dtype=np.uint8), x_test=x_test)
    options = ["--model", "pixelcnn", "--preset", "tiny", "--data", str(data), "--seed", "3"]
    options += ["--batch-size", "8", "--checkpoint-every", "2", "--warmup-steps", "1"]
    options += ["--eval-every", "0", "--eval-examples", "4", "--log-every", "1", "--no-progress"]
    one, two = tmp_path / "one", tmp_path / "two"
    for stage in (["--steps", "2"], ["--steps", "4", "--resume", "--sample-every", "-1"]):
        assert main(["train", *options, "--workdir", str(one), *stage]) == 0
        train_in_two_processes([*options, "--workdir", str(two), *stage], tmp_path)
        expected = autoreg.log_prob(autoreg.load_checkpoint(one), x_test[..., None])
        got = autoreg.log_prob(autoreg.load_checkpoint(two), x_test[..., None])
        np.testing.assert_allclose(got, expected, rtol=1e-4)
    metrics = [json.loads(line) for line in (two / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "train_bits_per_dim" in m] == [1, 2, 3, 4]  # once
    assert sorted(p.name for p in (two / "checkpoints").iterdir()) == ["2", "4"]
    # The grid of step 2 (the first stage's last step), from process 0 alone: the same samples.
    assert (two / "samples_2.png").read_bytes() == (one / "samples_2.png").read_bytes()
