"""Audio for WaveNet: read WAV/FLAC/Ogg, mono at the model's rate, 8-bit mu-law codes, windows.

The pipeline is ``read_audio`` (soundfile; mixed down to mono; resampled with soxr) ->
``mu_law_encode`` (floats in [-1, 1] -> integer codes 0..K-1, K = 256 by default) -> windows:
``random_windows`` for training, ``heldout_tails`` for evaluation on the last seconds of each
clip, which training never sees (``split_heldout``; ``heldout_clip_index`` skips the clips
shorter than that tail). ``audio_windows`` does all of it in one call (``audio_dataset``: the
same as a ``Dataset``). ``write_wav`` writes codes or floats as a 16-bit WAV atomically.

soundfile and soxr come with the ``audio`` extra and are imported when first used.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import numpy as np

from autoreg.atomic import atomic_write
from autoreg.data.dataset import Dataset
from autoreg.errors import InputError, InputTypeError
from autoreg.optional import require
from autoreg.validation import check_count

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga")


def mu_law_encode(audio, levels: int = 256) -> np.ndarray:
    """Mu-law companding (mu = K - 1) and quantisation: floats in [-1, 1] -> codes 0..K-1.

    ``y = sign(x) ln(1 + mu |x|) / ln(1 + mu)``, then ``y`` in [-1, 1] is rounded to the nearest
    of K evenly spaced levels; -1 -> 0, 1 -> K - 1.

    Args:
      audio: float array of any shape, values in [-1, 1].
      levels: K, the number of codes.

    Returns:
      int32 codes of the same shape.

    Raises:
      InputTypeError: integer or boolean audio (convert PCM to floats first).
      InputError: non-finite values, values outside [-1, 1], or fewer than 2 levels.
    """
    mu = _mu(levels)
    x = np.asarray(audio)
    if not np.issubdtype(x.dtype, np.floating):
        raise InputTypeError(
            f"mu_law_encode takes float audio in [-1, 1], got dtype {x.dtype} "
            "(divide PCM integers by their full scale first)"
        )
    x = x.astype(np.float64)
    if x.size and not np.isfinite(x).all():
        raise InputError("audio contains NaN or infinite values")
    if x.size and (x.min() < -1.0 or x.max() > 1.0):
        raise InputError(f"audio must lie in [-1, 1], got {x.min():.4g}..{x.max():.4g}")
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.clip(np.floor((y + 1.0) / 2.0 * mu + 0.5), 0, mu).astype(np.int32)


def mu_law_decode(codes, levels: int = 256) -> np.ndarray:
    """Inverse of ``mu_law_encode``: codes 0..K-1 -> float32 audio in [-1, 1] (0 -> -1, K-1 -> 1).

    Raises:
      InputTypeError: non-integer codes.
      InputError: codes outside 0..K-1.
    """
    mu = _mu(levels)
    c = np.asarray(codes)
    if c.dtype == np.bool_ or not np.issubdtype(c.dtype, np.integer):
        raise InputTypeError(f"mu_law_decode takes integer codes, got dtype {c.dtype}")
    if c.size and (c.min() < 0 or c.max() > mu):
        raise InputError(f"codes must lie in 0..{mu}, got {c.min()}..{c.max()}")
    y = 2.0 * c.astype(np.float64) / mu - 1.0
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu).astype(np.float32)


def _mu(levels) -> int:
    if isinstance(levels, bool) or not isinstance(levels, int | np.integer) or levels < 2:
        raise InputError(f"levels must be an integer >= 2, got {levels!r}")
    return int(levels) - 1


def audio_files(paths) -> list[Path]:
    """Expand files and directories (searched recursively for WAV/FLAC/Ogg) into sorted files.

    Raises:
      InputError: a path that does not exist, or no audio files at all.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                raise InputError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"audio file not found: {path}")
    if not files:
        raise InputError("no audio files given")
    return files


def read_audio(path, sample_rate: int, *, resample: bool = True) -> np.ndarray:
    """One audio file as mono float32 samples in [-1, 1] at ``sample_rate``.

    Channels are averaged; a file at another rate is resampled with soxr (high quality).

    Args:
      path: a WAV, FLAC or Ogg file (anything libsndfile reads).
      sample_rate: the rate in Hz the samples are wanted at (the model's).
      resample: if False, a file at another rate is an error instead.

    Returns:
      (T,) float32.

    Raises:
      InputError: a missing, unreadable, corrupt or empty file, or the wrong rate with
        ``resample=False``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"audio file not found: {path}")
    check_count(sample_rate, "sample_rate")
    soundfile = require("soundfile", "audio", "reading audio")
    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)  # (T, channels)
    except (RuntimeError, soundfile.SoundFileError) as error:
        raise InputError(f"cannot read audio file {path}: {error}") from None
    if data.shape[0] == 0:
        raise InputError(f"audio file {path} is empty (no samples)")
    mono = data.mean(axis=1)  # (T,)
    if rate != sample_rate:
        if not resample:
            raise InputError(
                f"{path} is at {rate} Hz, not {sample_rate} Hz (allow resampling or convert it)"
            )
        soxr = require("soxr", "audio", "resampling audio")
        mono = soxr.resample(mono, rate, sample_rate).astype(np.float32)
    if not np.isfinite(mono).all():
        raise InputError(f"audio file {path} contains NaN or infinite samples")
    return np.clip(mono, -1.0, 1.0)  # resampling may overshoot full scale slightly


def load_clips(
    paths, sample_rate: int, *, resample: bool = True, levels: int = 256
) -> dict[str, np.ndarray]:
    """Read every file of ``paths`` (files or directories) as mu-law codes.

    Returns:
      {file path: (T,) int32 codes in 0..levels-1}, in sorted file order.
    """
    return {
        str(path): mu_law_encode(read_audio(path, sample_rate, resample=resample), levels)
        for path in audio_files(paths)
    }


def holdout_samples(sample_rate: int, holdout_seconds: float) -> int:
    """The number of samples in the last ``holdout_seconds`` of a clip."""
    if not holdout_seconds >= 0:
        raise InputError(f"holdout_seconds must be >= 0, got {holdout_seconds!r}")
    return round(holdout_seconds * sample_rate)


def heldout_clip_index(
    lengths: dict[str, int], sample_rate: int, holdout_seconds: float
) -> np.ndarray:
    """Which clips the held-out split takes, for plain and mel windows alike: those at least as
    long as the held-out tail. A shorter clip has no tail to evaluate: it is skipped, with one
    warning (the ``autoreg`` logger) naming every such clip and its duration.

    Args:
      lengths: {clip name: its samples}, in file order.
      sample_rate: Hz of the samples.
      holdout_seconds: the seconds held out at the end of each clip.

    Returns:
      (kept,) int32 index in ``lengths``' order of each clip kept (a file's label).

    Raises:
      InputError: every clip is shorter than the tail (the message names them), or a negative
        ``holdout_seconds``.

    Examples:
      >>> from autoreg.data.audio import heldout_clip_index
      >>> heldout_clip_index({"a.wav": 8000, "b.wav": 32000, "c.wav": 16000}, 16000, 1.0)
      array([1, 2], dtype=int32)
    """
    tail = holdout_samples(sample_rate, holdout_seconds)
    why = f"shorter than the {holdout_seconds} s held out"
    short = [name for name, length in lengths.items() if length < tail]
    shown = ", ".join(f"{name} ({lengths[name] / sample_rate:.2f} s)" for name in short[:5])
    shown += f" and {len(short) - 5} more" if len(short) > 5 else ""
    if len(short) == len(lengths):
        raise InputError(f"every clip is {why}: {shown}")
    if short:
        count = f"{len(short)} clip{'s' * (len(short) > 1)}"
        log.warning(f"skipped {count} {why}: {shown}")
    return np.array([i for i, n in enumerate(lengths.values()) if n >= tail], np.int32)


def split_heldout(
    clips: dict[str, np.ndarray], sample_rate: int, holdout_seconds: float, *, min_train: int = 1
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Cut the last ``holdout_seconds`` off every clip: (training parts, held-out tails).

    Raises:
      InputError: a clip that leaves fewer than ``min_train`` training samples.
    """
    tail = holdout_samples(sample_rate, holdout_seconds)
    train, heldout = {}, {}
    for name, codes in clips.items():
        if len(codes) - tail < min_train:
            raise InputError(
                f"{name} is too short: {len(codes) / sample_rate:.2f} s, holding out "
                f"{holdout_seconds} s leaves fewer than {min_train} training samples"
            )
        train[name] = codes[: len(codes) - tail]
        heldout[name] = codes[len(codes) - tail :]
    return train, heldout


def random_windows(
    clips: dict[str, np.ndarray], window: int, num: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``num`` windows drawn uniformly over all start positions of all clips.

    Returns:
      (num, window) int32 codes and (num,) int32 index of the clip each came from.

    Raises:
      InputError: a window that is not positive, or a clip shorter than the window.
    """
    _check_window(window)
    names = list(clips)
    starts = []
    for name in names:
        if len(clips[name]) < window:
            raise InputError(
                f"{name} is too short: {len(clips[name])} samples, shorter than the window of "
                f"{window} samples"
            )
        starts.append(len(clips[name]) - window + 1)
    weights = np.asarray(starts, np.float64) / sum(starts)
    sources = rng.choice(len(names), size=num, p=weights).astype(np.int32)  # (num,)
    windows = np.empty((num, window), np.int32)
    for n, source in enumerate(sources):
        start = rng.integers(starts[source])
        windows[n] = clips[names[source]][start : start + window]
    return windows, sources


def heldout_tails(clips: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The held-out tails (equal length, from ``split_heldout``) stacked: (N, T), (N,) sources."""
    lengths = {len(codes) for codes in clips.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise InputError("held-out tails must be non-empty and of equal length")
    return np.stack(list(clips.values())).astype(np.int32), np.arange(len(clips), dtype=np.int32)


def audio_windows(
    paths,
    sample_rate: int,
    window: int | None,
    *,
    split: str = "train",
    num: int | None = None,
    holdout_seconds: float = 2.0,
    seed: int = 0,
    resample: bool = True,
    levels: int = 256,
    return_sources: bool = False,
):
    """Mu-law windows from audio files, for training or held-out evaluation.

    Args:
      paths: files and/or directories of WAV/FLAC/Ogg audio.
      sample_rate: the model's rate in Hz; files at other rates are resampled.
      window: samples per window; for ``split="heldout"``, None takes the whole tail.
      split: ``"train"``: ``num`` random windows from all but the last ``holdout_seconds``
        of every clip; ``"heldout"``: the last ``holdout_seconds`` of every clip, cut into
        consecutive windows (clips shorter than that are skipped, with a warning on the
        ``autoreg`` logger naming them: ``heldout_clip_index``, the rule of mel windows too).
      num: number of training windows (default: as many as the training audio holds).
      holdout_seconds: seconds at the end of each clip kept out of training (0: none).
      seed: seed of the random windows.
      resample: if False, a file at another rate is an error.
      levels: K, the number of mu-law codes.
      return_sources: also return the index (in sorted file order) of each window's file,
        usable as a class label (e.g. speaker id) for global conditioning.

    Returns:
      (N, window) int32 codes in 0..levels-1 (and (N,) int32 file indices).

    Raises:
      InputError: bad paths or files (see ``read_audio``), an unknown split, training clips
        too short for the held-out tail plus one window, or only held-out clips too short.
    """
    if split not in ("train", "heldout"):
        raise InputError(f"split must be 'train' or 'heldout', got {split!r}")
    if split == "heldout" and not holdout_seconds > 0:
        raise InputError("split='heldout' needs holdout_seconds > 0")
    if window is not None or split == "train":
        _check_window(window)
    clips = load_clips(paths, sample_rate, resample=resample, levels=levels)
    if split == "train":
        train, _ = split_heldout(clips, sample_rate, holdout_seconds, min_train=window)
        codes, sources = training_windows(train, window, num, seed)
    else:  # evaluation needs no training part: only clips shorter than the tail are skipped
        lengths = {name: len(codes) for name, codes in clips.items()}
        index = heldout_clip_index(lengths, sample_rate, holdout_seconds)
        names = list(clips)
        clips = {names[i]: clips[names[i]] for i in index}
        _, heldout = split_heldout(clips, sample_rate, holdout_seconds, min_train=0)
        codes, sources = heldout_windows(heldout, window, holdout_seconds)
        sources = index[sources]  # indices in the order of all the files
    return (codes, sources) if return_sources else codes


def training_windows(
    train: dict[str, np.ndarray], window: int, num: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``num`` random windows of the training parts (default: as many as they hold).

    Returns:
      (num, window) int32 codes and (num,) int32 index of the clip each came from.
    """
    num = sum(len(c) for c in train.values()) // window if num is None else num
    check_count(num, "num")
    return random_windows(train, window, num, np.random.default_rng(seed))


def heldout_windows(
    heldout: dict[str, np.ndarray], window: int | None, holdout_seconds: float
) -> tuple[np.ndarray, np.ndarray]:
    """The held-out tails cut into consecutive windows (None: each tail whole).

    Returns:
      (N * per_clip, window) int32 codes and (N * per_clip,) int32 clip indices, where
      per_clip = tail // window (1 with no window).
    """
    codes, sources = heldout_tails(heldout)  # (N, tail), (N,)
    if window is None:
        return codes, sources
    if window > codes.shape[1]:
        raise InputError(
            f"window of {window} samples is longer than the held-out "
            f"{holdout_seconds} s ({codes.shape[1]} samples)"
        )
    per_clip = codes.shape[1] // window
    codes = codes[:, : per_clip * window].reshape(-1, window)  # (N * per_clip, window)
    return codes, np.repeat(sources, per_clip)


def audio_dataset(
    paths,
    sample_rate: int,
    window: int | None,
    *,
    label_by_file: bool = False,
    levels: int = 256,
    **options,
) -> Dataset:
    """``audio_windows`` as a ``Dataset`` (examples (N, window) codes).

    Args:
      paths, sample_rate, window, levels: as for ``audio_windows``.
      label_by_file: label each window with its file's index in sorted order (e.g. a speaker id
        for a class-conditional WaveNet); otherwise no labels.
      **options: ``split``, ``num``, ``holdout_seconds``, ``seed``, ``resample`` of
        ``audio_windows``.
    """
    codes, sources = audio_windows(
        paths, sample_rate, window, levels=levels, return_sources=True, **options
    )
    source = ", ".join(map(str, [paths] if isinstance(paths, str | os.PathLike) else paths))
    return Dataset(codes, sources if label_by_file else None, levels, source)


def _check_window(window) -> None:
    check_count(window, "window")


def write_wav(path, codes_or_audio, sample_rate: int, *, levels: int = 256) -> Path:
    """Write one mono clip as a 16-bit PCM WAV, atomically (a temporary file, then a rename).

    Args:
      path: the WAV file to write (its directory is created if needed).
      codes_or_audio: (T,) integer mu-law codes in 0..levels-1, or floats in [-1, 1].
      sample_rate: rate in Hz.
      levels: K of the codes.

    Returns:
      The path written.

    Raises:
      InputError: not one (T,) clip, empty, out-of-range values, or a bad sample rate.
      InputTypeError: boolean data.
      OSError: the file could not be written (a full disk), naming ``path``; nothing is left.
    """
    data = np.asarray(codes_or_audio)
    if data.ndim != 1:
        raise InputError(f"write_wav takes one clip of shape (T,), got shape {data.shape}")
    if data.size == 0:
        raise InputError("write_wav got an empty clip")
    check_count(sample_rate, "sample_rate")
    if data.dtype == np.bool_:
        raise InputTypeError("write_wav takes integer codes or float audio, got booleans")
    if np.issubdtype(data.dtype, np.integer):
        audio = mu_law_decode(data, levels)
    else:
        audio = data.astype(np.float32)
        if not np.isfinite(audio).all() or audio.min() < -1.0 or audio.max() > 1.0:
            raise InputError("float audio must be finite and lie in [-1, 1]")
    soundfile = require("soundfile", "audio", "writing audio")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Encoded in memory, written by Python: a failed write (a full disk) is an OSError naming
    # ``path``, not libsndfile's "System error" naming the temporary file.
    encoded = io.BytesIO()
    soundfile.write(encoded, audio, sample_rate, subtype="PCM_16", format="WAV")
    atomic_write(path, lambda temp: Path(temp).write_bytes(encoded.getbuffer()))
    return path
