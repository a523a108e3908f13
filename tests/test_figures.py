"""Figures drawn by matplotlib: spectrograms with axes and a dB colour bar, likelihood heatmaps
in matplotlib's inferno with a numbered colour bar, and ``autoreg vocode --spectrogram``."""

import math

import numpy as np
import pytest
import soundfile
from matplotlib import colormaps
from PIL import Image

import autoreg
from autoreg.cli import main
from autoreg.data.mel import MelAnalysis, log_mel
from autoreg.heatmap import heatmap_figure, render_heatmap
from autoreg.spectrogram import (
    mel_db,
    save_spectrogram,
    spectrogram_comparison_figure,
    spectrogram_comparison_image,
    spectrogram_figure,
    spectrogram_image,
)

MEL = dict(sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=8, fmax=4000.0)
ANALYSIS = MelAnalysis(**MEL)


def tone(seconds=0.5, hz=440.0):
    t = np.arange(int(seconds * 8000)) / 8000
    return (0.5 * np.sin(2 * np.pi * hz * t) * (t % 0.2 < 0.12)).astype(np.float32)


def tick_labels(axes) -> list[str]:
    """The y tick labels that ``axes`` shows (formatted when drawn; none outside its limits)."""
    axes.figure.canvas.draw()
    low, high = sorted(axes.get_ylim())
    labels = axes.get_yticklabels()
    return [t.get_text() for t in labels if low <= t.get_position()[1] <= high and t.get_text()]


def test_spectrogram_picture_is_a_wide_rgb_image():
    image = spectrogram_image(log_mel(tone(), ANALYSIS), ANALYSIS, title="a tone")
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[1] >= 800 and image.shape[0] > 100
    assert image.std() > 10  # something is drawn


def test_spectrogram_axes_are_time_and_hz_with_a_db_colour_bar():
    figure = spectrogram_figure(log_mel(tone(), ANALYSIS), ANALYSIS, title="a tone")
    spectrogram, colour_bar = figure.axes
    assert "Time" in spectrogram.get_xlabel() and "Hz" in spectrogram.get_ylabel()
    assert spectrogram.get_title() == "a tone"
    assert spectrogram.get_xlim()[1] == pytest.approx(62 * 64 / 8000, rel=0.05)  # seconds
    labels = tick_labels(colour_bar)
    assert labels and all(label.endswith(" dB") for label in labels), labels


def test_db_is_the_mel_magnitude_in_decibels():
    import librosa

    audio = tone()
    magnitude = librosa.feature.melspectrogram(y=audio, **ANALYSIS.librosa_options())
    expected = 20 * np.log10(np.maximum(magnitude[:, :62], ANALYSIS.log_floor)).T
    np.testing.assert_allclose(mel_db(log_mel(audio, ANALYSIS), ANALYSIS), expected, atol=1e-3)
    power = MelAnalysis(**{**MEL, "power": 2.0})  # power mel: 10 log10
    assert mel_db(np.zeros((1, 8)), power)[0, 0] == pytest.approx(10 * math.log10(1e-5))


def test_comparison_shares_one_colour_scale_and_one_bar():
    features = log_mel(tone(), ANALYSIS)
    named = {"original": features, "quieter": features * 0.5}
    figure = spectrogram_comparison_figure(named, ANALYSIS)
    *panels, colour_bar = figure.axes
    assert [ax.get_title() for ax in panels] == ["original", "quieter"]
    limits = {ax.collections[0].get_clim() for ax in panels}
    assert len(limits) == 1  # one scale for both
    assert "Time" in panels[-1].get_xlabel() and panels[0].get_xlabel() == ""
    assert all(label.endswith(" dB") for label in tick_labels(colour_bar))
    image = spectrogram_comparison_image(named, ANALYSIS, width_px=900)
    assert image.shape[1] == 900 and image.shape[0] > spectrogram_image(features, ANALYSIS).shape[0]


def test_wrong_shapes_and_paths_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(frames, 8\), got \(10, 3\)"):
        spectrogram_image(np.zeros((10, 3)), ANALYSIS)
    with pytest.raises(ValueError, match=r"WaveNet: .*got \(8,\)"):
        spectrogram_comparison_image(
            {"original": np.zeros((4, 8)), "WaveNet": np.zeros(8)}, ANALYSIS
        )
    with pytest.raises(ValueError, match="no spectrograms"):
        spectrogram_comparison_image({}, ANALYSIS)
    with pytest.raises(ValueError, match="does not exist"):
        save_spectrogram(np.zeros((4, 8)), ANALYSIS, tmp_path / "none" / "s.png")
    with pytest.raises(ValueError, match="must end in .png"):
        save_spectrogram(np.zeros((4, 8)), ANALYSIS, tmp_path / "s.jpg")
    path = save_spectrogram(np.zeros((4, 8)), ANALYSIS, tmp_path / "s.png", title="silence")
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]  # no temporary left behind
    assert Image.open(path).size[0] == 1000


def test_heatmap_is_drawn_in_inferno_with_a_numbered_colour_bar(tmp_path):
    images = np.random.default_rng(0).integers(0, 8, (2, 6, 6))
    bits = np.random.default_rng(1).uniform(0.0, 3.0, (2, 6, 6))
    bits[1, 2, 3] = 4.5  # the top of the scale
    path = render_heatmap(images, bits, tmp_path / "heat.png", levels=8, scale=8)
    out = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    top = np.asarray(colormaps["inferno"](1.0, bytes=True)[:3])
    assert (out == top).all(axis=1).sum() >= 64  # the 8x8 block of the surprising pixel
    figure = heatmap_figure(images[..., None], bits, 8, 8, 4.5)
    (colour_bar,) = figure.axes
    assert colour_bar.get_ylabel() == "bits"
    numbers = [float(label) for label in tick_labels(colour_bar)]
    assert len(numbers) >= 2 and min(numbers) == 0.0 and max(numbers) <= 4.5


def test_vocode_writes_the_spectrograms_of_input_and_output(tmp_path, capsys):
    model = autoreg.create_model(
        "wavenet",
        preset="tiny",
        levels=16,
        local_features=8,
        hop_length=64,
        sample_rate=8000,
        mel=MEL,
        upsample_context=1,
    )
    checkpoint = autoreg.save_checkpoint(model, tmp_path / "vocoder")
    clip = tmp_path / "tone.wav"
    soundfile.write(clip, tone(), 8000)
    out, picture = tmp_path / "out.wav", tmp_path / "spec.png"
    args = ["vocode", "--checkpoint", str(checkpoint), "--audio", str(clip), "--no-progress"]
    args += ["--method", "griffin-lim", "--out", str(out)]
    assert main([*args, "--spectrogram", str(picture)]) == 0
    assert str(picture) in capsys.readouterr().out
    width, height = Image.open(picture).size
    assert width >= 800 and height > 400  # two panels
    assert soundfile.info(out).frames == 62 * 64
    for bad, message in (("none/s.png", "does not exist"), ("s.jpg", "must end in .png")):
        out.unlink(missing_ok=True)
        assert main([*args, "--spectrogram", str(tmp_path / bad)]) != 0
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err
        assert not out.exists()  # refused before any work
