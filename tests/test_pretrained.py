"""Shipped pretrained models: packaged in the wheel, found without arguments, and real."""

import re
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
SHIPPED = [*IMAGE_MODELS, "wavenet", "wavenet_vocoder", "video_pixelcnn"]


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.slow
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


# How the README names the shipped image models in its summary of results.
README_NAMES = {
    "PixelCNN": "pixelcnn",
    "Gated PixelCNN": "gated_pixelcnn",
    "Row LSTM": "row_lstm",
    "PixelSNAIL": "pixelsnail",
}


def readme_test_bits() -> dict:
    """{shipped image model: test bits/dim} as the README's summary states them."""
    text = (ROOT / "README.md").read_text()
    item = text[text.index("**Shipped models**") :].split("\n- ", 1)[0]
    found = re.findall(r"(Gated PixelCNN|PixelCNN|Row LSTM|PixelSNAIL) (\d\.\d+)", item)
    return {README_NAMES[name]: float(bits) for name, bits in found}


def results_table_bits() -> dict:
    """{shipped image model: test bits/dim} from the table of shipped models in the docs."""
    text = (ROOT / "docs" / "results.md").read_text()
    section = text.split("## Shipped models", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+)[^|]* \| [\d,]+ \| (\d\.\d+) \|$", section, re.MULTILINE)
    return {name: float(bits) for name, bits in rows}


def test_the_readme_and_the_results_table_state_the_same_bits():
    assert sorted(readme_test_bits()) == sorted(IMAGE_MODELS)
    assert readme_test_bits() == results_table_bits()


@pytest.mark.slow
@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_pretrained_image_models_reach_the_readme_bits_on_real_digits(name, shared_data):
    # Every 20th test digit: 500 spread over the whole test set (its first 500 are easier,
    # about 0.04 bits/dim below the full set's figure).
    mnist = np.load(shared_data / "mnist.npz")
    digits, labels = mnist["x_test"][::20, :, :, None], mnist["y_test"][::20]
    model = load_pretrained(name)
    assert model.event_shape() == (28, 28, 1)
    labels = labels.astype(np.int32) if model.num_classes else None
    nats = [
        np.asarray(
            autoreg.log_prob(
                model, digits[i : i + 250], None if labels is None else labels[i : i + 250]
            )
        )
        for i in range(0, len(digits), 250)
    ]
    bits = -np.concatenate(nats).mean() / (digits[0].size * np.log(2))
    assert bits == pytest.approx(readme_test_bits()[name], abs=0.02)


def test_pretrained_pixelcnn_beats_uniform_on_real_digits(shared_data):
    model = load_pretrained("pixelcnn")
    digits = np.load(shared_data / "mnist.npz")["x_test"][:32, :, :, None]
    assert autoreg.bits_per_dim(model, digits) < 1.5  # uniform would be 8


def test_sample_needs_no_checkpoint_argument(tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["sample", "--model", "pixelcnn", "--num", "2", "--out", str(out)]) == 0
    assert out.exists()


@pytest.mark.slow
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
