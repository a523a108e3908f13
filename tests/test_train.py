"""Training: loss goes down, exact resume, crash-safe checkpoints, clear errors, data parallel."""

import json
import os
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import autoreg
from autoreg.checkpoint import is_checkpoint, param_tree
from autoreg.image_io import save_grid
from autoreg.training import TrainConfig, TrainingError, batch_indices, epoch_order, train_arrays

SHAPE = (6, 6, 1)


def fresh_model(**overrides):
    return autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=SHAPE, **overrides)


def stripes() -> np.ndarray:
    """Structured 4-level images: vertical stripes with a random phase, easy to learn."""
    rng = np.random.default_rng(0)
    phase = rng.integers(0, 4, size=(64, 1, 1, 1))
    return ((np.arange(6)[None, None, :, None] + phase) % 4 * np.ones(SHAPE, int)).astype(np.uint8)


@pytest.fixture(scope="module")
def data():
    """``stripes()``, (64, 6, 6, 1)."""
    return stripes()


def config(**kw):
    base = dict(
        steps=6, batch_size=8, checkpoint_every=3, eval_every=0, log_every=1, warmup_steps=2
    )
    return TrainConfig(**{**base, **kw})


def params_of(model):
    return jax.tree.map(np.asarray, param_tree(model))


def test_epoch_order_is_a_fresh_read_only_permutation_every_epoch():
    orders = [epoch_order(1, epoch, 20) for epoch in range(4)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(20))
        assert not order.flags.writeable  # a cached array: nobody may shuffle it in place
    assert len({tuple(order.tolist()) for order in orders}) == 4


def test_epoch_order_is_a_pure_function_of_seed_and_epoch():
    first = [epoch_order(seed, epoch, 20).copy() for seed in (0, 1) for epoch in (0, 1)]
    epoch_order.cache_clear()  # as in a fresh process, e.g. one that resumes the run
    again = [epoch_order(seed, epoch, 20) for seed in (0, 1) for epoch in (0, 1)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[2])  # another seed, another order
    # The drawing is part of the checkpoint format: a run resumed by another version of the
    # code must see the same data order.
    expected = np.random.default_rng([1, 2]).permutation(20)
    np.testing.assert_array_equal(epoch_order(1, 2, 20), expected)


def test_batch_indices_cover_each_epoch_once_and_drop_the_remainder():
    per_epoch = 20 // 8  # 4 examples of 20 are left out of each epoch
    for epoch in range(3):
        steps = range(epoch * per_epoch, (epoch + 1) * per_epoch)
        seen = np.concatenate([batch_indices(s, 20, 8, seed=1) for s in steps])
        assert len(seen) == per_epoch * 8 and len(set(seen.tolist())) == len(seen)
        np.testing.assert_array_equal(seen, epoch_order(1, epoch, 20)[: per_epoch * 8])


def test_resuming_mid_epoch_gives_the_batches_of_an_uninterrupted_run():
    straight = [batch_indices(s, 30, 4, seed=3) for s in range(20)]  # 7 steps per epoch
    epoch_order.cache_clear()  # the resumed process starts with nothing cached
    batch_indices(10, 30, 4, seed=4)  # and may have drawn orders of another run first
    resumed = [batch_indices(s, 30, 4, seed=3) for s in range(10, 20)]  # from step 3 of epoch 1
    for a, b in zip(straight[10:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_training_lowers_the_loss_and_logs_metrics(data, tmp_path):
    model = fresh_model()
    before = autoreg.bits_per_dim(model, data[:16])
    train_arrays(
        model,
        data,
        tmp_path,
        config(steps=30, learning_rate=1e-2),
        test_x=data[:16],
        progress=False,
    )
    assert autoreg.bits_per_dim(model, data[:16]) < before - 0.2
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("test_bits_per_dim" in x for x in lines)
    assert [x["step"] for x in lines if "train_bits_per_dim" in x] == list(range(1, 31))


def test_resume_continues_exactly(data, tmp_path):
    straight = train_arrays(fresh_model(), data, tmp_path / "a", config(), progress=False)
    train_arrays(fresh_model(), data, tmp_path / "b", config(steps=3), progress=False)
    resumed = train_arrays(
        fresh_model(), data, tmp_path / "b", config(), resume=True, progress=False
    )
    jax.tree.map(np.testing.assert_array_equal, params_of(straight), params_of(resumed))
    # The exported checkpoint is a plain model checkpoint.
    loaded = autoreg.load_checkpoint(tmp_path / "b")
    jax.tree.map(np.testing.assert_array_equal, params_of(loaded), params_of(resumed))


@pytest.mark.slow
def test_resume_with_ema_continues_exactly(data, tmp_path):
    cfg = dict(ema_decay=0.9)
    straight = train_arrays(fresh_model(), data, tmp_path / "a", config(**cfg), progress=False)
    train_arrays(fresh_model(), data, tmp_path / "b", config(steps=3, **cfg), progress=False)
    resumed = train_arrays(
        fresh_model(), data, tmp_path / "b", config(**cfg), resume=True, progress=False
    )
    jax.tree.map(np.testing.assert_array_equal, params_of(straight), params_of(resumed))


def test_resume_without_checkpoint_is_an_error(data, tmp_path):
    with pytest.raises(TrainingError, match="no checkpoint"):
        train_arrays(fresh_model(), data, tmp_path, config(), resume=True, progress=False)


def test_workdir_of_another_config_is_an_error(data, tmp_path):
    train_arrays(fresh_model(), data, tmp_path, config(steps=3), progress=False)
    with pytest.raises(TrainingError, match="another model or config"):
        train_arrays(
            fresh_model(channels=12), data, tmp_path, config(), resume=True, progress=False
        )
    with pytest.raises(TrainingError, match="--resume"):
        train_arrays(fresh_model(), data, tmp_path, config(), progress=False)


def test_batch_larger_than_dataset_is_an_error(data, tmp_path):
    with pytest.raises(TrainingError, match="larger than the dataset"):
        train_arrays(fresh_model(), data[:4], tmp_path, config(), progress=False)
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.slow
def test_nan_loss_stops_and_keeps_last_good_checkpoint(data, tmp_path):
    model = fresh_model()
    train_arrays(model, data, tmp_path, config(steps=3), progress=False)
    good = params_of(autoreg.load_checkpoint(tmp_path))
    # Poisoned parameters: the loss is NaN at the first step, and nothing is written.
    nnx.update(model, jax.tree.map(lambda p: p * np.nan, nnx.state(model, nnx.Param)))
    run = tmp_path / "checkpoints"
    before = sorted(os.listdir(run))
    with pytest.raises(TrainingError, match="nan at step 1.*nothing saved"):
        train_arrays(model, data, tmp_path / "fresh", config(), progress=False)
    assert sorted(os.listdir(run)) == before
    jax.tree.map(np.testing.assert_array_equal, good, params_of(autoreg.load_checkpoint(tmp_path)))


def test_nan_loss_between_checkpoints_stops_before_the_next_one(data, tmp_path, monkeypatch):
    # The loop reads each loss one step late; a NaN at step 6 must still stop the run before
    # the checkpoint of step 8, naming step 6 and keeping the checkpoint of step 4.
    from autoreg.training import api

    real = api.make_train_step

    def nan_at_step_6(*args):
        step, calls = real(*args), []

        def poisoned(*inputs):
            calls.append(None)
            *state, loss = step(*inputs)
            return (*state, loss * np.nan if len(calls) == 6 else loss)

        return poisoned

    monkeypatch.setattr(api, "make_train_step", nan_at_step_6)  # where train_arrays finds it
    cfg = config(steps=10, checkpoint_every=4, log_every=100)
    with pytest.raises(TrainingError, match=r"nan at step 6; .*checkpoint \(step 4\) is kept"):
        train_arrays(fresh_model(), data, tmp_path, cfg, progress=False)
    assert latest_complete_step(tmp_path) == 4


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np, autoreg
    from autoreg.training import TrainConfig, train_arrays
    data = np.load(sys.argv[2])
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(6, 6, 1))
    cfg = TrainConfig(steps=100000, batch_size=8, checkpoint_every=1, eval_every=0, log_every=1)
    train_arrays(model, data, sys.argv[1], cfg, progress=False, resume=sys.argv[3] == "resume")
    """
)


def latest_complete_step(workdir) -> int:
    steps = workdir / "checkpoints"
    done = [int(p.name) for p in steps.glob("*") if p.name.isdigit() and is_checkpoint(p)]
    return max(done, default=0)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_loadable_checkpoints(data, tmp_path):
    np.save(tmp_path / "data.npy", data)
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    workdir = tmp_path / "work"
    rng = np.random.default_rng(0)
    for attempt in range(3):
        seen = latest_complete_step(workdir)
        process = subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(workdir),
                str(tmp_path / "data.npy"),
                "resume" if attempt else "fresh",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while latest_complete_step(workdir) <= seen and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until this run has trained and checkpointed (every step)
        time.sleep(rng.uniform(0.0, 0.3))
        process.kill()  # SIGKILL, likely in the middle of writing a checkpoint
        process.wait()
        assert latest_complete_step(workdir) > seen, "the run never got to train"
        model = autoreg.load_checkpoint(workdir)  # must always load
        assert np.isfinite(autoreg.bits_per_dim(model, data[:4]))


MULTI_DEVICE_SCRIPT = textwrap.dedent(
    """
    import jax, numpy as np, autoreg
    from autoreg.checkpoint import param_tree
    from autoreg.training import TrainConfig, train_arrays
    assert len(jax.devices()) == 4, jax.devices()
    rng = np.random.default_rng(0)
    data = rng.integers(0, 4, size=(16, 6, 6, 1))
    cfg = TrainConfig(steps=1, batch_size=8, eval_every=0, warmup_steps=0)
    out = []
    for n, name in [(1, "one"), (4, "four")]:
        model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(6, 6, 1))
        train_arrays(model, data, "WORK/" + name, cfg, devices=jax.devices()[:n], progress=False)
        out.append(jax.tree.leaves(param_tree(model)))
    worst = max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(*out))
    print("max difference", worst)
    assert worst < 1e-5, worst
    """
)


@pytest.mark.slow
def test_one_step_on_four_devices_matches_one_device(tmp_path):
    script = tmp_path / "multi.py"
    script.write_text(MULTI_DEVICE_SCRIPT.replace("WORK", str(tmp_path)))
    # Four CPU devices, also on a machine with a GPU (where the GPU would be the one device).
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
    }
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "max difference" in done.stdout


@pytest.mark.slow
def test_ema_forgets_the_initialisation_in_short_runs(data, tmp_path):
    initial = params_of(fresh_model())
    raw = train_arrays(fresh_model(), data, tmp_path / "raw", config(steps=20), progress=False)
    ema = train_arrays(
        fresh_model(), data, tmp_path / "ema", config(steps=20, ema_decay=0.999), progress=False
    )

    def distance(a, b):
        return sum(
            float(np.abs(x - y).sum())
            for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
        )

    # With the decay's warm-up the average sits near the trained weights, not the random ones.
    assert distance(params_of(ema), params_of(raw)) < distance(params_of(ema), initial)


@pytest.mark.parametrize("name", ["pixelcnn", "gated_pixelcnn"])
@pytest.mark.slow
def test_bfloat16_compute_keeps_float32_state_and_a_close_loss(name):
    import optax

    from autoreg.training import make_optimizer, make_train_step

    model = autoreg.create_model(name, preset="tiny", levels=16, image_shape=(6, 6, 1), seed=0)
    x = jnp.asarray(np.random.default_rng(0).integers(0, 16, (8, 6, 6, 1)), jnp.int32)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    optimizer = make_optimizer(TrainConfig(steps=4, warmup_steps=0))
    losses = {}
    for dtype in ("float32", "bfloat16"):
        step = make_train_step(graphdef, rest, optimizer, 3, 0.0, dtype)
        p = jax.tree.map(jnp.copy, params)
        p, opt_state, _, losses[dtype] = step(p, optimizer.init(p), None, x, None)
        leaves = jax.tree.leaves(p) + jax.tree.leaves(opt_state)
        assert all(a.dtype != jnp.bfloat16 for a in leaves)
        assert optax.tree.norm(jax.tree.map(jnp.subtract, p, params)) > 0  # it learned
    f32, bf16 = float(losses["float32"]), float(losses["bfloat16"])
    assert bf16 != f32 and abs(bf16 - f32) < 0.02 * f32  # bfloat16 ran, and rounds, only


def four_by_four(data):
    """``data`` cut to 4x4 images, as a ``Dataset`` (the model and grids stay small)."""
    return autoreg.data.Dataset(data[:, :4, :4], labels=None, levels=4, source="stripes")


@pytest.mark.parametrize(
    ("sample_every", "grids"),
    [(2, ["samples_2.png", "samples_4.png"]), (0, ["samples_4.png"]), (-1, [])],
)
def test_train_writes_sample_grids_as_sample_every_says(data, tmp_path, sample_every, grids):
    from PIL import Image

    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(4, 4, 1))
    cfg = config(steps=4, checkpoint_every=4, sample_every=sample_every, num_samples=6)
    autoreg.train(model, four_by_four(data), workdir=tmp_path, config=cfg, progress=False)
    assert sorted(p.name for p in tmp_path.glob("samples_*")) == grids
    for name in grids:
        with Image.open(tmp_path / name) as picture:  # a grid of 6 upscaled 4x4 samples
            assert picture.format == "PNG" and picture.width > picture.height > 4
    if grids:  # the last grid: the trained model's samples with the key seed + step
        samples = autoreg.sample(model, cfg.seed + 4, 6, progress=False)
        expected = save_grid(np.asarray(samples), 4, tmp_path / "expected.png")
        assert (tmp_path / "samples_4.png").read_bytes() == expected.read_bytes()


def test_a_writer_of_the_caller_replaces_the_default_grids(data, tmp_path):
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(4, 4, 1))
    calls = []

    def write_samples(current, step):
        calls.append((current.modality.name, step))

    cfg = config(steps=4, checkpoint_every=4, sample_every=2)
    autoreg.train(
        model,
        four_by_four(data),
        workdir=tmp_path,
        config=cfg,
        progress=False,
        write_samples=write_samples,
    )
    assert calls == [("image", 2), ("image", 4)]
    assert list(tmp_path.glob("samples_*")) == []  # not written twice: the caller's writer only


def test_an_unknown_compute_dtype_is_refused():
    with pytest.raises(ValueError, match="compute_dtype must be one of float32, bfloat16"):
        TrainConfig(compute_dtype="float16")
