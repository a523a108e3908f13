"""The command line: sample and eval on a tiny checkpoint, one-line errors, nothing half-written."""

import json
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import soundfile
from PIL import Image

import autoreg
from autoreg.cli import build_parser, main
from autoreg.cli.common import BINARIZATIONS, OCCLUSIONS

COMMANDS = ("train", "sample", "complete", "predict", "eval", "texture", "vocode", "demo")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=256, image_shape=(8, 8, 1))
    path = tmp_path_factory.mktemp("cli") / "tiny"
    autoreg.save_checkpoint(model, path)
    return path


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (20, 8, 8), dtype=np.uint8),
        x_test=rng.integers(0, 256, (10, 8, 8), dtype=np.uint8),
    )
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def test_sample_writes_a_png_grid(checkpoint, tmp_path, capsys):
    out = tmp_path / "grid.png"
    args = ["sample", "--checkpoint", str(checkpoint), "--num", "4", "--out", str(out)]
    assert main([*args, "--scale", "1"]) == 0
    image = np.asarray(Image.open(out))
    assert image.shape == (2 + 2 * 10, 2 + 2 * 10)  # 2x2 grid of 8x8 with 2px padding
    assert "wrote 4 samples" in capsys.readouterr().out
    # By default the 22 px grid is upscaled 12x (nearest neighbour) to at least 256 px.
    assert main(args) == 0
    scaled = np.asarray(Image.open(out))
    np.testing.assert_array_equal(scaled, image.repeat(12, 0).repeat(12, 1))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_eval_prints_and_writes_json(checkpoint, npz, tmp_path, capsys):
    out = tmp_path / "result.json"
    args = ["eval", "--checkpoint", str(checkpoint), "--data", str(npz), "--limit", "6"]
    assert main([*args, "--batch-size", "4", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    record = json.loads(out.read_text())
    assert record["num_examples"] == 6 and record["split"] == "test"
    assert f"{record['bits_per_dim']:.4f} bits/dim" in printed
    data = np.load(npz)["x_test"][:6, :, :, None]
    model = autoreg.load_checkpoint(checkpoint)
    assert record["bits_per_dim"] == pytest.approx(autoreg.bits_per_dim(model, data), rel=1e-5)


def test_sample_without_checkpoint_or_model_is_an_error(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["sample", "--out", str(out)]) != 0
    assert "--checkpoint" in one_line_error(capsys)
    assert not out.exists()


def test_sample_with_missing_checkpoint_is_an_error(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["sample", "--checkpoint", str(tmp_path / "nope"), "--out", str(out)]) != 0
    assert "no checkpoint" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_sample_to_a_missing_folder_is_an_error(checkpoint, tmp_path, capsys):
    out = tmp_path / "missing" / "x.png"
    assert main(["sample", "--checkpoint", str(checkpoint), "--out", str(out)]) != 0
    assert "does not exist" in one_line_error(capsys)


def test_eval_with_wrong_image_size_is_an_error(checkpoint, tmp_path, capsys):
    data = tmp_path / "big.npz"
    np.savez(data, x_test=np.zeros((3, 28, 28), np.uint8))
    out = tmp_path / "r.json"
    args = ["eval", "--checkpoint", str(checkpoint), "--data", str(data), "--json", str(out)]
    assert main(args) != 0
    assert "expects (8, 8, 1)" in one_line_error(capsys)
    assert not out.exists()


def test_eval_with_float_images_is_an_error(checkpoint, tmp_path, capsys):
    data = tmp_path / "float.npz"
    np.savez(data, x_test=np.random.default_rng(0).random((3, 8, 8)))
    assert main(["eval", "--checkpoint", str(checkpoint), "--data", str(data)]) != 0
    assert "float" in one_line_error(capsys)


def test_unknown_option_is_one_line(capsys):
    assert main(["sample", "--bogus"]) != 0
    one_line_error(capsys)


def test_console_script_help_and_error_exit_code(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "autoreg.cli", "eval", "--checkpoint", str(tmp_path), "--data", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip().startswith("autoreg: error:") and "Traceback" not in done.stderr
    helped = subprocess.run(
        [sys.executable, "-m", "autoreg.cli", "sample", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert helped.returncode == 0 and "--temperature" in helped.stdout


def test_complete_writes_one_row_per_input(checkpoint, npz, tmp_path, capsys):
    out = tmp_path / "c.png"
    args = ["complete", "--checkpoint", str(checkpoint), "--data", str(npz), "--index", "0", "2"]
    assert (
        main([*args, "--num", "2", "--occlude", "bottom", "--out", str(out), "--scale", "1"]) == 0
    )
    grid = np.asarray(Image.open(out))
    assert grid.shape == (2 + 2 * 10, 2 + 4 * 10, 3)  # 2 rows of (input, 2 completions, original)
    assert "exact" in capsys.readouterr().out
    # The observed top half of every completion equals the original's.
    original = grid[2:10, 32:40]
    for column in (1, 2):
        x = 2 + column * 10
        np.testing.assert_array_equal(grid[2:6, x : x + 8], original[:4])


def test_complete_box_uses_smc(checkpoint, npz, tmp_path, capsys):
    out = tmp_path / "c.png"
    args = ["complete", "--checkpoint", str(checkpoint), "--data", str(npz), "--index", "1"]
    assert main([*args, "--occlude", "box:2,2,5,6", "--particles", "4", "--out", str(out)]) == 0
    assert "SMC, 4 particles" in capsys.readouterr().out


def test_complete_with_image_of_wrong_size_is_an_error(checkpoint, tmp_path, capsys):
    Image.fromarray(np.zeros((12, 12), np.uint8)).save(tmp_path / "big.png")
    out = tmp_path / "c.png"
    args = ["complete", "--checkpoint", str(checkpoint), "--image", str(tmp_path / "big.png")]
    assert main([*args, "--out", str(out)]) != 0
    assert "--resize" in one_line_error(capsys)
    assert not out.exists()
    assert main([*args, "--out", str(out), "--resize", "--num", "1"]) == 0


def test_eval_heatmap(checkpoint, npz, tmp_path, capsys):
    out = tmp_path / "heat.png"
    args = ["eval", "--checkpoint", str(checkpoint), "--data", str(npz), "--limit", "3"]
    assert main([*args, "--heatmap", str(out)]) == 0
    # The same picture as the library draws for the first 3 test images.
    from autoreg.heatmap import bits_per_position, render_heatmap

    model = autoreg.load_checkpoint(checkpoint)
    images = np.load(npz)["x_test"][:3, :, :, None]
    expected = tmp_path / "expected.png"
    render_heatmap(images, bits_per_position(model, images), expected, levels=256)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(expected)))
    assert Image.open(out).size[0] > 3 * 8  # three 8x8 images side by side, and a colour bar


def test_texture_efros_leung(tmp_path, capsys):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8)).save(tmp_path / "src.png")
    out = tmp_path / "t.png"
    args = ["texture", "--image", str(tmp_path / "src.png"), "--size", "12", "--window", "5"]
    assert main([*args, "--out", str(out), "--scale", "1"]) == 0
    native = np.asarray(Image.open(out))
    assert native.shape == (12, 12)
    assert main([*args, "--out", str(out)]) == 0  # default: upscaled to at least 256 px
    np.testing.assert_array_equal(Image.open(out), native.repeat(22, 0).repeat(22, 1))


def test_texture_of_a_corrupt_png_is_an_error(tmp_path, capsys):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "t.png"
    assert main(["texture", "--image", str(tmp_path / "bad.png"), "--out", str(out)]) != 0
    assert "not a readable image" in one_line_error(capsys)
    assert not out.exists()


def test_a_large_sample_runs_in_batches_with_a_progress_bar(
    checkpoint, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("AUTOREG_MEMORY_LIMIT", "2M")  # about 12 tiny 8x8 samples per batch
    out = tmp_path / "many.png"
    args = ["sample", "--checkpoint", str(checkpoint), "--num", "30", "--scale", "1"]
    assert main([*args, "--out", str(out)]) == 0
    out_text, err = capsys.readouterr()
    assert "wrote 30 samples" in out_text and "sample:" in err
    assert re.search(r"/(\d+) rows", err)  # the bar over the rows of every batch
    first = np.asarray(Image.open(out))
    assert first.shape == (2 + 5 * 10, 2 + 6 * 10)  # 6 columns, 5 rows of 8x8 tiles
    assert main([*args, "--out", str(out)]) == 0  # deterministic for a seed and a budget
    np.testing.assert_array_equal(Image.open(out), first)


def test_a_failure_while_writing_exits_1_naming_the_output(
    checkpoint, tmp_path, capsys, monkeypatch
):
    def disk_full(self, fp, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    out = tmp_path / "s.png"
    assert main(["sample", "--checkpoint", str(checkpoint), "--num", "1", "--out", str(out)]) == 1
    assert f"cannot write {out}: No space left on device" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []  # the hidden temporary file is gone too


@pytest.fixture(scope="module")
def wavenet(tmp_path_factory):
    """(tiny WaveNet checkpoint, folder with a 0.3 s and a 0.1 s clip at 16 kHz)."""
    root = tmp_path_factory.mktemp("wavenet")
    autoreg.save_checkpoint(autoreg.create_model("wavenet", preset="tiny"), root / "model")
    rng = np.random.default_rng(0)
    (root / "clips").mkdir()
    for name, seconds in (("long", 0.3), ("short", 0.1)):
        audio = rng.uniform(-0.5, 0.5, round(16_000 * seconds))
        soundfile.write(root / "clips" / f"{name}.wav", audio, 16_000)
    return root / "model", root / "clips"


def test_eval_of_audio_skips_clips_shorter_than_the_holdout(wavenet, tmp_path, capsys):
    model, clips = wavenet
    out = tmp_path / "r.json"
    args = ["eval", "--checkpoint", str(model), "--data", str(clips), "--holdout-seconds", "0.15"]
    assert main([*args, "--window", "800", "--json", str(out)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        f"autoreg: warning: skipped 1 clip shorter than the 0.15 s held out: "
        f"{clips / 'short.wav'} (0.10 s)"
    ]
    assert json.loads(out.read_text())["num_examples"] == 3  # 0.15 s of long.wav in 800s
    assert main([*args, "--window", "800", "--limit", "2", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["num_examples"] == 2


def test_texture_from_a_checkpoint_needs_no_image(checkpoint, tmp_path, capsys):
    out = tmp_path / "t.png"
    args = ["texture", "--checkpoint", str(checkpoint), "--size", "10", "--out", str(out)]
    assert main([*args, "--scale", "1"]) == 0
    assert "pixelcnn texture" in capsys.readouterr().out
    assert np.asarray(Image.open(out)).shape == (10, 10)


def run_python(code: str) -> str:
    """The stdout of ``code`` run by a fresh Python (whose imports this process cannot mask)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], *([command, "--help"] for command in COMMANDS)]
)
def test_help_and_version_load_no_jax(argv):
    code = f"""
import sys
from autoreg.cli import main
try:
    main({argv!r})
except SystemExit as stop:
    assert stop.code == 0, stop.code
print(sorted(name for name in sys.modules if name.split(".")[0] in ("jax", "numpy")))
"""
    printed = run_python(code).splitlines()
    assert printed[0].startswith(("usage: autoreg", "autoreg "))  # the help, or the version
    assert printed[-1] == "[]"


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"autoreg {autoreg.__version__}\n"
    assert autoreg.__version__ == "0.1.0"


def test_the_package_imports_its_names_when_first_used():
    code = """
import sys
import autoreg
assert "jax" not in sys.modules and "autoreg.generate" not in sys.modules
assert set(autoreg.__all__) <= set(dir(autoreg))
assert autoreg.TrainConfig().steps > 0 and "jax" not in sys.modules  # a config needs no JAX
from autoreg import complete
assert autoreg.complete is complete and complete.__module__ == "autoreg.generate"
assert "pixelcnn" in autoreg.MODELS and autoreg.data.load is autoreg.data.sources.load
try:
    autoreg.no_such_name
except AttributeError as error:
    print(error)
"""
    assert run_python(code).strip() == "module 'autoreg' has no attribute 'no_such_name'"
    assert all(getattr(autoreg, name) is not None for name in autoreg.__all__)


def help_text(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_examples_parse_and_read_mnist_from_the_working_directory(command, capsys):
    text = help_text(capsys, *([command] if command else []))
    examples = [line.strip() for line in text.splitlines() if line.strip().startswith("autoreg ")]
    for example in examples:
        build_parser().parse_args(shlex.split(example)[1:])  # a CLIError if not
        assert "mnist" not in example or "mnist.npz" in example, example
    assert "../" not in text  # no path that only exists beside this repository


def test_the_help_copies_of_library_constants_agree():
    from autoreg.data.images import BINARIZATIONS as binarizations
    from autoreg.occlusion import OCCLUSIONS as occlusions

    assert (binarizations, occlusions) == (BINARIZATIONS, OCCLUSIONS)


def test_predict_of_moving_mnist_without_mnist_says_what_to_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no mnist.npz here
    monkeypatch.delenv("AUTOREG_MNIST", raising=False)
    assert main(["predict", "--model", "video_pixelcnn", "--video", "moving_mnist"]) == 2
    assert "--video: moving_mnist: no MNIST found" in one_line_error(capsys)
    assert main(["predict", "--video", "clips.npy", "--method", "nearest"]) == 2
    assert "--train-clips: moving_mnist: no MNIST found" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_runs_the_command():
    """``python -m autoreg.cli`` is the ``autoreg`` command (its version line, no JAX)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "autoreg.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("autoreg "), result
