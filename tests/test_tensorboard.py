"""TensorBoard event files of a training run, read back with TensorBoard's own reader: the
scalars are metrics.jsonl's, the sample grids are images, a resume writes each step once, and
only process 0 writes."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import autoreg.workdir
from autoreg.cli import main
from autoreg.tensorboard_log import IMAGE_TAG, TAGS, TensorBoardLog
from autoreg.training import TrainingError
from autoreg.workdir import Run, check_workdir


def cli_train(workdir, data, *options) -> list:
    """``autoreg train`` argv: the tiny model on 16 random 6x6 images for 6 steps, a metrics
    line per step, test bits/dim, a sample grid and a checkpoint every 3."""
    argv = ["train", "--model", "pixelcnn", "--preset", "tiny", "--levels", "4", "--data"]
    argv += [str(data), "--workdir", str(workdir), "--steps", "6", "--batch-size", "8"]
    argv += ["--checkpoint-every", "3", "--warmup-steps", "2", "--eval-every", "3"]
    argv += ["--eval-examples", "8", "--sample-every", "3", "--log-every", "1"]
    return [*argv, "--no-progress", *options]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "d.npz"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4, (16, 6, 6), dtype=np.uint8)
    np.savez(path, x_train=images, x_test=images[:8])
    return path


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """A work directory trained 6 steps on the command line."""
    workdir = tmp_path_factory.mktemp("trained") / "work"
    assert main(cli_train(workdir, data)) == 0
    return workdir


def read_events(workdir, purge: bool = True) -> EventAccumulator:
    """Every event of ``WORKDIR/tensorboard``; ``purge=False`` reads them as written, without
    the purges of restarted runs that the Python reader applies (TensorBoard's Rust data server
    reads them so)."""
    events = EventAccumulator(
        str(workdir / "tensorboard"),
        size_guidance={"scalars": 0, "images": 0},
        purge_orphaned_data=purge,
    )
    return events.Reload()


def metrics_of(workdir) -> list:
    return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def check_scalars_are_the_metrics(events: EventAccumulator, metrics: list) -> None:
    """Each metrics.jsonl key is a scalar tag with exactly its steps and values (float32)."""
    names = {name for record in metrics for name in record} - {"step"}
    assert sorted(events.Tags()["scalars"]) == sorted(TAGS[name] for name in names)
    for name in names:
        lines = [(m["step"], m[name]) for m in metrics if name in m]
        scalars = events.Scalars(TAGS[name])
        assert [s.step for s in scalars] == [step for step, _ in lines], name
        np.testing.assert_array_equal(
            np.float32([s.value for s in scalars]), np.float32([value for _, value in lines])
        )


@pytest.mark.slow
def test_the_scalars_are_the_lines_of_metrics_jsonl(trained):
    metrics = metrics_of(trained)
    assert {"train_bits_per_dim", "test_bits_per_dim", "learning_rate", "examples_per_sec"} == {
        name for record in metrics for name in record
    } - {"step"}
    check_scalars_are_the_metrics(read_events(trained), metrics)
    rates = [m["learning_rate"] for m in metrics if "learning_rate" in m]
    assert rates[:3] == pytest.approx([0.0, 5e-4, 1e-3])  # warm-up of 2 steps to 1e-3


def test_the_sample_grids_are_images(trained):
    images = read_events(trained).Images(IMAGE_TAG)
    assert [image.step for image in images] == [3, 6]
    for image in images:
        with Image.open(trained / f"samples_{image.step}.png") as png:
            assert (image.width, image.height) == png.size


def test_a_resume_writes_each_step_once(trained, data, tmp_path):
    workdir = tmp_path / "work"
    shutil.copytree(trained, workdir)
    # As if killed after writing the events of steps 4-6 and before the checkpoint of 6.
    shutil.rmtree(workdir / "checkpoints" / "6")
    before = read_events(workdir).Scalars(TAGS["train_bits_per_dim"])
    assert main(cli_train(workdir, data, "--resume")) == 0
    metrics = metrics_of(workdir)
    assert [m["step"] for m in metrics if "train_bits_per_dim" in m] == [1, 2, 3, 4, 5, 6]
    for purge in (True, False):  # dropped from the files, not only hidden by the reader
        events = read_events(workdir, purge)
        check_scalars_are_the_metrics(events, metrics)
        assert [image.step for image in events.Images(IMAGE_TAG)] == [3, 6]
    kept = read_events(workdir).Scalars(TAGS["train_bits_per_dim"])[:3]
    assert [s.value for s in kept] == [s.value for s in before[:3]]  # steps 1-3 as they were


def test_a_linked_event_file_or_folder_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    workdir = tmp_path / "work"
    (workdir / "tensorboard").mkdir(parents=True)
    linked = workdir / "tensorboard" / "events.out.tfevents.1.host.1.0"
    linked.symlink_to(elsewhere / "events")
    with pytest.raises(TrainingError, match="is a symbolic link"):
        check_workdir(workdir)
    shutil.rmtree(workdir / "tensorboard")
    (workdir / "tensorboard").symlink_to(elsewhere)
    with pytest.raises(TrainingError, match="is a symbolic link"):
        check_workdir(workdir)


def test_only_process_0_writes_events(tmp_path, monkeypatch):
    monkeypatch.setattr(autoreg.workdir, "is_primary", lambda: False)
    with Run(tmp_path, keep=1) as run:
        run.log({"step": 1, "train_bits_per_dim": 1.0})
    assert not (tmp_path / "tensorboard").exists()


def test_a_record_cut_short_by_a_kill_is_dropped_on_resume(tmp_path):
    with TensorBoardLog(tmp_path) as events:
        for step in (1, 2, 3):
            events.scalars({"step": step, "train_bits_per_dim": float(step)})
    (path,) = tmp_path.iterdir()
    whole = path.read_bytes()
    path.write_bytes(whole + whole[-30:-10])  # half a record
    log = TensorBoardLog(tmp_path)
    log.truncate(2)
    assert log.purge_step == 3
    scalars = EventAccumulator(str(tmp_path), purge_orphaned_data=False).Reload()
    assert [s.step for s in scalars.Scalars(TAGS["train_bits_per_dim"])] == [1, 2]


def test_importing_autoreg_imports_no_tensorboard_package():
    code = "import sys, autoreg, autoreg.cli, autoreg.training\n"
    code += "print([p for p in ('tensorboardX', 'tensorboard') if p in sys.modules])\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
