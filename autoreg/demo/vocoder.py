"""The Vocoder tab: speech -> log-mel -> WaveNet vocoder and Griffin-Lim, with spectrograms.

The WaveNet vocoder samples one audio sample at a time (16 000 a second): on a CPU it takes
several seconds per second of speech, so the input is cut to its first ``max_seconds``
(at most ``MAX_SECONDS``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autoreg.data.audio import read_audio
from autoreg.data.mel import log_mel
from autoreg.errors import InputError
from autoreg.vocode import (
    SILENCE,
    check_analysis_memory,
    check_synthesis_memory,
    griffin_lim,
    vocode,
    vocoder_analysis,
)

MAX_SECONDS = 5.0  # the most input one request resynthesises
DEFAULT_SECONDS = 2.0


@dataclass(frozen=True)
class Resynthesis:
    """What the Vocoder tab shows."""

    sample_rate: int
    original: np.ndarray  # (T,) float32 in [-1, 1]: the input, resampled and cut
    wavenet: np.ndarray  # (T,) float32
    griffin_lim: np.ndarray  # (T,) float32
    spectrograms: np.ndarray  # (h, w, 3) uint8: original, WaveNet, Griffin-Lim
    seconds: dict[str, float]  # time per method


def resynthesise(
    model,
    path,
    *,
    max_seconds: float = DEFAULT_SECONDS,
    seed: int = 0,
    report: Callable[[float, str], None] | None = None,
) -> Resynthesis:
    """Resynthesise the first ``max_seconds`` of an audio file from its log-mel spectrogram.

    Args:
      model: a mel-conditioned WaveNet (``autoreg.vocode.vocoder_analysis`` accepts it).
      path: an audio file (WAV, FLAC, Ogg), resampled to the model's rate.
      max_seconds: how much of it to use, in (0, ``MAX_SECONDS``].
      seed: seed of the WaveNet's sampling and of Griffin-Lim's initial phases.
      report: called with (fraction done, what runs now) before each stage.

    Returns:
      The input and both resyntheses at the model's rate, their spectrograms and the times.

    Raises:
      InputError: an unreadable, empty or silent file, one shorter than a frame, a bad
        ``max_seconds``, or a request over the memory limit (``MemoryBudgetError``).
    """
    from autoreg.spectrogram import spectrogram_comparison_image

    max_seconds = float(max_seconds)
    if not 0 < max_seconds <= MAX_SECONDS:
        raise InputError(f"seconds must be in (0, {MAX_SECONDS}], got {max_seconds}")
    analysis = vocoder_analysis(model)
    rate = analysis.sample_rate
    report = report or (lambda fraction, what: None)
    report(0.0, "reading the audio")
    check_analysis_memory(path, analysis)  # from the header, before the file is read
    audio = read_audio(path, rate)[: int(round(max_seconds * rate))]
    if len(audio) == 0 or np.abs(audio).max() < SILENCE:
        raise InputError("the audio is silent (peak below -60 dBFS): nothing to vocode")
    features = log_mel(audio, analysis)  # (frames, n_mels)
    audio = audio[: len(features) * analysis.hop_length]
    check_synthesis_memory(model, len(features), "wavenet", analysis)
    seconds = {}
    report(0.05, "Griffin-Lim")
    start = time.perf_counter()
    baseline = griffin_lim(features, analysis, seed=int(seed))
    seconds["griffin_lim"] = time.perf_counter() - start
    report(0.1, "WaveNet")
    start = time.perf_counter()
    neural = vocode(model, features, seed=int(seed), progress=True)
    seconds["wavenet"] = time.perf_counter() - start
    report(0.95, "spectrograms")
    named = {
        "input": features,
        "WaveNet": log_mel(neural, analysis),
        "Griffin-Lim": log_mel(baseline, analysis),
    }
    frames = min(len(f) for f in named.values())
    named = {k: v[:frames] for k, v in named.items()}
    picture = spectrogram_comparison_image(named, analysis, width_px=800)
    as_audio = [np.asarray(a, np.float32) for a in (audio, neural, baseline)]
    return Resynthesis(rate, *as_audio, picture, seconds)
