"""The image-model path needs no audio package; the audio path says in one line what to install."""

import subprocess
import sys

import numpy as np
import pytest

from autoreg.cli import main
from autoreg.data.audio import read_audio, write_wav
from autoreg.data.mel import MelAnalysis, log_mel
from autoreg.optional import MissingExtraError

AUDIO_PACKAGES = ("soundfile", "soxr", "librosa")


@pytest.mark.slow
def test_the_image_path_imports_no_audio_package():
    code = (
        "import sys, numpy as np, autoreg, autoreg.cli, autoreg.vocode\n"
        "m = autoreg.create_model('pixelcnn', preset='tiny', image_shape=(2, 2, 1))\n"
        "autoreg.sample(m, 0, 1)\n"
        f"print([p for p in {AUDIO_PACKAGES!r} if p in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def no_audio_packages(monkeypatch):
    """Make every audio package unimportable, as on an image without the ``audio`` extra."""
    for name in AUDIO_PACKAGES:
        monkeypatch.setitem(sys.modules, name, None)


def test_audio_functions_name_the_extra_to_install(no_audio_packages, tmp_path):
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"RIFF")
    with pytest.raises(
        MissingExtraError, match=r"reading audio needs .*soundfile.*autoreg\[audio\]"
    ):
        read_audio(wav, 8000)
    with pytest.raises(MissingExtraError, match=r"writing audio needs .*soundfile"):
        write_wav(tmp_path / "y.wav", np.zeros(8, np.float32), 8000)
    assert not (tmp_path / "y.wav").exists()
    with pytest.raises(MissingExtraError, match=r"mel analysis needs .*librosa"):
        log_mel(np.zeros(800, np.float32), MelAnalysis())


def test_an_audio_command_without_them_is_one_line(no_audio_packages, tmp_path, capsys):
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"RIFF")
    code = main(["vocode", "--audio", str(wav), "--out", str(tmp_path / "out.wav")])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1, err
    assert "pip install 'autoreg[audio]'" in err and "Traceback" not in err
    assert not (tmp_path / "out.wav").exists()
