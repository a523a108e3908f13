"""Vocoding: audio from a log-mel spectrogram, with a mel-conditioned WaveNet or Griffin-Lim.

``analyse`` turns an audio file into the model's log-mel frames (the analysis recorded in its
config); ``vocode`` samples audio from frames with the WaveNet (its fast sampler, segment by
segment, so that long input shows progress); ``griffin_lim`` is the classical baseline from
the same frames; ``vocode_file`` is what ``autoreg vocode`` runs (with ``--spectrogram``, it
also draws the input's spectrogram above the output's: ``resynthesis_spectrograms``).

Each step is sized against ``autoreg.memory.memory_budget()`` before it starts (an audio file
from its header, before it is read and resampled): what does not fit is refused with a
``MemoryBudgetError``. Griffin-Lim is librosa's, one call without a progress hook, so it shows
no progress; the memory limit bounds how long it can run.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
from tqdm.auto import tqdm

from autoreg import memory
from autoreg.data.audio import mu_law_decode, read_audio, write_wav
from autoreg.data.mel import MelAnalysis, check_mel_shape, log_mel, mel_to_audio
from autoreg.errors import InputError
from autoreg.generate import complete, sample
from autoreg.image_io import check_writable, save_png
from autoreg.optional import require
from autoreg.rules import one_of

METHODS = ("wavenet", "griffin-lim")
SILENCE = 1e-3  # peak amplitude (-60 dBFS) below which input audio counts as silence
OUTPUT_BYTES = 24  # per output sample: int32 codes (segments and joined), float audio, the WAV


def vocoder_analysis(model) -> MelAnalysis:
    """The mel analysis a vocoder was trained on; ValueError for any other model."""
    mel = getattr(model.config, "mel", None)
    if model.name != "wavenet" or mel is None:
        raise InputError(
            f"this {model.name} checkpoint is not a mel-conditioned vocoder (no mel analysis "
            "in its config); use --model wavenet_vocoder or train one with --preset vocoder"
        )
    return mel


def resampled_length(path, sample_rate: int) -> tuple[int, int] | None:
    """(samples, rate) of an audio file from its header, or None if it has none to read (the
    reading then says why)."""
    soundfile = require("soundfile", "audio", "reading audio")
    try:
        info = soundfile.info(str(path))
    except (OSError, RuntimeError, soundfile.SoundFileError):
        return None
    return info.frames, info.samplerate


def check_analysis_memory(path, analysis: MelAnalysis) -> int | None:
    """Refuse an audio file whose analysis (resampled to ``analysis.sample_rate``) would not
    fit, from its header alone; returns the number of samples it resamples to (None when the
    header cannot be read).

    Raises:
      MemoryBudgetError: the analysis does not fit in ``memory_budget()``.
    """
    found = resampled_length(path, analysis.sample_rate)
    if found is None:
        return None
    samples, rate = found
    resampled = -(-samples * analysis.sample_rate // max(rate, 1))
    what = f"analysing {Path(path).name} ({samples} samples at {rate} Hz"
    if rate != analysis.sample_rate:
        what += f", {resampled} at {analysis.sample_rate} Hz"
    needed = 4 * samples + memory.mel_analysis_bytes(
        resampled, analysis.n_fft, analysis.hop_length, analysis.n_mels
    )
    memory.check_fits(what + ")", needed)
    return resampled


def check_synthesis_memory(model, frames: int, method: str, analysis: MelAnalysis) -> None:
    """Refuse resynthesising ``frames`` mel frames with ``method`` when it would not fit.

    WaveNet keeps the features, the output codes and audio (``OUTPUT_BYTES`` per sample) and
    samples one segment at a time; Griffin-Lim holds whole spectrograms
    (``memory.griffin_lim_bytes``).

    Raises:
      MemoryBudgetError: it does not fit in ``memory_budget()``.
    """
    hop = analysis.hop_length
    what = f"vocoding {frames} frames ({frames * hop} samples) with {method}"
    if method == "griffin-lim":
        needed = memory.griffin_lim_bytes(frames, analysis.n_fft, hop, analysis.n_mels)
    else:
        positions = (min(frames, 64) + -(-model.receptive_field // hop)) * hop  # one segment
        segment = memory.sampling_work(model, positions, None) + 13 * positions
        needed = frames * (8 * analysis.n_mels + OUTPUT_BYTES * hop) + segment
    memory.check_fits(what, needed)


def analyse(path, analysis: MelAnalysis) -> np.ndarray:
    """Log-mel frames (frames, n_mels) of an audio file, resampled to the analysis rate.

    Raises:
      InputError: an unreadable or empty file, audio shorter than one frame, or silence only.
      MemoryBudgetError: (a ValueError) the file's analysis would not fit in memory (known from
        its header, before it is read).
    """
    check_analysis_memory(path, analysis)
    audio = read_audio(path, analysis.sample_rate)
    if np.abs(audio).max() < SILENCE:
        raise InputError(f"{path} is silent (peak below -60 dBFS): nothing to vocode")
    return log_mel(audio, analysis)


def load_mel(path, analysis: MelAnalysis) -> np.ndarray:
    """A precomputed (frames, n_mels) spectrogram from a ``.npy`` file (no pickles)."""
    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read mel spectrogram {path}: {error}") from None
    if features.ndim == 3 and features.shape[0] == 1:
        features = features[0]
    return check_mel_shape(features, analysis.n_mels)


def speaker_id(model, speaker) -> np.ndarray | None:
    """(1,) class id of ``speaker`` (a name from the model's config or an id), or None."""
    if model.num_classes == 0:
        if speaker is not None:
            raise InputError("this vocoder has no speakers: drop --speaker")
        return None
    names = list(model.config.speakers)
    if speaker is None:
        raise InputError(f"this vocoder is speaker-conditioned: pass --speaker ({names})")
    if str(speaker) in names:
        return np.array([names.index(str(speaker))], np.int32)
    if str(speaker).isdigit() and int(speaker) < model.num_classes:
        return np.array([int(speaker)], np.int32)
    raise InputError(f"unknown speaker {speaker!r}; known: {names or model.num_classes}")


def vocode(
    model,
    features,
    *,
    seed: int = 0,
    speaker=None,
    temperature: float = 1.0,
    segment_frames: int = 64,
    progress: bool = False,
) -> np.ndarray:
    """Sample audio for log-mel ``features`` from a mel-conditioned WaveNet.

    Segments of ``segment_frames`` frames are generated one after another, each continuing
    the last ``receptive_field`` samples of the one before (observed), with the frames before
    it as context: the same model distribution as one long call, with a progress bar.

    Args:
      model: a mel-conditioned WaveNet (``vocoder_analysis`` accepts it).
      features: (frames, n_mels) from ``log_mel`` with the model's analysis.
      seed: sampling seed (segment i uses ``fold_in(key(seed), i)``).
      speaker: speaker name or id for a speaker-conditioned model.
      temperature: divides the logits.
      segment_frames: frames per generated segment.
      progress: show a progress bar over the segments.

    Returns:
      (frames * hop_length,) float32 audio in [-1, 1] at the model's rate.

    Raises:
      InputError: a model that is not a vocoder, features of the wrong shape, a bad speaker.
      MemoryBudgetError: (a ValueError) the audio would not fit in memory.
    """
    analysis = vocoder_analysis(model)
    features = check_mel_shape(features, analysis.n_mels)
    check_synthesis_memory(model, len(features), "wavenet", analysis)
    labels = speaker_id(model, speaker)
    cfg = model.config
    hop, context = cfg.hop_length, cfg.upsample_context
    prefix = -(-model.receptive_field // hop)  # frames of audio each segment continues
    frames = len(features)
    seg = min(max(segment_frames, prefix + context), frames)
    count = -(-frames // seg)
    padded = np.concatenate([features, np.zeros((count * seg - frames, cfg.local_features))])
    padded = padded.astype(np.float32)  # silence after the end changes nothing before it
    key = jax.random.key(seed)
    bar = tqdm(total=count, desc="vocode", unit="segment", disable=not progress)
    codes = np.asarray(
        sample(model, key, 1, labels=labels, features=padded[None, :seg], progress=False)[0]
    )
    bar.update(1)
    pieces = [codes]
    for i in range(1, count):
        start = i * seg
        x = np.zeros((1, (prefix + seg) * hop), np.int32)
        x[0, : prefix * hop] = codes[-prefix * hop :]
        observed = np.arange(x.shape[1]) < prefix * hop
        window = padded[None, start - prefix - context : start + seg]  # with context frames
        done = complete(
            model,
            jax.random.fold_in(key, i),
            x,
            observed,
            labels=labels,
            features=window,
            temperature=temperature,
            progress=False,
        )
        codes = np.asarray(done[0, prefix * hop :])
        pieces.append(codes)
        bar.update(1)
    bar.close()
    return mu_law_decode(np.concatenate(pieces)[: frames * hop], model.levels)


def griffin_lim(features, analysis: MelAnalysis, *, seed: int = 0) -> np.ndarray:
    """The Griffin-Lim baseline from the same frames: (frames * hop_length,) float32 audio.

    Raises:
      InputError: features of the wrong shape.
      MemoryBudgetError: (a ValueError) it would not fit in memory.
    """
    features = check_mel_shape(features, analysis.n_mels)
    check_synthesis_memory(None, len(features), "griffin-lim", analysis)
    return mel_to_audio(features, analysis, seed=seed)


def vocode_file(
    model,
    out,
    *,
    audio=None,
    mel=None,
    method: str = "wavenet",
    speaker=None,
    seed: int = 0,
    temperature: float = 1.0,
    progress: bool = False,
    spectrogram=None,
) -> Path:
    """Analyse ``audio`` (or read the ``mel`` .npy), resynthesise it, write the WAV ``out``.

    With ``spectrogram`` (a .png path), also write the spectrograms of the input and of the
    resynthesis (its log-mel under the same analysis) one above another
    (``resynthesis_spectrograms``). The picture is drawn before either file is written, and
    each file is written atomically: an error leaves neither half-written.

    Raises:
      InputError: neither or both of audio and mel, an unknown method, a model that is not a
        vocoder, bad input (see ``analyse``, ``load_mel``, ``speaker_id``), or a
        ``spectrogram`` path that is not a .png in a writable folder.
      MemoryBudgetError: (a ValueError) the analysis or the resynthesis would not fit in
        memory, refused before it starts.
    """
    if (audio is None) == (mel is None):
        raise InputError("pass exactly one of --audio FILE or --mel FILE.npy")
    one_of(METHODS).check(method, "method")
    analysis = vocoder_analysis(model)
    if spectrogram is not None:  # before any work
        spectrogram = check_writable(spectrogram, (".png",))
    if audio is not None:  # sized from the header, before anything is read
        samples = check_analysis_memory(audio, analysis)
        if samples is not None:
            check_synthesis_memory(model, samples // analysis.hop_length, method, analysis)
    features = analyse(audio, analysis) if audio is not None else load_mel(mel, analysis)
    if method == "griffin-lim":
        waveform = griffin_lim(features, analysis, seed=seed)
    else:
        waveform = vocode(
            model,
            features,
            seed=seed,
            speaker=speaker,
            temperature=temperature,
            progress=progress,
        )
    picture = None
    if spectrogram is not None:
        picture = resynthesis_spectrograms(features, waveform, analysis, method)
    path = write_wav(out, waveform, analysis.sample_rate)
    if picture is not None:
        save_png(picture, spectrogram)
    return path


def resynthesis_spectrograms(features, waveform, analysis: MelAnalysis, method: str) -> np.ndarray:
    """The picture of the input's log-mel above that of its resynthesis, one colour scale.

    Args:
      features: (frames, n_mels) log-mel of the input.
      waveform: (frames * hop_length,) resynthesised audio.
      analysis: the analysis of ``features``, used again on ``waveform``.
      method: ``"wavenet"`` or ``"griffin-lim"``, for the lower panel's title.

    Returns:
      (H, W, 3) uint8 RGB (``autoreg.spectrogram.spectrogram_comparison_image``).
    """
    from autoreg.spectrogram import spectrogram_comparison_image

    name = {"wavenet": "WaveNet", "griffin-lim": "Griffin-Lim"}[method]
    named = {"input": features, f"{name} resynthesis": log_mel(waveform, analysis)}
    return spectrogram_comparison_image(named, analysis)
