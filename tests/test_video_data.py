"""Video data: Moving MNIST (bounces, determinism, splits, sizes), loading clips, and the
video branches of ``autoreg.data.load``, ``load_pair``, ``load_for_model`` and
``load_for_training``."""

import hashlib
import logging

import numpy as np
import pytest
from PIL import Image

import autoreg
from autoreg.data.video import (
    MNIST_ENV,
    TEST_SEED,
    TRAIN_SEED,
    bounce,
    digit_side,
    moving_mnist,
    moving_mnist_path,
)
from autoreg.modalities import VIDEO

# sha256 of moving_mnist(PATTERN, 3, frames=4, size=32, seed=0), computed once: pins the draws
CHECKSUM = "c4be45f8bdaeae974fd3b51465e806dfdbc7aa2cf8695884a77019f1ce69aab7"
PATTERN = (np.arange(10 * 28 * 28) % 251).astype(np.uint8).reshape(10, 28, 28)


def squares(value: int, count: int = 4) -> np.ndarray:
    """(count, 28, 28) digits that are solid squares of ``value``."""
    return np.full((count, 28, 28), value, np.uint8)


def test_frames_and_shape():
    video = moving_mnist(squares(255), 5, frames=7, size=64)
    assert video.shape == (5, 7, 64, 64, 1) and video.dtype == np.uint8


def test_digits_never_leave_the_frame():
    # One solid 28x28 square per sequence: every frame shows all its 784 pixels.
    video = moving_mnist(squares(255), 6, frames=30, num_digits=1, seed=3)
    assert np.all((video > 0).sum(axis=(2, 3, 4)) == 28 * 28)


def test_two_digits_are_maxed():
    digits = np.stack([squares(100, 1)[0], squares(200, 1)[0]])
    video = moving_mnist(digits, 4, frames=10, num_digits=2, seed=5)
    assert set(np.unique(video)) <= {0, 100, 200}
    # Where two squares overlap, the brighter one shows: never more than two squares' pixels.
    assert np.all((video > 0).sum(axis=(2, 3, 4)) <= 2 * 28 * 28)


def test_velocity_reflects_at_the_edges():
    path = bounce(np.array([0.05, 0.95]), np.array([-1.0, 1.0]), 4)  # (4, 2)
    np.testing.assert_allclose(path[:, 0], [0.0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(path[:, 1], [1.0, 0.9, 0.8, 0.7])
    diagonal = bounce(np.zeros((3, 2)), np.full((3, 2), np.sqrt(0.5)), 40)
    assert diagonal.min() >= 0 and diagonal.max() <= 1
    assert diagonal[:, 0, 0].argmax() < 39  # it turned back


def test_the_same_sequences_every_run():
    video = moving_mnist(PATTERN, 3, frames=4, size=32, seed=0)
    assert hashlib.sha256(video.tobytes()).hexdigest() == CHECKSUM
    np.testing.assert_array_equal(video, moving_mnist(PATTERN, 3, frames=4, size=32, seed=0))
    assert not np.array_equal(video, moving_mnist(PATTERN, 3, frames=4, size=32, seed=1))


def test_a_larger_set_begins_with_the_smaller_one():
    # Drawn sequence by sequence: --limit 3 evaluates the first 3 of the standard set.
    many = moving_mnist(PATTERN, 7, frames=4, size=32, seed=2)
    np.testing.assert_array_equal(many[:3], moving_mnist(PATTERN, 3, frames=4, size=32, seed=2))


def test_smaller_frames_shrink_the_digits():
    assert (digit_side(64), digit_side(32), digit_side(48), digit_side(128)) == (28, 14, 21, 28)
    video = moving_mnist(squares(255), 3, frames=5, size=32, num_digits=1)
    assert video.shape == (3, 5, 32, 32, 1)
    assert np.all((video > 0).sum(axis=(2, 3, 4)) == 14 * 14)
    with pytest.raises(ValueError, match="at least 8"):
        moving_mnist(squares(255), 1, size=4)


def test_bad_digits_are_refused():
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        moving_mnist(np.zeros((3, 20, 20), np.uint8), 1)
    with pytest.raises(ValueError, match="uint8"):
        moving_mnist(np.zeros((3, 28, 28)), 1)


def test_splits_use_their_own_digits(tmp_path):
    np.savez(tmp_path / "d.npz", x_train=squares(100), x_test=squares(200))
    train = autoreg.data.load_moving_mnist(tmp_path / "d.npz", split="train", num=3, frames=2)
    test = autoreg.data.load_moving_mnist(tmp_path / "d.npz", split="test", num=3, frames=2)
    assert set(np.unique(train.examples)) == {0, 100}
    assert set(np.unique(test.examples)) == {0, 200}
    assert train.examples.shape == (3, 2, 64, 64, 1) and train.levels == 256
    assert (TRAIN_SEED, TEST_SEED) == (0, 1)


def test_real_mnist(shared_data):
    dataset = autoreg.data.load_moving_mnist(shared_data / "mnist.npz", split="test", num=2)
    assert dataset.examples.shape == (2, 20, 64, 64, 1)
    assert dataset.examples.max() == 255


def write_frames(folder, count, size=(8, 6), value=50):
    folder.mkdir(parents=True)
    for t in range(count):
        Image.fromarray(np.full(size, value + t, np.uint8)).save(folder / f"{t:03d}.png")


def test_clips_from_arrays(tmp_path):
    clips = np.random.default_rng(0).integers(0, 256, (2, 3, 5, 4, 3), dtype=np.uint8)
    np.save(tmp_path / "c.npy", clips)
    np.savez(tmp_path / "one.npz", anything=clips)
    np.savez(tmp_path / "keyed.npz", clips=clips, other=np.zeros(3))
    for name in ("c.npy", "one.npz", "keyed.npz"):
        np.testing.assert_array_equal(autoreg.data.load_clips(tmp_path / name), clips)
    np.save(tmp_path / "gray.npy", clips[..., 0].astype(np.float32))
    assert autoreg.data.load_clips(tmp_path / "gray.npy").shape == (2, 3, 5, 4, 1)


def test_clips_from_folders(tmp_path):
    write_frames(tmp_path / "one", 4)
    clip = autoreg.data.load_clips(tmp_path / "one")
    assert clip.shape == (1, 4, 8, 6, 1)
    assert clip[0, :, 0, 0, 0].tolist() == [50, 51, 52, 53]  # sorted order
    write_frames(tmp_path / "many" / "a", 3)
    write_frames(tmp_path / "many" / "b", 3, value=90)
    clips = autoreg.data.load_clips(tmp_path / "many")
    assert clips.shape == (2, 3, 8, 6, 1) and clips[1, 0, 0, 0, 0] == 90


def test_clips_from_a_gif(tmp_path):
    frames = [Image.fromarray(np.full((6, 7), 40 * t, np.uint8)) for t in range(4)]
    frames[0].save(tmp_path / "c.gif", save_all=True, append_images=frames[1:], duration=50)
    clip = autoreg.data.load_clips(tmp_path / "c.gif")
    assert clip.shape == (1, 4, 6, 7, 1)
    assert clip[0, :, 0, 0, 0].tolist() == [0, 40, 80, 120]
    colour = [Image.new("RGB", (5, 5), (255, 0, 10 * t)) for t in range(2)]
    colour[0].save(tmp_path / "rgb.gif", save_all=True, append_images=colour[1:])
    assert autoreg.data.load_clips(tmp_path / "rgb.gif").shape == (1, 2, 5, 5, 3)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((2, 3, 4), np.uint8), "expected clips"),
        (np.zeros((2, 3, 4, 4, 2), np.uint8), "expected clips"),
        (np.zeros((2, 0, 4, 4), np.uint8), "no frames"),
        (np.zeros((1, 2, 4, 4), bool), "dtype bool; accepted: integers 0..255"),
        (np.full((1, 2, 4, 4), 0.5), "holds non-integer values; accepted"),
        (np.full((1, 2, 4, 4), 300), "values in 300..300; accepted"),
        (np.full((1, 2, 4, 4), -1.0), r"values in -1..-1; accepted"),
    ],
)
def test_bad_arrays_name_the_file(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=f"bad.npy: {message}"):
        autoreg.data.load_clips(tmp_path / "bad.npy")


def test_bad_files_and_folders_name_the_file(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((1, 1, 2, 2)), b=np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="two.npz: expected a 'clips' array"):
        autoreg.data.load_clips(tmp_path / "two.npz")
    np.save(tmp_path / "obj.npy", np.array([1, "a"], dtype=object))
    with pytest.raises(ValueError, match="obj.npy: holds object"):
        autoreg.data.load_clips(tmp_path / "obj.npy")
    write_frames(tmp_path / "ragged", 2)
    Image.fromarray(np.zeros((9, 6), np.uint8)).save(tmp_path / "ragged" / "009.png")
    with pytest.raises(ValueError, match=r"009.png: frame of shape \(9, 6, 1\)"):
        autoreg.data.load_clips(tmp_path / "ragged")
    write_frames(tmp_path / "uneven" / "a", 2)
    write_frames(tmp_path / "uneven" / "b", 3)
    with pytest.raises(ValueError, match=r"uneven/b: clip of shape \(3, 8, 6, 1\)"):
        autoreg.data.load_clips(tmp_path / "uneven")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty: no frames"):
        autoreg.data.load_clips(tmp_path / "empty")
    (tmp_path / "c.txt").write_text("x")
    with pytest.raises(ValueError, match="c.txt: unsupported clips"):
        autoreg.data.load_clips(tmp_path / "c.txt")
    (tmp_path / "broken.gif").write_bytes(b"GIF89a-not-really")
    with pytest.raises(ValueError, match="broken.gif: not a readable GIF"):
        autoreg.data.load_clips(tmp_path / "broken.gif")
    with pytest.raises(ValueError, match="nothing.npy: no such file"):
        autoreg.data.load_clips(tmp_path / "nothing.npy")


@pytest.fixture
def digits_npz(tmp_path):
    """An MNIST-like .npz of solid squares: training digits 100, test digits 200."""
    np.savez(tmp_path / "d.npz", x_train=squares(100), x_test=squares(200))
    return tmp_path / "d.npz"


def test_moving_mnist_source_names(digits_npz, tmp_path, monkeypatch):
    assert moving_mnist_path(f"moving_mnist:{digits_npz}") == str(digits_npz)
    assert moving_mnist_path("clips.npy") is None and moving_mnist_path(tmp_path) is None
    assert moving_mnist_path("moving_mnist_clips.npy") is None
    with pytest.raises(ValueError, match="name the MNIST after the colon"):
        moving_mnist_path("moving_mnist:")
    monkeypatch.setenv(MNIST_ENV, str(digits_npz))
    assert moving_mnist_path("moving_mnist") == str(digits_npz)
    monkeypatch.setenv(MNIST_ENV, str(tmp_path / "absent.npz"))
    with pytest.raises(ValueError, match="absent.npz: no such file"):
        moving_mnist_path("moving_mnist")
    monkeypatch.delenv(MNIST_ENV)
    monkeypatch.chdir(tmp_path)  # no mnist.npz here
    with pytest.raises(ValueError, match="no MNIST found .* moving_mnist:PATH"):
        autoreg.data.load("moving_mnist", kind="video")
    (tmp_path / "mnist.npz").write_bytes(digits_npz.read_bytes())
    assert moving_mnist_path("moving_mnist") == "mnist.npz"


def test_load_moving_mnist_binned_by_split(digits_npz):
    source = f"moving_mnist:{digits_npz}"
    options = dict(kind="video", levels=4, num=3, frames=5, frame_size=16, num_digits=1)
    train = autoreg.data.load(source, split="train", **options)
    test = autoreg.data.load(source, split="test", **options)
    assert train.examples.shape == (3, 5, 16, 16, 1) and train.labels is None
    assert set(np.unique(train.examples)) == {0, 1}  # 100 of 0..255 is level 1 of 4
    assert set(np.unique(test.examples)) == {0, 3}  # 200 is level 3
    assert train.levels == 4 and test.source.endswith(":test")
    full = autoreg.data.load(source, kind="video", levels=4, frame_size=16)
    assert full.examples.shape == (10_000, 20, 16, 16, 1)  # the standard set's size and frames


def test_clips_are_their_own_test_split(tmp_path, caplog):
    clips = np.random.default_rng(0).integers(0, 256, (5, 3, 4, 4), dtype=np.uint8)
    np.save(tmp_path / "c.npy", clips)
    with caplog.at_level(logging.WARNING, logger="autoreg"):
        train, test = autoreg.data.load_pair(tmp_path / "c.npy", kind="video", levels=16)
    assert "its test split is the training clips" in caplog.text
    np.testing.assert_array_equal(train.examples, clips[..., None] // 16)
    np.testing.assert_array_equal(test.examples, train.examples)
    assert len(autoreg.data.load(tmp_path / "c.npy", kind="video", num=2)) == 2


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(frames=4), "frames: options of moving_mnist, not of clips"),
        (dict(frame_size=8, num_digits=1), "frame_size, num_digits: options of moving_mnist"),
        (dict(binarize=True), "binarize is not an option of video sources"),
        (dict(window=100), "window is not an option of video sources"),
        (dict(num=0), "num must be a positive integer"),
    ],
)
def test_wrong_options_for_clips(tmp_path, options, message):
    np.save(tmp_path / "c.npy", np.zeros((2, 3, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=message):
        autoreg.data.load(tmp_path / "c.npy", kind="video", **options)


def test_video_options_are_refused_for_images(tmp_path):
    np.savez(tmp_path / "i.npz", x_train=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="frames is not an option of image sources"):
        autoreg.data.load(tmp_path / "i.npz", frames=4)


class VideoConfig:
    """What the data functions read of a video model's config."""

    def __init__(self, image_shape, frames):
        self.image_shape, self.frames = image_shape, frames


class VideoModel:
    """What ``load_for_model`` reads of a video model (the real one is tested with the CLI)."""

    modality, name, num_classes, levels = VIDEO, "video_stub", 0, 4

    def __init__(self, image_shape=(16, 16, 1), frames=3):
        self.config = VideoConfig(image_shape, frames)


def test_load_for_model_makes_moving_mnist_at_the_models_size(digits_npz, tmp_path):
    dataset = autoreg.data.load_for_model(VideoModel(), f"moving_mnist:{digits_npz}", limit=2)
    assert dataset.examples.shape == (2, 3, 16, 16, 1) and dataset.levels == 4
    assert set(np.unique(dataset.examples)) == {0, 3}  # the test digits
    with pytest.raises(ValueError, match=r"square and gray \(H, H, 1\).*\(16, 8, 1\)"):
        autoreg.data.load_for_model(VideoModel((16, 8, 1)), f"moving_mnist:{digits_npz}")
    np.save(tmp_path / "c.npy", np.zeros((3, 7, 16, 16), np.uint8))  # any number of frames
    assert autoreg.data.load_for_model(VideoModel(), tmp_path / "c.npy").event_shape == (
        7,
        16,
        16,
        1,
    )
    with pytest.raises(
        ValueError, match=r"\(7, 16, 16, 1\) per example, the model expects frames of \(8, 8, 1\)"
    ):
        autoreg.data.load_for_model(VideoModel((8, 8, 1)), tmp_path / "c.npy")
    with pytest.raises(ValueError, match="binarize is not an option of video sources"):
        autoreg.data.load_for_model(VideoModel(), tmp_path / "c.npy", binarize=True)


def test_load_for_training_video(digits_npz):
    config = autoreg.registry.make_config(
        "video_pixelcnn", "tiny", image_shape=(16, 16, 1), frames=6
    )
    train, test = autoreg.data.load_for_training(
        f"moving_mnist:{digits_npz}", config, kind="video", levels=2, num=4
    )
    assert train.examples.shape == test.examples.shape == (4, 6, 16, 16, 1)
    assert train.examples.max() == 0 and test.examples.max() == 1  # 100 and 200 at K = 2


def test_real_moving_mnist_source(shared_data):
    source = f"moving_mnist:{shared_data / 'mnist.npz'}"
    test = autoreg.data.load(source, kind="video", split="test", num=2, frame_size=32, levels=4)
    assert test.examples.shape == (2, 20, 32, 32, 1) and test.examples.max() == 3
