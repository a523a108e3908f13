"""Video prediction and video on the command line: the GIFs, ``predict_futures`` (a tiny
Video PixelCNN and the nearest-neighbour baseline), and ``autoreg predict``, ``sample``,
``eval`` and ``train`` for a video model.

One tiny model (8x8 frames, 4 frames, K = 4) is made and saved once for the file; the commands
load it from disk, as a user's would.
"""

import os
import re

import jax
import numpy as np
import pytest
from PIL import Image

import autoreg
from autoreg.cli import main
from autoreg.video import nearest_futures, predict_futures
from autoreg.video.gif import (
    BORDER,
    COLOURS,
    PREDICTED,
    TRUTH,
    futures_grid,
    video_grid,
    write_futures_gif,
    write_gif,
)

LEVELS = 4
FRAME = (8, 8, 1)
FRAMES = 4  # the model's config.frames


def ramp(steps: int, value: int = 0, shape=(4, 4, 1)) -> np.ndarray:
    """(steps, *shape) uint8 frames of values value, value + 10, ..., each frame uniform."""
    return np.stack([np.full(shape, value + 10 * t, np.uint8) for t in range(steps)])


def tile(frames: np.ndarray, row: int, column: int = 0, size: int = 4, scale: int = 1):
    """The (T, size * scale, size * scale, 3) pixels of tile (row, column) of grid frames."""
    cell = size * scale + 2 * BORDER
    y, x = row * cell + BORDER, column * cell + BORDER
    return frames[:, y : y + size * scale, x : x + size * scale]


def border(frames: np.ndarray, row: int, column: int = 0, size: int = 4, scale: int = 1):
    """The (T, 3) colour of the top-left border pixel of tile (row, column)."""
    cell = size * scale + 2 * BORDER
    return frames[:, row * cell, column * cell]


# --- GIFs -------------------------------------------------------------------------------------


def test_video_grid_plays_clips_side_by_side():
    clips = np.stack([ramp(3, 0), ramp(3, 100)])  # (2, 3, 4, 4, 1)
    frames = video_grid(clips, scale=2)
    assert frames.shape == (3, 8 + 4, 2 * (8 + 4), 3)
    np.testing.assert_array_equal(tile(frames, 0, 1, scale=2)[:, 0, 0, 0], [100, 110, 120])
    assert (border(frames, 0, 1, scale=2) == 255).all()  # white: nothing predicted
    wrapped = video_grid(np.stack([ramp(2)] * 3), columns=2)  # 2 rows, the 4th tile blank
    assert wrapped.shape == (2, 2 * 8, 2 * 8, 3) and (tile(wrapped, 1, 1) == 255).all()


def test_futures_grid_rows():
    observed = ramp(2, 0)  # values 0, 10
    futures = np.stack([ramp(3, 100), ramp(3, 200)])  # (2 futures, 3 frames)
    truth = ramp(2, 50)  # only 2 of the 3 frames are known
    frames = futures_grid(observed, futures, truth)
    assert frames.shape == (5, 3 * 8, 8, 3)
    first, second = tile(frames, 0)[:, 0, 0, 0], tile(frames, 2)[:, 0, 0, 0]
    assert first.tolist() == [0, 10, 50, 60, 60]  # observed, truth, its last frame held
    assert second.tolist() == [0, 10, 200, 210, 220]  # observed, then future 1
    np.testing.assert_array_equal(border(frames, 0)[2:4], [COLOURS[TRUTH]] * 2)
    np.testing.assert_array_equal(border(frames, 1)[2:], [COLOURS[PREDICTED]] * 3)
    assert (border(frames, 0)[[0, 1, 4]] == 255).all() and (border(frames, 2)[:2] == 255).all()
    unknown = futures_grid(observed, futures)  # no truth: the last observed frame is held
    assert tile(unknown, 0)[:, 0, 0, 0].tolist() == [0, 10, 10, 10, 10]


@pytest.mark.parametrize(
    "observed, futures, truth, message",
    [
        (ramp(2)[0], np.stack([ramp(2)]), None, r"observed must be non-empty \(T, H, W, C\)"),
        (ramp(2), ramp(2), None, r"futures must be non-empty \(N, T, H, W, C\)"),
        (ramp(2), np.stack([ramp(2, shape=(5, 4, 1))]), None, "futures have frames of"),
        (ramp(2), np.stack([ramp(2)]), ramp(3), "must be at most 2 frames"),
        (ramp(2).astype(np.int32), np.stack([ramp(2)]), None, "observed must be uint8"),
    ],
)
def test_futures_grid_refuses(observed, futures, truth, message):
    with pytest.raises(ValueError, match=message):
        futures_grid(observed, futures, truth)


def test_gifs_round_trip_exactly(tmp_path):
    gray = np.random.default_rng(0).integers(0, 256, (5, 6, 7, 1), dtype=np.uint8)
    write_gif(tmp_path / "gray.gif", gray, duration_ms=120)
    np.testing.assert_array_equal(autoreg.data.load_clips(tmp_path / "gray.gif")[0], gray)
    with Image.open(tmp_path / "gray.gif") as image:
        assert image.info["duration"] == 120 and image.info["loop"] == 0
    colour = futures_grid(ramp(2), np.stack([ramp(2, 100)] * 3), ramp(2, 50), scale=3)
    write_gif(tmp_path / "colour.gif", colour)
    np.testing.assert_array_equal(autoreg.data.load_clips(tmp_path / "colour.gif")[0], colour)


def test_futures_gif_is_upscaled_to_256_px(tmp_path):
    path = write_futures_gif(tmp_path / "f.gif", ramp(2), np.stack([ramp(2, 100)] * 2))
    assert autoreg.data.load_clips(path).shape == (1, 4, 3 * (4 * 64 + 4), 4 * 64 + 4, 3)


def test_gif_errors_write_nothing(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="must end in .gif"):
        write_gif(tmp_path / "x.png", ramp(2))
    with pytest.raises(ValueError, match="duration_ms must be a positive integer"):
        write_gif(tmp_path / "x.gif", ramp(2), duration_ms=0)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken)
    with pytest.raises(OSError, match="cannot write .*x.gif: No space left"):
        write_gif(tmp_path / "x.gif", ramp(2))
    assert os.listdir(tmp_path) == []  # nor a temporary file


# --- predict_futures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    """The tiny Video PixelCNN of the file (compiled once, shared)."""
    return autoreg.create_model(
        "video_pixelcnn", preset="tiny", image_shape=FRAME, frames=FRAMES, levels=LEVELS
    )


@pytest.fixture(scope="module")
def clips():
    """(6, 6, 8, 8, 1) clips in 0..K-1: a bright square moving right one pixel a frame."""
    video = np.zeros((6, 6, *FRAME), np.int32)
    for n in range(6):
        for t in range(6):
            video[n, t, n % 4 : n % 4 + 3, (t + n) % 6 : (t + n) % 6 + 2] = LEVELS - 1
    return video


def test_nearest_method_is_the_baseline(clips):
    futures = predict_futures(
        None, 0, clips[2, :3], context=2, frames=3, num=2, method="nearest", train_clips=clips
    )
    found = nearest_futures(clips, clips[2:3, :2], frames=3, num=2)
    assert futures.shape == (2, 3, *FRAME) and futures.dtype == np.int32
    np.testing.assert_array_equal(futures, found.futures[0])
    np.testing.assert_array_equal(futures[0], clips[2, 2:5])  # its own continuation


def test_model_futures_are_exact_completions(model, clips):
    key = jax.random.key(3)
    futures = predict_futures(model, key, clips[1], context=3, frames=2, num=3)  # 5 frames, T=4
    assert futures.shape == (3, 2, *FRAME) and futures.dtype == np.int32
    assert futures.min() >= 0 and futures.max() < LEVELS
    x = np.zeros((3, 5, *FRAME), np.int32)
    x[:, :3] = clips[1, :3]
    mask = np.zeros(x.shape, bool)
    mask[:, :3] = True
    expected = np.asarray(autoreg.complete(model, key, x, mask, method="exact"))[:, 3:]
    np.testing.assert_array_equal(futures, expected)
    again = predict_futures(model, key, clips[1, :3], context=3, frames=2, num=3)
    np.testing.assert_array_equal(futures, again)  # later frames of the clip play no part


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(method="guess"), "method must be one of"),
        (dict(context=7), r"context \(7\) is more than the clip's 6 frames"),
        (dict(frames=0), "frames must be a positive integer"),
        (dict(clip=np.zeros((6, 8, 8), np.int32)), r"clip must be \(T, H, W, C\)"),
        (dict(clip=np.zeros((6, 4, 4, 1), np.int32)), r"clip has frames of \(4, 4, 1\)"),
        (dict(method="nearest"), "needs train_clips"),
        (dict(train_clips=np.zeros((2, 6, *FRAME), np.int32)), "train_clips are for method"),
        (dict(model=None), 'method "model" needs a video model'),
    ],
)
def test_predict_refuses(model, clips, change, message):
    arguments = dict(model=model, clip=clips[0], context=2, frames=2, num=1, method="model")
    arguments.update(change)
    model_, clip = arguments.pop("model"), arguments.pop("clip")
    with pytest.raises(ValueError, match=message):
        predict_futures(model_, 0, clip, **arguments)


def test_predict_refuses_other_kinds_of_model(clips):
    image_model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=FRAME, levels=4)
    with pytest.raises(ValueError, match="pixelcnn is an image model; video prediction needs"):
        predict_futures(image_model, 0, clips[0], context=2, frames=2)


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(model, clips, tmp_path_factory):
    """{name: path}: the model's checkpoint, the clips as uint8 .npy (0..255) and clip 3 as a
    GIF."""
    root = tmp_path_factory.mktemp("video")
    autoreg.save_checkpoint(model, root / "model")
    np.save(root / "clips.npy", (clips * 85).astype(np.uint8))  # K = 4 levels 0..3 -> 0..255
    write_gif(root / "clip.gif", (clips[3] * 85).astype(np.uint8))
    names = {"model": "model", "clips": "clips.npy", "clip": "clip.gif"}
    return {key: root / name for key, name in names.items()}


def run(argv, capsys) -> tuple:
    """(exit status, stdout, stderr) of ``autoreg ARGV``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_with_the_model(saved, tmp_path, capsys):
    out = tmp_path / "futures.gif"
    argv = ["predict", "--model", saved["model"], "--video", saved["clips"], "--index", 1]
    argv += ["--context", 3, "--frames", 2, "--num", 2, "--scale", 1, "--out", out]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "wrote 2 futures of 2 frames after 3 observed (model, beside the true 2)" in stdout
    gif = autoreg.data.load_clips(out)[0]  # (steps, 3 rows of 8 + 4, 8 + 4, 3)
    assert gif.shape[1:] == (3 * 12, 12, 3) and 2 <= len(gif) <= 5  # equal steps merge
    clip = np.load(saved["clips"])[1]
    for row in range(3):  # every row starts with the observed frame
        np.testing.assert_array_equal(tile(gif, row, size=8)[0, ..., 0], clip[0, ..., 0])
    np.testing.assert_array_equal(tile(gif, 0, size=8)[-1, ..., 0], clip[4, ..., 0])  # truth
    assert set(np.unique(tile(gif, 2, size=8)[-1])) <= {0, 85, 170, 255}  # a K = 4 future


def test_predict_nearest_from_a_gif(saved, tmp_path, capsys):
    out = tmp_path / "nearest.gif"
    argv = ["predict", "--video", saved["clip"], "--method", "nearest", "--context", 3]
    argv += ["--frames", 2, "--num", 1, "--train-clips", saved["clips"], "--scale", 1]
    code, stdout, err = run([*argv, "--out", out], capsys)
    assert code == 0, err
    gif = autoreg.data.load_clips(out)[0]  # (steps, 2 rows, 1 column)
    clip = np.load(saved["clips"])[3]  # the GIF is clip 3: it continues itself
    truth, predicted = tile(gif, 0, size=8)[-1, ..., 0], tile(gif, 1, size=8)[-1, ..., 0]
    np.testing.assert_array_equal(truth, clip[4, ..., 0])
    np.testing.assert_array_equal(predicted, clip[4, ..., 0])


@pytest.mark.slow
def test_predict_moving_mnist(saved, tmp_path, capsys, shared_data):
    mnist = f"moving_mnist:{shared_data / 'mnist.npz'}"
    out = tmp_path / "mm.gif"
    argv = ["predict", "--model", saved["model"], "--video", mnist, "--index", 5, "--num", 1]
    code, stdout, err = run([*argv, "--context", 2, "--frames", 2, "--out", out], capsys)
    assert code == 0, err
    assert "beside the true 2" in stdout and out.exists()
    # The baseline searches the 10,000 training sequences, made at the model's 8x8.
    code, stdout, err = run([*argv, "--method", "nearest", "--out", tmp_path / "n.gif"], capsys)
    assert code == 0 and "(nearest, beside the true 10)" in stdout, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--video", "{clips}", "--context", "7"], "--context 7 is more than the clip's 6"),
        (["--video", "{clips}", "--index", "6"], "--index 6: .*clips.npy has 6 clips"),
        (["--video", "{clips}", "--index", "-1"], "--index must be >= 0"),
        (["--video", "{clips}", "--out", "x.png"], "output must end in .gif"),
        (["--video", "{clips}", "--train-clips", "{clips}"], "--train-clips is for --method"),
        (["--video", "{clips}", "--method", "nearest", "--temperature", "2"], "--temperature is"),
        (["--video", "{missing}"], "missing.npy: no such file"),
        (["--video", "moving_mnist:"], "name the MNIST after the colon"),
    ],
)
def test_predict_command_refuses(saved, tmp_path, capsys, argv, message):
    names = {**saved, "missing": tmp_path / "missing.npy"}
    argv = ["predict", "--model", saved["model"], *(a.format(**names) for a in argv)]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code, _, err = run(argv, capsys)
    finally:
        os.chdir(cwd)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
    assert not any(p.suffix == ".gif" for p in tmp_path.iterdir())


def test_predict_refuses_image_models(saved, tmp_path, capsys):
    image_model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=FRAME, levels=4)
    autoreg.save_checkpoint(image_model, tmp_path / "image")
    argv = ["predict", "--model", tmp_path / "image", "--video", saved["clips"]]
    code, _, err = run(argv, capsys)
    assert code == 2 and "holds a pixelcnn, an image model; predict works on video" in err
    code, _, err = run(["predict", "--model", "pixelcnn", "--video", saved["clips"]], capsys)
    assert code == 2 and "pixelcnn is an image model; predict works on video models" in err


@pytest.mark.slow
def test_sample_writes_a_gif(saved, tmp_path, capsys):
    out = tmp_path / "samples.gif"
    argv = ["sample", "--checkpoint", saved["model"], "--num", 3, "--scale", 1]
    code, stdout, err = run([*argv, "--duration-ms", 50, "--out", out], capsys)
    assert code == 0 and "wrote 3 samples" in stdout, err
    gif = autoreg.data.load_clips(out)[0]
    assert gif.shape[1:3] == (12, 3 * 12) and len(gif) <= FRAMES
    assert set(np.unique(tile(gif, 0, 2, size=8))) <= {0, 85, 170, 255}  # K = 4 levels
    code, _, err = run([*argv, "--seconds", 1, "--out", tmp_path / "x.gif"], capsys)
    assert code == 2 and "--seconds is for audio models" in err
    code, _, err = run([*argv, "--out", tmp_path / "x.png"], capsys)
    assert code == 2 and "output must end in .gif" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.gif"]


def test_eval_of_clips(saved, capsys):
    argv = ["eval", "--checkpoint", saved["model"], "--data", saved["clips"], "--limit", 3]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "bits/dim" in stdout and "nats per clip, 3 examples" in stdout
    code, _, err = run([*argv, "--heatmap", "h.png"], capsys)
    assert code == 2 and "--heatmap is for image models; video_pixelcnn is a video model" in err


@pytest.mark.slow
def test_train_on_clips(saved, tmp_path, capsys):
    argv = ["train", "--model", "video_pixelcnn", "--preset", "tiny", "--levels", LEVELS]
    argv += ["--data", saved["clips"], "--set", "frames=3", "--workdir", tmp_path / "run"]
    code, _, err = run([*argv, "--window", 100], capsys)
    assert code == 2 and "--window is for audio models; video_pixelcnn is a video model" in err
    argv += ["--steps", 2, "--batch-size", 2, "--no-progress", "--eval-examples", 2]
    code, stdout, err = run(argv, capsys)
    assert code == 0 and "trained video_pixelcnn to step 2" in stdout, err
    model = autoreg.load_checkpoint(tmp_path / "run")
    assert model.config.image_shape == FRAME and model.config.frames == 3  # trained on 6
    assert (tmp_path / "run" / "samples_2.gif").exists()
