"""Paths of training no other test runs: class-conditional training from the command line, a
run stopped by its time limit, and the texture model's training."""

import json
import math
import time

import jax
import numpy as np
import pytest

import autoreg
from autoreg.checkpoint import read_metadata
from autoreg.cli import main
from autoreg.data.images import quantise

SIDE = 6  # images of SIDE x SIDE pixels, one colour


def run(capsys, *argv) -> str:
    """Run ``autoreg ARGV``; assert it succeeds; return what it printed."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def bits_per_dim(model, x, labels=None) -> float:
    nats = np.asarray(autoreg.log_prob(model, x, labels), np.float64)
    return float(-nats.mean() / (x[0].size * math.log(2.0)))


def train_argv(data, workdir, *extra) -> list:
    return [
        *("train", "--preset", "tiny", "--data", data, "--workdir", workdir, "--levels", 4),
        *("--batch-size", 16, "--eval-every", 0, "--sample-every", -1, "--no-progress", *extra),
    ]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """An .npz whose label says everything: class 0 dark images, class 1 bright ones."""
    rng = np.random.default_rng(0)

    def split(count):
        labels = rng.integers(0, 2, count).astype(np.uint8)
        base = np.where(labels == 1, 224, 16)[:, None, None]
        noise = rng.integers(0, 32, (count, SIDE, SIDE))
        return (base + noise).astype(np.uint8), labels

    (x_train, y_train), (x_test, y_test) = split(256), split(32)
    path = tmp_path_factory.mktemp("labelled") / "labelled.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


@pytest.mark.slow
def test_class_conditional_training_learns_what_the_label_says(labelled, tmp_path, capsys):
    work = tmp_path / "run"
    out = run(
        capsys,
        *train_argv(labelled, work, "--model", "gated_pixelcnn", "--num-classes", 2),
        *("--steps", 60, "--lr", 0.01, "--warmup-steps", 5),
    )
    assert "trained gated_pixelcnn" in out
    model = autoreg.load_checkpoint(work)
    assert model.num_classes == 2
    test = np.load(labelled)
    x, y = quantise(test["x_test"][..., None], 4), test["y_test"].astype(np.int32)
    # The likelihood depends on the label: the true one explains the images far better.
    right, wrong = bits_per_dim(model, x, y), bits_per_dim(model, x, 1 - y)
    assert right < 0.5 and wrong > right + 0.5, (right, wrong)
    # So do the samples: dark for class 0, bright for class 1 (levels 0..3).
    labels = np.array([0] * 8 + [1] * 8)
    samples = np.asarray(autoreg.sample(model, jax.random.key(1), 16, labels=labels))
    dark, bright = samples[:8].mean(), samples[8:].mean()
    assert dark < 1.0 and bright > 2.0, (dark, bright)


def test_a_time_limit_stops_the_run_early_with_a_final_checkpoint(tmp_path, capsys):
    rng = np.random.default_rng(1)
    data = tmp_path / "images.npz"
    images = rng.integers(0, 256, (96, SIDE, SIDE), dtype=np.uint8)
    np.savez(data, x_train=images[:64], x_test=images[64:])
    work = tmp_path / "run"
    steps = 1_000_000  # far more than 1.2 s allows
    started = time.monotonic()
    out = run(
        capsys,
        *train_argv(data, work, "--model", "pixelcnn", "--steps", steps),
        *("--time-limit", 0.02, "--checkpoint-every", 100_000, "--log-every", 100_000),
    )
    assert time.monotonic() - started < 15
    (checkpoint,) = (work / "checkpoints").iterdir()  # the final one only
    step = int(checkpoint.name)
    assert 0 < step < steps
    assert read_metadata(checkpoint)["step"] == step
    assert f"stopped pixelcnn at step {step} of {steps} (--time-limit 0.02 min)" in out
    lines = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    # The last step is logged and evaluated on the test split as training stops.
    assert any(line.get("step") == step and "train_bits_per_dim" in line for line in lines)
    (final_test,) = [line for line in lines if "test_bits_per_dim" in line]
    assert final_test["step"] == step and math.isfinite(final_test["test_bits_per_dim"])
    # The checkpoint holds the model at that step, whose test bits are the final evaluation's.
    model = autoreg.load_checkpoint(work)
    test_x = quantise(images[64:, :, :, None], 4)
    assert bits_per_dim(model, test_x) == pytest.approx(final_test["test_bits_per_dim"], rel=1e-5)


@pytest.mark.slow
def test_train_texture_model_learns_the_example(tmp_path):
    from autoreg.texture.pixelcnn import train_texture_model

    rng = np.random.default_rng(2)
    rows = np.where(np.arange(20) % 4 < 2, 200, 40)  # horizontal stripes, two pixels each
    source = (rows[:, None] + rng.integers(0, 16, (20, 20))).astype(np.uint8)
    options = dict(patch_size=8, batch_size=8, source_size=None, seed=0, progress=False)
    work = tmp_path / "texture"
    model = train_texture_model(source, steps=80, workdir=work, **options)
    assert model.name == "gated_pixelcnn" and model.levels == 256
    assert model.config.image_shape == (8, 8, 1)
    assert (work / "checkpoints" / "80").is_dir()
    texture = np.asarray(autoreg.sample(model, jax.random.key(3), 1))[0, :, :, 0]
    # The stripes are learnt: each row dark or bright, two of each in turn (an untrained
    # model's rows would be about equally grey, and alternate by chance one time in 64).
    profile = texture.mean(axis=1)
    assert (np.abs(profile - 128) > 50).all(), profile
    bright = profile > 128
    assert (bright[:-2] != bright[2:]).all(), profile
