"""Log-mel spectrograms: the local conditioning of a WaveNet vocoder, and Griffin-Lim inversion.

``MelAnalysis`` holds every setting of the analysis (it is a field of ``WaveNetConfig``, so a
checkpoint records the analysis its model was trained on); ``log_mel`` computes the normalised
log-mel frames of float audio with librosa, and ``mel_to_audio`` inverts them with Griffin-Lim
(librosa), the classical baseline a neural vocoder is compared with.

Frame ``f`` of ``log_mel`` is centred on sample ``f * hop_length`` (librosa's ``center=True``)
and conditions the samples ``f * hop_length .. (f + 1) * hop_length - 1``: a clip of ``T``
samples has ``T // hop_length`` frames.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from autoreg.errors import InputError
from autoreg.optional import require
from autoreg.validation import check_count


@dataclasses.dataclass(frozen=True)
class MelAnalysis:
    """The settings of a log-mel analysis (librosa's names)."""

    sample_rate: int = 16000  # Hz of the analysed audio
    n_fft: int = 1024  # FFT size in samples
    hop_length: int = 256  # samples between frames (samples conditioned by one frame)
    win_length: int = 1024  # window length in samples (<= n_fft)
    window: str = "hann"  # scipy window name
    n_mels: int = 80  # mel bands: features per frame
    fmin: float = 0.0  # lowest band edge in Hz
    fmax: float = 8000.0  # highest band edge in Hz (<= sample_rate / 2)
    power: float = 1.0  # 1: magnitude mel (Tacotron 2), 2: power mel
    log_floor: float = 1e-5  # mel values are clipped below at this before the log
    log_scale: float = 4.0  # features = (ln(max(mel, floor)) - ln(floor)) / log_scale

    def __post_init__(self):
        for name in ("sample_rate", "n_fft", "hop_length", "win_length", "n_mels"):
            check_count(getattr(self, name), f"MelAnalysis.{name}")
        if self.win_length > self.n_fft:
            raise InputError(f"win_length {self.win_length} exceeds n_fft {self.n_fft}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise InputError(
                f"need 0 <= fmin < fmax <= sample_rate / 2, got {self.fmin}, {self.fmax}"
            )
        if not (self.power > 0 and self.log_floor > 0 and self.log_scale > 0):
            raise InputError("power, log_floor and log_scale must be positive")

    def librosa_options(self) -> dict:
        """The keyword arguments of librosa's melspectrogram and mel_to_audio."""
        return dict(
            sr=self.sample_rate,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            power=self.power,
            center=True,
        )


def log_mel(audio, analysis: MelAnalysis) -> np.ndarray:
    """Normalised log-mel frames of mono float audio.

    Args:
      audio: (T,) float samples in [-1, 1] at ``analysis.sample_rate``.
      analysis: the analysis settings.

    Returns:
      (T // hop_length, n_mels) float32 features; 0 is silence (the log floor).

    Raises:
      InputError: not one clip of floats, non-finite samples, or fewer than hop_length samples.
    """
    librosa = require("librosa", "audio", "mel analysis")  # slow to import: only when needed

    audio = np.asarray(audio)
    if audio.ndim != 1 or not np.issubdtype(audio.dtype, np.floating):
        raise InputError(f"log_mel takes one float clip (T,), got {audio.dtype} {audio.shape}")
    frames = len(audio) // analysis.hop_length
    if frames < 1:
        raise InputError(
            f"audio of {len(audio)} samples is shorter than one frame ({analysis.hop_length})"
        )
    if not np.isfinite(audio).all():
        raise InputError("audio contains NaN or infinite values")
    mel = librosa.feature.melspectrogram(
        y=audio.astype(np.float32), **analysis.librosa_options()
    )  # (n_mels, 1 + T // hop)
    logs = np.log(np.maximum(mel[:, :frames], analysis.log_floor))
    return ((logs - math.log(analysis.log_floor)) / analysis.log_scale).T.astype(np.float32)


def mel_to_audio(features, analysis: MelAnalysis, *, n_iter: int = 32, seed: int = 0):
    """Griffin-Lim resynthesis of ``log_mel`` features (as librosa.feature.inverse.mel_to_audio).

    Args:
      features: (frames, n_mels) features from ``log_mel``.
      analysis: the analysis they were computed with.
      n_iter: Griffin-Lim iterations.
      seed: seed of the initial random phases.

    Returns:
      (frames * hop_length,) float32 audio clipped to [-1, 1].
    """
    librosa = require("librosa", "audio", "Griffin-Lim")
    features = check_mel_shape(features, analysis.n_mels)
    mel = np.exp(features.T.astype(np.float64) * analysis.log_scale) * analysis.log_floor
    # log_mel drops librosa's last frame (centred on sample T); Griffin-Lim needs it back.
    mel = np.concatenate([mel, mel[:, -1:]], axis=1)  # (n_mels, frames + 1)
    # librosa.feature.inverse.mel_to_audio is these two calls; made here to pass the seed.
    options = analysis.librosa_options()
    stft = librosa.feature.inverse.mel_to_stft(
        mel,
        sr=options["sr"],
        n_fft=options["n_fft"],
        power=options["power"],
        fmin=options["fmin"],
        fmax=options["fmax"],
    )  # (1 + n_fft / 2, frames) magnitudes
    audio = librosa.griffinlim(
        stft,
        n_iter=n_iter,
        hop_length=analysis.hop_length,
        win_length=analysis.win_length,
        window=analysis.window,
        center=True,
        length=len(features) * analysis.hop_length,
        random_state=seed,
    )
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def check_mel_shape(features, n_mels: int) -> np.ndarray:
    """``features`` as a float32 (frames, n_mels) array, or an InputError naming that shape."""
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] != n_mels or features.shape[0] < 1:
        raise InputError(f"mel features must have shape (frames, {n_mels}), got {features.shape}")
    if not np.issubdtype(features.dtype, np.floating) or not np.isfinite(features).all():
        raise InputError("mel features must be finite floats")
    return features.astype(np.float32)
