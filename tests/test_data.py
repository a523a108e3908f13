"""Image data sources: .npz, folders, IDX, patches, tfds (offline); and their bad inputs."""

import gzip

import numpy as np
import pytest
from PIL import Image

from autoreg.cli import main
from autoreg.data import load_images, quantise


def write_png(path, array):
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


def test_npz_with_mnist_keys_and_labels(tmp_path):
    np.savez(
        tmp_path / "d.npz",
        x_train=np.zeros((5, 4, 4), np.uint8),
        y_train=np.arange(5),
        x_test=np.full((2, 4, 4), 255, np.uint8),
    )
    train = load_images(tmp_path / "d.npz")
    assert train.examples.shape == (5, 4, 4, 1) and list(train.labels) == [0, 1, 2, 3, 4]
    test = load_images(tmp_path / "d.npz", split="test", binarize=True)
    assert test.levels == 2 and test.examples.max() == 1 and test.labels is None


def test_npz_with_one_array(tmp_path):
    np.savez(tmp_path / "d.npz", pictures=np.zeros((3, 4, 4, 3), np.uint8))
    assert load_images(tmp_path / "d.npz").examples.shape == (3, 4, 4, 3)


def test_quantise_bins_uniformly():
    np.testing.assert_array_equal(quantise(np.array([0, 63, 64, 255]), 4), [0, 0, 1, 3])


def test_folder_of_images_with_splits(tmp_path):
    for split, n in [("train", 3), ("test", 2)]:
        (tmp_path / split).mkdir()
        for i in range(n):
            write_png(tmp_path / split / f"{i}.png", np.full((6, 5, 3), i * 10))
    assert load_images(tmp_path).examples.shape == (3, 6, 5, 3)
    assert load_images(tmp_path, split="test").examples.shape == (2, 6, 5, 3)


def test_patches_split_train_and_test_regions(tmp_path):
    image = np.repeat(np.arange(50)[:, None] * 5, 40, axis=1)  # a value per row
    write_png(tmp_path / "big.png", image)
    train = load_images(tmp_path / "big.png", patch_size=8, num_patches=20)
    test = load_images(tmp_path / "big.png", split="test", patch_size=8)
    assert train.examples.shape == (20, 8, 8, 1)
    assert test.examples.shape == (5, 8, 8, 1)  # one row of 40/8 patches from rows 40..47
    train_values = {int(v) for v in train.examples.reshape(-1)}
    assert not train_values & {int(v) for v in test.examples.reshape(-1)}


def test_gzipped_idx_files(tmp_path):
    images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    header = bytes([0, 0, 8, 3]) + np.array([2, 3, 3], ">u4").tobytes()
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(header + images.tobytes())
    labels = bytes([0, 0, 8, 1]) + np.array([2], ">u4").tobytes() + bytes([4, 7])
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(labels)
    data = load_images(tmp_path)
    np.testing.assert_array_equal(data.examples[..., 0], images)
    assert list(data.labels) == [4, 7]


def test_tfds_offline_fails_fast_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="not prepared.*--download"):
        load_images("tfds:mnist")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing.npz", "no such file"),
        (lambda p: (np.savez(p / "x.npz", labels=np.arange(3)), p / "x.npz")[1], "no image array"),
        (lambda p: (np.savez(p / "x.npz", x_train=np.zeros((2, 4, 4))), p / "x.npz")[1], "float"),
        (
            lambda p: (np.savez(p / "x.npz", x_train=np.full((2, 4, 4), 300)), p / "x.npz")[1],
            "0..255",
        ),
        (
            lambda p: ((p / "bad.png").write_bytes(b"\x89PNG broken"), p / "bad.png")[1],
            "not a readable image",
        ),
        (lambda p: ((p / "empty").mkdir(), p / "empty")[1], "no PNG or JPEG"),
    ],
)
def test_bad_sources_are_clear_errors(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        load_images(make(tmp_path))


def test_patch_size_is_positive_and_for_image_files_only(tmp_path):
    write_png(tmp_path / "big.png", np.zeros((40, 40), np.uint8))
    with pytest.raises(ValueError, match="patch_size must be a positive integer, got 0"):
        load_images(tmp_path / "big.png", split="test", patch_size=0)
    np.savez(tmp_path / "d.npz", x_test=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="patch_size cuts patches from image files or folders"):
        load_images(tmp_path / "d.npz", split="test", patch_size=2)


def test_npz_that_is_not_an_archive_of_plain_arrays_is_refused(tmp_path):
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(0).bytes(1000))
    np.savez(tmp_path / "objects.npz", x_test=np.array([{"a": 1}], dtype=object))
    for name, message in (("random", "not a .npz file"), ("objects", "object \\(pickled\\)")):
        with pytest.raises(ValueError, match=message) as error:
            load_images(tmp_path / f"{name}.npz", split="test")
        assert "allow_pickle" not in str(error.value)


def test_mixed_sizes_in_a_folder_is_an_error(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((4, 4)))
    write_png(tmp_path / "b.png", np.zeros((5, 4)))
    with pytest.raises(ValueError, match="mixed sizes"):
        load_images(tmp_path)


def train_args(tmp_path, data, *extra):
    return [
        "train",
        "--model",
        "pixelcnn",
        "--preset",
        "tiny",
        "--data",
        str(data),
        "--workdir",
        str(tmp_path / "work"),
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--no-progress",
        *extra,
    ]


@pytest.fixture
def small_npz(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x_train=rng.integers(0, 256, (6, 4, 4), dtype=np.uint8),
        x_test=rng.integers(0, 256, (2, 4, 4), dtype=np.uint8),
    )
    return tmp_path / "d.npz"


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--batch-size", "64"), "larger than the dataset"),
        (("--resume",), "no checkpoint"),
        (("--set", "channels"), "FIELD=VALUE"),
        (("--set", "nonsense=3"), "nonsense"),
    ],
)
def test_train_bad_input_is_one_line_and_writes_nothing(
    tmp_path, small_npz, capsys, extra, message
):
    assert main(train_args(tmp_path, small_npz, *extra)) != 0
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "work" / "checkpoints").exists()


@pytest.mark.slow
def test_train_cli_then_resume_and_foreign_workdir(tmp_path, small_npz, capsys):
    assert main(train_args(tmp_path, small_npz)) == 0
    assert main(train_args(tmp_path, small_npz, "--steps", "3", "--resume")) == 0
    assert main(train_args(tmp_path, small_npz, "--set", "channels=12", "--resume")) != 0
    assert "another model or config: channels 8 -> 12" in capsys.readouterr().err


FIT = "its bits/dim measure the fit"  # the warning of a source used as its own test split


def warnings_in(err: str) -> list:
    return [line for line in err.splitlines() if line.startswith("autoreg: warning: ")]


@pytest.mark.slow
def test_eval_of_a_shipped_model_on_a_source_without_a_test_split_warns_of_no_fit(tmp_path, capsys):
    one_set = tmp_path / "digits.npz"  # one array: the set is its own test split
    np.savez(one_set, images=np.random.default_rng(0).integers(0, 256, (4, 28, 28), np.uint8))
    # The shipped PixelCNN was trained on MNIST's training split, never on this set.
    out = tmp_path / "r.json"
    args = ["eval", "--model", "pixelcnn", "--data", str(one_set), "--limit", "2"]
    assert main([*args, "--json", str(out)]) == 0
    assert warnings_in(capsys.readouterr().err) == []
    assert out.is_file()


def test_eval_of_a_model_trained_on_a_source_without_a_test_split_warns_of_the_fit(
    tmp_path, capsys
):
    one_set = tmp_path / "one_set.npz"
    np.savez(one_set, images=np.random.default_rng(0).integers(0, 256, (6, 4, 4), np.uint8))
    assert main(train_args(tmp_path, one_set, "--steps", "1", "--sample-every", "-1")) == 0
    assert any(FIT in line for line in warnings_in(capsys.readouterr().err))  # so said training
    # Its test bits/dim are on the data it was trained on: they measure the fit.
    args = ["eval", "--checkpoint", str(tmp_path / "work"), "--data", str(one_set)]
    assert main(args) == 0
    (warning,) = warnings_in(capsys.readouterr().err)
    assert f"{one_set} has no test split" in warning and FIT in warning


def test_stochastic_binarization_is_bernoulli_and_fixed_per_split():
    from autoreg.data.images import STOCHASTIC_SEED, quantise

    images = np.full((200, 8, 8), 64, np.uint8)  # p = 64 / 255 everywhere
    images[:, :, :4] = 255  # p = 1 on the left half
    train = quantise(images, 2, binarize="stochastic", split="train")
    again = quantise(images, 2, binarize="stochastic", split="train")
    test = quantise(images, 2, binarize="stochastic", split="test")
    np.testing.assert_array_equal(train, again)  # the same draw in every run
    assert not np.array_equal(train, test)  # but another one per split
    assert (train[:, :, :4] == 1).all()
    assert abs(train[:, :, 4:].mean() - 64 / 255) < 0.02  # Bernoulli(x / 255)
    u = np.random.default_rng([STOCHASTIC_SEED, 0]).random(images.shape)
    np.testing.assert_array_equal(train, (u < images / 255).astype(np.uint8))  # documented seed
    threshold = quantise(images, 2, binarize="threshold")
    np.testing.assert_array_equal(threshold, quantise(images, 2, binarize=True))
    assert (threshold[:, :, 4:] == 0).all()
    with pytest.raises(ValueError, match="binarize must be one of"):
        quantise(images, 2, binarize="random")
