"""Bad inputs are refused before any work, with a message that names the problem.

The command-line rows are a table like ``test_cli_errors``: one line on stderr, the usage exit
code, nothing written. Every row is refused before a model runs, so the file stays fast.
"""

import json
import logging
import struct
import zlib

import numpy as np
import pytest
from flax import nnx
from PIL import Image

import autoreg
from autoreg.cli import main
from autoreg.cli.train_options import CONFIG_OPTIONS
from autoreg.data import load_images
from autoreg.data.images import read_image
from autoreg.likelihood import bits_per_dim, log_prob
from autoreg.train_config import FIELD_RULES
from autoreg.training import TrainConfig, train_arrays
from autoreg.validation import check_temperature

IMAGE_SHAPE = (8, 8, 1)


def bomb_png(path, side: int = 20_000) -> None:
    """A PNG whose header claims ``side`` x ``side`` pixels (PIL refuses to open it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit grayscale
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    path.write_bytes(png + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{placeholder: path} of the inputs the tables refer to."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    paths = {name: root / name for name in ("image", "audio", "labelled", "overflowing")}
    models = {
        "image": autoreg.create_model("pixelcnn", preset="tiny", image_shape=IMAGE_SHAPE),
        "audio": autoreg.create_model("wavenet", preset="tiny"),
        "labelled": autoreg.create_model(
            "gated_pixelcnn", preset="tiny", image_shape=IMAGE_SHAPE, num_classes=10
        ),
    }
    broken = autoreg.create_model("pixelcnn", preset="tiny", image_shape=IMAGE_SHAPE)
    params = nnx.state(broken, nnx.Param)
    nnx.update(broken, jax_map_huge(params))
    models["overflowing"] = broken
    for name, model in models.items():
        autoreg.save_checkpoint(model, paths[name])

    def images(n, side=8):
        return rng.integers(0, 256, (n, side, side), dtype=np.uint8)

    def labels(n):
        return rng.integers(0, 10, n)

    test = dict(x_test=images(4), y_test=labels(4))
    datasets = {
        "npz": dict(x_train=images(8), y_train=labels(8), **test),
        "huge_labels": dict(x_train=images(8), y_train=np.full(8, 10**9), **test),
        "negative_labels": dict(x_train=images(8), y_train=np.full(8, -1), **test),
        "half_labels": dict(x_train=images(8), y_train=np.full(8, 0.5), **test),
        "short_labels": dict(x_train=images(8), y_train=labels(5), **test),
        "odd_test": dict(x_train=images(8), x_test=images(4, side=7)),
        "one_array": dict(images=images(6)),
        "empty_test": dict(x_train=images(8), x_test=images(0)),
    }
    for name, arrays in datasets.items():
        paths[name] = root / f"{name}.npz"
        np.savez(paths[name], **arrays)
    paths["bomb"] = root / "bomb.png"
    bomb_png(paths["bomb"])
    paths["src"] = root / "src.png"
    Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8)).save(paths["src"])
    paths["features"] = root / "features.npy"
    np.save(paths["features"], np.zeros((4, 80), np.float32))
    paths["mel"] = root / "mel.npy"
    np.save(paths["mel"], np.zeros((4, 80), np.float32))
    return paths


def jax_map_huge(state):
    """Finite parameters (a checkpoint with NaN ones is refused on load) so large that the
    network overflows: its log-likelihoods are not finite."""
    import jax

    return jax.tree.map(lambda a: a * 0 + 3e38, state)


IMAGE = ("--checkpoint", "{image}")
AUDIO = ("--checkpoint", "{audio}")
TRAIN = ("train", "--model", "pixelcnn", "--preset", "tiny", "--workdir", "{out}/w", "--steps", "1")
TRAIN += ("--batch-size", "4")
TRAIN_NPZ = (*TRAIN, "--data", "{npz}")
LABELLED = ("train", "--model", "gated_pixelcnn", "--preset", "tiny", "--workdir", "{out}/w")
LABELLED += ("--steps", "1", "--batch-size", "4", "--num-classes", "10", "--data")
BIG_SEED = str(2**64)
SEED_MESSAGE = "argument --seed: must be an integer in 0..9223372036854775807, got '{}'"
TEXTURE = ("texture", "--image", "{src}", "--out", "{out}/t.png")
COMPLETE = ("complete", *IMAGE, "--data", "{npz}", "--out", "{out}/c.png")
VOCODE = ("vocode", "--mel", "{mel}", "--out", "{out}/v.wav")

CASES = [
    # Training data: class labels are integers in range, one per example.
    (
        (*LABELLED, "{huge_labels}"),
        "train_labels must be in 0..9, got values in 1000000000..1000000000",
    ),
    ((*LABELLED, "{negative_labels}"), "train_labels must be in 0..9, got values in -1..-1"),
    ((*LABELLED, "{half_labels}"), "half_labels.npz: y_train holds non-integer labels (0.5)"),
    ((*LABELLED, "{short_labels}"), "short_labels.npz: 5 labels for 8 images (train split)"),
    ((*TRAIN, "--data", "{odd_test}"), "test_x has examples of shape (7, 7, 1), train_x of"),
    # Training settings are checked before any data are read.
    ((*TRAIN_NPZ, "--eval-examples", "0"), "argument --eval-examples: must be a positive"),
    ((*TRAIN_NPZ, "--lr", "inf"), "argument --lr: must be a positive number, got 'inf'"),
    ((*TRAIN_NPZ, "--grad-clip", "-1"), "argument --grad-clip: must be a number >= 0, got '-1'"),
    (
        (*TRAIN_NPZ, "--warmup-steps", "-5"),
        "argument --warmup-steps: must be an integer >= 0, got '-5'",
    ),
    ((*TRAIN_NPZ, "--time-limit", "-1"), "argument --time-limit: must be a number >= 0, got '-1'"),
    # Options that do not apply are refused, saying why.
    ((*TRAIN_NPZ, "--window", "100"), "--window is for audio models; pixelcnn is an image model"),
    (
        (*TRAIN_NPZ, "--holdout-seconds", "1"),
        "--holdout-seconds is for audio models; pixelcnn is an image model",
    ),
    (
        (*TRAIN_NPZ, "--speaker-from", "stem"),
        "--speaker-from is for audio models; pixelcnn is an image model",
    ),
    ((*TRAIN_NPZ, "--binarize", "--levels", "16"), "--binarize makes K = 2; it takes no --levels"),
    (
        (*VOCODE, "--method", "griffin-lim", "--temperature", "0.5"),
        "--temperature is for --method wavenet; griffin-lim does not sample logits",
    ),
    (
        (*VOCODE, "--checkpoint", "{out}/missing", "--temperature", "0"),
        "argument --temperature: must be a positive number, got '0'",
    ),
    # Seeds: one rule for every command.
    (("sample", *IMAGE, "--seed", BIG_SEED, "--out", "{out}/s.png"), SEED_MESSAGE.format(BIG_SEED)),
    (("sample", *IMAGE, "--seed", "-1", "--out", "{out}/s.png"), SEED_MESSAGE.format(-1)),
    ((*TRAIN_NPZ, "--seed", BIG_SEED), SEED_MESSAGE.format(BIG_SEED)),
    ((*COMPLETE, "--seed", BIG_SEED), SEED_MESSAGE.format(BIG_SEED)),
    ((*VOCODE, "--seed", BIG_SEED), SEED_MESSAGE.format(BIG_SEED)),
    ((*TEXTURE, "--seed", "-1"), SEED_MESSAGE.format(-1)),
    # Decompression bombs: one line naming the file and its size.
    (
        ("texture", "--image", "{bomb}", "--out", "{out}/t.png"),
        "{bomb}: 20000x20000 pixels, more than the 89478485 an image may have",
    ),
    ((*TRAIN, "--data", "{bomb}"), "{bomb}: 20000x20000 pixels"),
    (("eval", *IMAGE, "--data", "{bomb}"), "{bomb}: 20000x20000 pixels"),
    (
        ("complete", *IMAGE, "--image", "{bomb}", "--resize", "--out", "{out}/c.png"),
        "{bomb}: 20000x20000 pixels",
    ),
    # Messages that name the problem.
    ((*TRAIN_NPZ, "--set", "levels=4"), "--set levels: the number of levels is set by --levels"),
    ((*TRAIN_NPZ, "--set", "seed=4"), "--set seed: the seed is set by --seed"),
    (
        ("sample", *AUDIO, "--features", "{features}", "--out", "{out}/s.wav"),
        "--features is for locally conditioned models (a vocoder such as wavenet_vocoder); "
        "wavenet takes none (pass --seconds for the length)",
    ),
]


def case_id(value) -> str:
    return " ".join(value)[:60] if isinstance(value, tuple) else ""


def run_cli(argv, files, tmp_path, capsys):
    """(exit code, stderr, stdout) of ``autoreg argv`` with the placeholders filled in."""
    names = {**{k: str(v) for k, v in files.items()}, "out": str(tmp_path)}
    code = main([arg.format(**names) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.err, captured.out, names


@pytest.mark.parametrize("argv, message", CASES, ids=case_id)
def test_refused_with_one_line_and_nothing_written(argv, message, files, tmp_path, capsys):
    before = sorted(tmp_path.rglob("*"))
    code, err, _, names = run_cli(argv, files, tmp_path, capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("autoreg: error: ") and message.format(**names) in err, err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, not even a workdir


# The library refuses the same training inputs, before it writes anything.
LABELS = np.arange(8) % 10
API_CASES = [
    (dict(train_labels=np.full(8, 10**9)), "train_labels must be in 0..9"),
    (dict(train_labels=np.full(8, -1)), "train_labels must be in 0..9"),
    (dict(train_labels=np.full(8, 0.5)), "train_labels must be integers, got dtype float64"),
    (dict(train_labels=LABELS[:5]), "train_labels has 5 labels for 8 examples"),
    (
        dict(train_labels=LABELS, test_x=np.zeros((2, 7, 7, 1), np.uint8), test_labels=LABELS[:2]),
        "test_x has examples of shape (7, 7, 1), train_x of (8, 8, 1)",
    ),
    (
        dict(train_labels=LABELS, test_x=np.zeros((2, 8, 8, 1), np.uint8), test_labels=LABELS),
        "test_labels has 8 labels for 2 examples",
    ),
]


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(eval_examples=0), "eval_examples must be a positive integer, got 0"),
        (dict(steps=2.5), "steps must be a positive integer, got 2.5"),
        (dict(batch_size=True), "batch_size must be a positive integer, got True"),
        (dict(learning_rate=np.inf), "learning_rate must be a positive number, got inf"),
        (dict(grad_clip=-1.0), "grad_clip must be a number >= 0, got -1.0"),
        (dict(warmup_steps=-5), "warmup_steps must be an integer >= 0, got -5"),
        (dict(time_limit=float("nan")), "time_limit must be a number >= 0, got nan"),
        (dict(ema_decay=1.0), r"ema_decay must be a number in \[0, 1\), got 1.0"),
        (dict(seed=2**64), "seed must be an integer in 0..9223372036854775807"),
        (dict(sample_every=-2), "sample_every must be an integer >= -1, got -2"),
    ],
)
def test_train_config_refuses_a_field_against_its_rule(fields, message):
    """A ``TrainConfig`` is refused when it is made, so ``train`` never starts on one."""
    with pytest.raises(ValueError, match=message):
        TrainConfig(**fields)


FLAGS = {field: flag for options in CONFIG_OPTIONS.values() for flag, field, _ in options}


@pytest.mark.parametrize("field", sorted(FLAGS))
def test_each_train_option_applies_its_fields_rule(field, capsys):
    """The CLI option of a ``TrainConfig`` field refuses what the field's rule refuses, with
    the rule's words (one rule, not a second one in the CLI)."""
    code = main(["train", "--model", "pixelcnn", "--data", "x.npz", FLAGS[field], "-7.5"])
    err = capsys.readouterr().err
    assert code == 2 and f"argument {FLAGS[field]}: {FIELD_RULES[field].requirement}" in err, err


@pytest.mark.parametrize(
    "inputs, message", API_CASES, ids=lambda v: "" if isinstance(v, dict) else v
)
def test_train_refuses_bad_inputs_before_writing(inputs, message, tmp_path):
    model = autoreg.create_model(
        "gated_pixelcnn", preset="tiny", image_shape=IMAGE_SHAPE, num_classes=10
    )
    inputs = {"config": TrainConfig(steps=1, batch_size=2), **inputs}
    x = np.zeros((8, *IMAGE_SHAPE), np.uint8)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        train_arrays(model, x, tmp_path / "w", progress=False, **inputs)
    assert not (tmp_path / "w").exists()


def test_non_finite_bits_per_dim_is_an_error_and_no_json(files, tmp_path, capsys):
    argv = ("eval", "--checkpoint", "{overflowing}", "--data", "{npz}", "--json", "{out}/r.json")
    code, err, out, _ = run_cli(argv, files, tmp_path, capsys)
    assert code == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]  # after the progress bar
    assert last == (
        "autoreg: error: bits/dim is nan: the model gives non-finite log-likelihoods (are its "
        "parameters finite?)"
    )
    assert not (tmp_path / "r.json").exists() and out == ""


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 255, 256, 32768], [40000, 65280, 65535, 1000]], np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode in ("I;16", "I")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png")[..., 0], values >> 8)


def test_empty_batch_is_a_clear_error():
    model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=IMAGE_SHAPE)
    empty = np.zeros((0, *IMAGE_SHAPE), np.uint8)
    with pytest.raises(ValueError, match="x holds no examples"):
        log_prob(model, empty)
    with pytest.raises(ValueError, match="x holds no examples"):
        bits_per_dim(model, empty)


@pytest.mark.parametrize("value", [np.float32(0.5), np.float64(2.0), np.int64(1)])
def test_numpy_scalar_temperature_is_accepted(value):
    assert check_temperature(value) == float(value)


@pytest.mark.parametrize("value", [np.float32("nan"), np.bool_(True), np.array([0.5]), "1"])
def test_bad_temperature_is_refused(value):
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        check_temperature(value)


def test_a_source_used_as_its_own_test_split_says_so(files, caplog):
    with caplog.at_level(logging.WARNING, logger="autoreg"):
        dataset = load_images(files["one_array"], split="test")
    assert len(dataset) == 6
    assert "one_array.npz has no test split: its test split is the training data" in caplog.text


def test_eval_of_a_source_without_a_test_split_warns_on_one_line(files, tmp_path, capsys):
    argv = ("eval", *IMAGE, "--data", "{one_array}", "--json", "{out}/r.json")
    code, err, _, _ = run_cli(argv, files, tmp_path, capsys)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("autoreg:")]  # no progress
    assert len(lines) == 1 and lines[0].startswith("autoreg: warning: "), err
    assert "has no test split: its test split is the training data" in lines[0]
    assert json.loads((tmp_path / "r.json").read_text())["num_examples"] == 6


@pytest.mark.parametrize(
    "source, message",
    [
        ("empty_test", "empty_test.npz: the test split is empty; training without test bits/dim"),
        ("src", "src.png: no test split (put test images in a test/ folder); training without"),
    ],
)
def test_training_without_test_data_says_so(source, message, files, caplog):
    from autoreg.data import load_for_training

    with caplog.at_level(logging.WARNING, logger="autoreg"):
        _, test_set = load_for_training(str(files[source]), levels=256)
    assert test_set is None
    assert message in caplog.text
