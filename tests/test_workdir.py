"""Work directories: one run at a time (a lock a killed run does not leave behind), resume
with changed settings or too few steps, and damaged checkpoints or metrics on resume."""

import json
import logging
import shutil
import signal
import socket
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from test_train import config, fresh_model, params_of, stripes

import autoreg
from autoreg.cli import main
from autoreg.training import (
    ChangedSettings,
    NothingToTrain,
    TrainingError,
    WorkdirInUse,
    train_arrays,
)


@pytest.fixture(scope="module")
def data():
    """``stripes()``, (64, 6, 6, 1): what the runs of test_train train on."""
    return stripes()


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from autoreg.workdir_lock import WorkdirLock
    WorkdirLock(Path(sys.argv[1])).acquire()
    print("locked", flush=True)
    time.sleep(120)
    """
)


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """A work directory trained 6 steps (checkpoints at 3 and 6), and the trained params."""
    workdir = tmp_path_factory.mktemp("trained") / "work"
    model = train_arrays(fresh_model(), data, workdir, config(), progress=False)
    return workdir, params_of(model)


def copy_of(trained, tmp_path):
    copy = tmp_path / "work"
    shutil.copytree(trained[0], copy)
    return copy


@pytest.mark.slow
def test_a_run_on_a_workdir_in_use_is_refused_and_a_killed_holder_blocks_nothing(
    data,
    trained,
    tmp_path,
    capsys,
):
    workdir = copy_of(trained, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(workdir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        named = f"pid {holder.pid} on {socket.gethostname()}, started 20"
        with pytest.raises(WorkdirInUse, match=named):
            train_arrays(fresh_model(), data, workdir, config(steps=8), resume=True, progress=False)
        argv = ["train", "--model", "pixelcnn", "--workdir", str(workdir), "--data", "no.npz"]
        assert main(argv) != 0  # refused at once, before reading the data
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"in use by another training run ({named}" in err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    before = (workdir / "metrics.jsonl").read_text()
    train_arrays(fresh_model(), data, workdir, config(steps=8), resume=True, progress=False)
    assert (workdir / "metrics.jsonl").read_text().startswith(before)  # not interleaved


def test_a_failed_fresh_run_leaves_no_directory(data, tmp_path):
    with pytest.raises(TrainingError, match="no checkpoint"):
        train_arrays(fresh_model(), data, tmp_path / "new", config(), resume=True, progress=False)
    assert not (tmp_path / "new").exists()


def test_resume_with_other_settings_says_what_changed(data, trained, tmp_path):
    workdir = copy_of(trained, tmp_path)
    changed = config(steps=8, learning_rate=2e-3, seed=1)
    with pytest.raises(ChangedSettings, match=r"learning_rate 0\.001 -> 0\.002, seed 0 -> 1"):
        train_arrays(fresh_model(), data, workdir, changed, resume=True, progress=False)
    # Allowed, also across changes of the optimiser state's shape (clipping off, EMA on).
    changed = config(steps=8, learning_rate=2e-3, grad_clip=0.0, ema_decay=0.9)
    train_arrays(fresh_model(), data, workdir, changed, resume=True, allow_changed_settings=True)
    saved = json.loads((workdir / "checkpoints" / "8" / "metadata" / "metadata").read_text())
    assert saved["train"]["learning_rate"] == 2e-3 and saved["train"]["ema_decay"] == 0.9


def cli_train(workdir, tmp_path, *options) -> list:
    """``autoreg train`` argv for the tiny model of ``config()`` on 16 random 6x6 images."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4, (16, 6, 6), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x_train=images, x_test=images[:8])
    argv = ["train", "--model", "pixelcnn", "--preset", "tiny", "--levels", "4", "--data"]
    argv += [str(tmp_path / "d.npz"), "--workdir", str(workdir), "--resume", "--steps", "6"]
    argv += ["--batch-size", "8", "--checkpoint-every", "3", "--warmup-steps", "2"]
    return [*argv, "--eval-every", "0", "--sample-every", "-1", "--no-progress", *options]


def test_resume_with_other_settings_on_the_command_line(trained, tmp_path, capsys):
    workdir = copy_of(trained, tmp_path)
    assert main(cli_train(workdir, tmp_path, "--lr", "0.002", "--steps", "8")) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--lr 0.001 -> 0.002; pass --allow-changed-settings" in err
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--allow-changed-settings" in capsys.readouterr().out


def test_resume_to_fewer_steps_on_the_command_line(trained, tmp_path, capsys):
    workdir = copy_of(trained, tmp_path)
    assert main(cli_train(workdir, tmp_path, "--steps", "3")) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already at step 6, past --steps 3: nothing to train" in err
    assert main(cli_train(workdir, tmp_path)) == 0  # --steps 6: done already, not an error
    out = capsys.readouterr().out
    assert "nothing to train" in out and "trained" not in out


def test_resume_to_fewer_steps_says_it_is_past_them(data, trained, tmp_path):
    workdir = copy_of(trained, tmp_path)
    with pytest.raises(NothingToTrain, match="already at step 6, past the 3 steps"):
        train_arrays(fresh_model(), data, workdir, config(steps=3), resume=True, progress=False)


DAMAGES = {
    "truncated data": lambda step: [truncate(f) for f in (step / "train_state" / "d").iterdir()],
    "flipped bits": lambda step: [flip(f) for f in (step / "params" / "d").iterdir()],
    "orbax metadata": lambda step: (step / "train_state" / "_METADATA").write_bytes(b"\x80"),
    "our metadata": lambda step: (step / "metadata" / "metadata").write_bytes(b"\x80"),
}


def truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def flip(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_resume_falls_back_to_the_newest_intact_checkpoint(
    data,
    trained,
    tmp_path,
    damage,
    caplog,
):
    workdir = copy_of(trained, tmp_path)
    DAMAGES[damage](workdir / "checkpoints" / "6")
    with caplog.at_level(logging.WARNING, logger="autoreg"):
        resumed = train_arrays(fresh_model(), data, workdir, config(), resume=True, progress=False)
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        f"checkpoint of step 6 moved to {workdir / 'damaged' / '6'}, trying an older one"
    ]
    # Resumed from step 3 and retrained steps 4..6 exactly as the first run did.
    jax.tree.map(np.testing.assert_array_equal, trained[1], params_of(resumed))
    assert (workdir / "damaged" / "6").is_dir()
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["3", "6"]


def test_resume_with_every_checkpoint_damaged_is_an_error(data, trained, tmp_path):
    workdir = copy_of(trained, tmp_path)
    for step in ("3", "6"):
        DAMAGES["our metadata"](workdir / "checkpoints" / step)
    with pytest.raises(TrainingError, match="no intact checkpoint"):
        train_arrays(fresh_model(), data, workdir, config(), resume=True, progress=False)


def test_damaged_resume_on_the_command_line_is_one_warning(trained, tmp_path, capsys):
    workdir = copy_of(trained, tmp_path)
    DAMAGES["truncated data"](workdir / "checkpoints" / "6")
    assert main(cli_train(workdir, tmp_path)) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("autoreg: warning: checkpoint of step 6 moved to")
    assert "train_state" in captured.err and "trained pixelcnn to step 6" in captured.out


def test_damaged_metrics_are_named_and_a_torn_last_line_is_dropped(
    data,
    trained,
    tmp_path,
):
    workdir = copy_of(trained, tmp_path)
    metrics = workdir / "metrics.jsonl"
    lines = metrics.read_bytes().split(b"\n")
    metrics.write_bytes(b"\n".join([*lines[:2], b"\x80 not json", *lines[2:]]))
    with pytest.raises(TrainingError, match=f"{metrics} is damaged at line 3"):
        train_arrays(fresh_model(), data, workdir, config(steps=8), resume=True, progress=False)
    metrics.write_bytes(b"\n".join(lines[:-1]) + b'\n{"step": 6, "train_bi')  # a kill mid-line
    train_arrays(fresh_model(), data, workdir, config(steps=8), resume=True, progress=False)
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] == 8
    assert autoreg.load_checkpoint(workdir).config == fresh_model().config
