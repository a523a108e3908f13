"""Audio windows aligned with their log-mel frames: the data of a mel-conditioned WaveNet.

Each clip is read once (``read_audio``, at the analysis' rate), its last ``holdout_seconds`` are
cut off for evaluation (the held-out split skips a clip shorter than that, with a warning, as
plain windows do), and each part is trimmed to whole frames and analysed on its own
(``log_mel``), so the held-out frames never see training audio and vice versa. A window starts
on a frame boundary: the window of frames ``k .. k + n - 1`` is samples ``k hop .. (k + n) hop
- 1`` and comes with the features of frames ``k - context .. k + n - 1``, the frames its
conditioning sees (``WaveNet``'s ``upsample_context``; zeros, i.e. silence, before the start
of a clip). Speaker ids come from the folder (``parent``) or file name (``stem``) of each file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from autoreg.data.audio import (
    audio_files,
    heldout_clip_index,
    holdout_samples,
    mu_law_encode,
    read_audio,
)
from autoreg.data.dataset import Dataset
from autoreg.data.mel import MelAnalysis, log_mel
from autoreg.errors import InputError
from autoreg.rules import one_of

SPEAKER_SOURCES = ("none", "parent", "stem")


def speaker_names(files, speaker_from: str) -> list | None:
    """The speaker name of each file (``parent``: its folder, ``stem``: its name), or None."""
    one_of(SPEAKER_SOURCES).check(speaker_from, "speaker_from")
    if speaker_from == "none":
        return None
    return [Path(f).parent.name if speaker_from == "parent" else Path(f).stem for f in files]


def analysed_part(audio: np.ndarray, analysis: MelAnalysis, context: int, levels: int):
    """A part of a clip trimmed to whole frames: (codes (T,), features (context + T/hop, F))."""
    frames = len(audio) // analysis.hop_length
    audio = audio[: frames * analysis.hop_length]
    features = log_mel(audio, analysis)  # (frames, F)
    padded = np.concatenate([np.zeros((context, analysis.n_mels), np.float32), features])
    return mu_law_encode(audio, levels), padded


def window_at(codes, padded, frame: int, frames: int, hop: int, context: int):
    """The window of ``frames`` frames from ``frame``: (codes, features with the context)."""
    return codes[frame * hop : (frame + frames) * hop], padded[frame : frame + frames + context]


def mel_windows(
    paths,
    analysis: MelAnalysis,
    window: int | None,
    *,
    context: int,
    split: str = "train",
    num: int | None = None,
    holdout_seconds: float = 2.0,
    seed: int = 0,
    levels: int = 256,
    speaker_from: str = "none",
    speakers: tuple = (),
) -> Dataset:
    """Frame-aligned windows of mu-law codes and log-mel features, for training or evaluation.

    Args:
      paths: audio files and/or folders (anything ``read_audio`` reads; resampled with soxr).
      analysis: the model's mel analysis.
      window: samples per window, rounded down to whole frames; ``split="heldout"`` with None
        takes each held-out tail whole.
      context: frames before each window that its features include (the model's
        ``upsample_context``).
      split: ``"train"``: ``num`` random windows (default: as many as the audio holds) from
        all but the last ``holdout_seconds`` of each clip; ``"heldout"``: those last seconds,
        cut into consecutive windows (clips shorter than that are skipped, with a warning on
        the ``autoreg`` logger naming them: ``autoreg.data.audio.heldout_clip_index``, the
        rule of plain windows too).
      holdout_seconds, seed, levels: as for ``autoreg.data.audio.audio_windows``.
      speaker_from: ``"none"``, ``"parent"`` (folder name) or ``"stem"`` (file name).
      speakers: speaker names in id order (a trained model's); default: the sorted names found.

    Returns:
      A ``Dataset``: examples (N, window // hop * hop) int32 mu-law codes, features
      (N, context + window // hop, n_mels) float32 log-mel frames, labels (N,) int32 speaker
      ids (None with ``speaker_from="none"``) and ``speaker_names``, the name of each id.

    Raises:
      InputError: bad files, training clips too short for the held-out tail plus one window,
        only held-out clips shorter than the tail, a held-out tail shorter than one frame, or
        a speaker the model does not know.
    """
    if split not in ("train", "heldout"):
        raise InputError(f"split must be 'train' or 'heldout', got {split!r}")
    hop = analysis.hop_length
    if window is not None and window < hop:
        raise InputError(f"window must hold at least one frame ({hop} samples), got {window}")
    if split == "heldout" and holdout_samples(analysis.sample_rate, holdout_seconds) < hop:
        raise InputError("split='heldout' needs holdout_seconds of at least one frame")
    files = audio_files(paths)
    names = speaker_names(files, speaker_from)
    speakers = tuple(speakers) or tuple(sorted(set(names or ())))
    if names is not None and set(names) - set(speakers):
        raise InputError(f"speakers {sorted(set(names) - set(speakers))} unknown to the model")
    parts = [clip_part(f, analysis, holdout_seconds, split) for f in files]  # (audio, length)
    if split == "heldout":  # the held-out rule of plain windows: skip clips without a tail
        lengths = {str(f): length for f, (_, length) in zip(files, parts, strict=True)}
        kept = heldout_clip_index(lengths, analysis.sample_rate, holdout_seconds)
        parts = [parts[i] for i in kept]
        names = None if names is None else [names[i] for i in kept]
    parts = [analysed_part(audio, analysis, context, levels) for audio, _ in parts]
    frames = None if window is None else window // hop
    if split == "train":
        picked = random_frames(parts, frames, num, hop, seed)
    else:
        picked = consecutive_frames(parts, frames, hop)
    codes, features = zip(
        *(window_at(*parts[c], k, n, hop, context) for c, k, n in picked), strict=True
    )
    ids = None
    if names is not None:
        ids = np.array([speakers.index(names[c]) for c, _, _ in picked], np.int32)
    source = ", ".join(map(str, [paths] if isinstance(paths, str | os.PathLike) else paths))
    return Dataset(
        np.stack(codes), ids, levels, source, features=np.stack(features), speaker_names=speakers
    )


def clip_part(
    path, analysis: MelAnalysis, holdout_seconds: float, split: str
) -> tuple[np.ndarray | None, int]:
    """The training part or the held-out tail of one clip, as float audio, and the clip's length
    in samples. A clip shorter than the tail has no held-out tail (None: ``mel_windows`` skips
    it); a training part shorter than one frame is an error.

    Raises:
      InputError: for ``split="train"``, a clip too short to leave a training part of one
        frame after its tail.
    """
    audio = read_audio(path, analysis.sample_rate)
    tail = holdout_samples(analysis.sample_rate, holdout_seconds)
    if split == "heldout":
        return (audio[len(audio) - tail :] if len(audio) >= tail else None), len(audio)
    if len(audio) - tail < analysis.hop_length:
        raise InputError(f"{path} is too short for a {holdout_seconds} s held-out tail")
    return audio[: len(audio) - tail], len(audio)


def random_frames(parts, frames: int, num: int | None, hop: int, seed: int) -> list:
    """``num`` (clip, first frame, frames) triples drawn uniformly over all frame starts."""
    if frames is None:
        raise InputError("training windows need a window length")
    starts = np.array([len(codes) // hop - frames + 1 for codes, _ in parts])
    if (starts < 1).any():
        raise InputError(f"every clip's training part must hold a window of {frames} frames")
    total = sum(len(codes) for codes, _ in parts)
    num = total // (frames * hop) if num is None else num
    rng = np.random.default_rng(seed)
    clips = rng.choice(len(parts), size=num, p=starts / starts.sum())
    return [(int(c), int(rng.integers(starts[c])), frames) for c in clips]


def consecutive_frames(parts, frames: int | None, hop: int) -> list:
    """(clip, first frame, frames) of each clip cut into consecutive windows (None: whole)."""
    lengths = {len(codes) // hop for codes, _ in parts}
    if frames is None:
        if len(lengths) != 1:
            raise InputError("held-out tails of different lengths: pass a window")
        (whole,) = lengths
        return [(c, 0, whole) for c in range(len(parts))]
    if frames > min(lengths):
        raise InputError(f"window of {frames * hop} samples is longer than the held-out tail")
    return [
        (c, k, frames)
        for c, (codes, _) in enumerate(parts)
        for k in range(0, len(codes) // hop - frames + 1, frames)
    ]
