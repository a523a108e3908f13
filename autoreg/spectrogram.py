"""Pictures of log-mel spectrograms, with axes in seconds and Hz and a colour bar in dB.

The features are the project's normalised log-mel frames (``autoreg.data.mel.log_mel``);
``mel_db`` turns them back into decibels of the mel spectrogram, and the figures are drawn by
``librosa.display.specshow`` on a matplotlib ``Figure`` of its own (``autoreg.figures``):

- ``spectrogram_figure`` / ``spectrogram_image`` / ``save_spectrogram``: one spectrogram;
- ``spectrogram_comparison_figure`` / ``spectrogram_comparison_image`` /
  ``save_spectrogram_comparison``: several one above another (say original, WaveNet,
  Griffin-Lim) on one time axis and one colour scale, with one colour bar.

librosa (the ``audio`` extra) and matplotlib are imported when a figure is drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from autoreg.data.mel import MelAnalysis, check_mel_shape
from autoreg.errors import InputError
from autoreg.figures import figure_pixels, new_figure
from autoreg.image_io import check_writable, save_png
from autoreg.memory import check_picture
from autoreg.optional import require
from autoreg.validation import check_count

WIDTH_PX = 1000  # default width of a spectrogram picture, in pixels
PANEL_RATIO = 0.3  # height of one spectrogram panel, as a fraction of the width
DYNAMIC_RANGE_DB = 80.0  # the colour scale spans at most this many dB below the loudest value
COLOUR_MAP = "magma"  # librosa's default for spectrograms


def mel_db(log_mel, analysis: MelAnalysis) -> np.ndarray:
    """Decibels of the mel spectrogram behind ``log_mel`` features (re 1, power dB).

    ``log_mel`` stores ``(ln(max(mel, floor)) - ln(floor)) / log_scale`` of the mel magnitude
    (``power`` 1) or power (``power`` 2); in dB that is ``10 log10(mel ** (2 / power))``.

    Args:
      log_mel: (frames, n_mels) features from ``autoreg.data.mel.log_mel``.
      analysis: the analysis they were computed with.

    Returns:
      (frames, n_mels) float64 dB; the log floor (silence) is ``20 log10(1e-5)`` = -100 dB for
      the default analysis.

    Examples:
      >>> import numpy as np
      >>> from autoreg.data.mel import MelAnalysis
      >>> mel_db(np.zeros((1, 80)), MelAnalysis())[0, 0].round(1)
      np.float64(-100.0)
    """
    nats = np.asarray(log_mel, np.float64) * analysis.log_scale + math.log(analysis.log_floor)
    return nats * (20.0 / analysis.power) / math.log(10.0)


def spectrogram_figure(
    log_mel, analysis: MelAnalysis, *, title: str | None = None, width_px: int = WIDTH_PX
):
    """A matplotlib ``Figure`` of one log-mel spectrogram, axes in seconds and Hz, dB bar.

    Args:
      log_mel: (frames, n_mels) features from ``autoreg.data.mel.log_mel``.
      analysis: the analysis they were computed with (rate, hop, mel band edges).
      title: drawn above the spectrogram, if given.
      width_px: width of the figure in pixels.

    Returns:
      A ``matplotlib.figure.Figure`` on its own Agg canvas: ``fig.axes[0]`` is the
      spectrogram, ``fig.axes[1]`` its colour bar.

    Raises:
      InputError: ``log_mel`` not of shape (frames, n_mels), or a bad width.
    """
    return spectrogram_comparison_figure({title: log_mel}, analysis, width_px=width_px)


def spectrogram_comparison_figure(
    named: dict, analysis: MelAnalysis, *, title: str | None = None, width_px: int = WIDTH_PX
):
    """A ``Figure`` of several spectrograms one above another, on one colour scale.

    Args:
      named: panel title (or None) -> (frames, n_mels) log-mel features, top to bottom.
      analysis: the analysis they were computed with.
      title: a title above all the panels, if given.
      width_px: width of the figure in pixels.

    Returns:
      A ``matplotlib.figure.Figure``: one axes per entry of ``named`` (shared time axis, the
      label only on the lowest), then one colour bar in dB for all of them.

    Raises:
      InputError: no spectrograms, one not of shape (frames, n_mels), or a bad width.
    """
    librosa_display = require("librosa.display", "audio", "drawing spectrograms")
    if not named:
        raise InputError("no spectrograms to draw")
    width_px = check_count(width_px, "width_px")
    features = {}
    for name, values in named.items():
        try:
            features[name] = check_mel_shape(values, analysis.n_mels)
        except ValueError as error:
            raise InputError(f"{name or 'spectrogram'}: {error}") from None
    panel = round(PANEL_RATIO * width_px)
    height_px = len(features) * panel + (40 if title else 0)
    check_picture((height_px, width_px, 3), "the spectrogram")
    db = {name: mel_db(values, analysis) for name, values in features.items()}
    vmax = max(values.max() for values in db.values())
    vmin = max(min(values.min() for values in db.values()), vmax - DYNAMIC_RANGE_DB)
    if vmin >= vmax:  # a constant spectrogram
        vmin = vmax - 1.0
    figure = new_figure(width_px, height_px)
    axes = figure.subplots(len(db), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, values) in zip(axes, db.items(), strict=True):
        mesh = librosa_display.specshow(
            values.T,  # (n_mels, frames): low bands at the bottom
            x_axis="time",
            y_axis="mel",
            sr=analysis.sample_rate,
            hop_length=analysis.hop_length,
            n_fft=analysis.n_fft,
            fmin=analysis.fmin,
            fmax=analysis.fmax,
            vmin=vmin,
            vmax=vmax,
            cmap=COLOUR_MAP,
            ax=ax,
        )
        ax.set_ylabel("Hz (mel scale)")
        if name:
            ax.set_title(str(name))
    for ax in axes[:-1]:
        ax.set_xlabel("")
    axes[-1].set_xlabel("Time (s)")
    figure.colorbar(mesh, ax=list(axes), format="%+2.0f dB")
    if title:
        figure.suptitle(title)
    return figure


def spectrogram_image(
    log_mel, analysis: MelAnalysis, *, title: str | None = None, width_px: int = WIDTH_PX
) -> np.ndarray:
    """The picture of ``spectrogram_figure``: (H, W, 3) uint8 RGB, ``W == width_px``.

    Examples:
      >>> import numpy as np
      >>> from autoreg.data.mel import MelAnalysis
      >>> spectrogram_image(np.random.rand(60, 80), MelAnalysis()).shape
      (300, 1000, 3)
    """
    return figure_pixels(spectrogram_figure(log_mel, analysis, title=title, width_px=width_px))


def spectrogram_comparison_image(
    named: dict, analysis: MelAnalysis, *, title: str | None = None, width_px: int = WIDTH_PX
) -> np.ndarray:
    """The picture of ``spectrogram_comparison_figure``: (H, W, 3) uint8 RGB.

    Examples:
      >>> import numpy as np
      >>> from autoreg.data.mel import MelAnalysis
      >>> named = {"original": np.random.rand(60, 80), "resynthesis": np.random.rand(60, 80)}
      >>> spectrogram_comparison_image(named, MelAnalysis()).shape
      (600, 1000, 3)
    """
    figure = spectrogram_comparison_figure(named, analysis, title=title, width_px=width_px)
    return figure_pixels(figure)


def save_spectrogram(
    log_mel, analysis: MelAnalysis, path, *, title: str | None = None, width_px: int = WIDTH_PX
) -> Path:
    """Write ``spectrogram_image`` as a PNG, atomically (``autoreg.image_io.save_png``).

    Raises:
      InputError: bad features (see ``spectrogram_figure``), or a path that is not a .png in
        an existing, writable folder (checked before drawing).
    """
    return save_spectrogram_comparison({title: log_mel}, analysis, path, width_px=width_px)


def save_spectrogram_comparison(
    named: dict, analysis: MelAnalysis, path, *, title: str | None = None, width_px=WIDTH_PX
) -> Path:
    """Write ``spectrogram_comparison_image`` as a PNG, atomically.

    Raises:
      InputError: bad features (see ``spectrogram_comparison_figure``), or a bad path
        (checked before drawing).
    """
    path = check_writable(path)
    image = spectrogram_comparison_image(named, analysis, title=title, width_px=width_px)
    return save_png(image, path)
