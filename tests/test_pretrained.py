"""Shipped pretrained models: packaged in the wheel, found without arguments, and real."""

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import autoreg
from autoreg.checkpoint import read_metadata
from autoreg.cli import main
from autoreg.pretrained import load_pretrained, pretrained_path

ROOT = Path(__file__).resolve().parents[1]
IMAGE_MODELS = ["pixelcnn", "gated_pixelcnn", "row_lstm", "pixelsnail"]
SHIPPED = [*IMAGE_MODELS, "wavenet", "wavenet_vocoder"]


@pytest.mark.parametrize("name", SHIPPED)
def test_pretrained_checkpoint_ships_small_and_loads(name):
    path = pretrained_path(name)
    assert path is not None, f"no shipped checkpoint for {name}"
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 5_000_000
    family = "wavenet" if name == "wavenet_vocoder" else name  # shipped names map to families
    assert read_metadata(path)["model"] == family
    assert load_pretrained(name).name == family


def test_shipped_names_are_not_registry_names():
    assert load_pretrained("wavenet_vocoder").config.mel is not None
    with pytest.raises(ValueError, match="shipped models: .*wavenet_vocoder"):
        pretrained_path("vocoder")


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_pretrained_image_models_record_their_test_bits(name):
    assert read_metadata(pretrained_path(name))["test_bits_per_dim"] < 1.2
    assert load_pretrained(name).event_shape() == (28, 28, 1)


def test_pretrained_pixelcnn_beats_uniform_on_real_digits(shared_data):
    model = load_pretrained("pixelcnn")
    digits = np.load(shared_data / "mnist.npz")["x_test"][:32, :, :, None]
    assert autoreg.bits_per_dim(model, digits) < 1.5  # uniform would be 8


def test_sample_needs_no_checkpoint_argument(tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["sample", "--model", "pixelcnn", "--num", "2", "--out", str(out)]) == 0
    assert out.exists()


def test_gated_pixelcnn_samples_by_label(tmp_path):
    from PIL import Image

    grids = []
    for label in ("7", "1"):
        out = tmp_path / f"s{label}.png"
        args = ["sample", "--model", "gated_pixelcnn", "--label", label, "--num", "2"]
        assert main([*args, "--out", str(out)]) == 0
        grids.append(np.asarray(Image.open(out)))
    # Same seed, other label: the label changes the digits.
    assert grids[0].shape == grids[1].shape
    assert (grids[0] != grids[1]).mean() > 0.05


def test_wavenet_writes_a_wav_without_checkpoint_argument(tmp_path):
    import soundfile

    out = tmp_path / "speech.wav"
    assert main(["sample", "--model", "wavenet", "--seconds", "0.05", "--out", str(out)]) == 0
    audio, rate = soundfile.read(out)
    assert rate == 16000 and audio.shape == (800,)


def test_model_without_pretrained_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert main(["sample", "--model", "diagonal_bilstm", "--out", str(tmp_path / "s.png")]) != 0
    assert "no pretrained checkpoint" in capsys.readouterr().err


@pytest.mark.slow
def test_wheel_contains_the_checkpoints(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("autoreg-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in SHIPPED:
        assert f"autoreg/assets/{name}/metadata/metadata" in names
        assert any(n.startswith(f"autoreg/assets/{name}/params/") for n in names)
