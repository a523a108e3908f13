"""Audio: (T,) mu-law codes in time order, of a length chosen per call; samples as WAV files."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import MappingProxyType

from autoreg.errors import InputError
from autoreg.modalities.base import Modality, Options

__all__ = ["AUDIO", "DEFAULT_HOLDOUT", "DEFAULT_SECONDS", "Audio", "AudioOptions"]

DEFAULT_HOLDOUT = 2.0  # seconds at the end of each clip kept out of training
DEFAULT_SECONDS = 2.0  # length of a sampled clip


@dataclasses.dataclass(frozen=True)
class AudioOptions(Options):
    """Options of audio sources: WAV/FLAC/Ogg files and folders cut into mu-law windows.

    Attributes:
      levels: K, the mu-law codes.
      seed: seed of the random training windows.
      sample_rate: the model's rate in Hz (files at other rates are resampled); with ``mel``,
        the analysis' rate is used.
      window: samples per window (required for ``"train"``; None cuts each held-out tail
        whole). Mel windows round it down to whole frames.
      num: number of training windows (default: as many as the training audio holds).
      holdout_seconds: seconds at the end of each clip kept out of training (the test split
        skips a clip shorter than that, with a warning naming it).
      label_by_file: plain audio: label each window with its file's index in sorted order.
      mel: the log-mel analysis of a mel-conditioned model (its ``config.mel``): windows start
        on frame boundaries and come with their log-mel frames as ``features``.
      context: mel windows: frames before each window its features include (the model's
        ``upsample_context``).
      speaker_from: mel windows: speaker ids as labels from each file's folder (``"parent"``)
        or name (``"stem"``), or none (``"none"``).
      speakers: mel windows: speaker names in id order (a trained model's); default: the sorted
        names found.

    Raises:
      InputError: speakers without ``mel``, or ``label_by_file`` with it.
    """

    sample_rate: int = 16000
    window: int | None = None
    num: int | None = None
    holdout_seconds: float = DEFAULT_HOLDOUT
    label_by_file: bool = False
    mel: object = None  # autoreg.data.mel.MelAnalysis
    context: int = 0
    speaker_from: str = "none"
    speakers: tuple = ()

    def __post_init__(self):
        if self.mel is None and (self.speaker_from != "none" or self.speakers):
            raise InputError("speaker_from and speakers are for mel windows (pass mel=)")
        if self.mel is not None and self.label_by_file:
            raise InputError("mel windows are labelled by speaker_from, not label_by_file")


class Audio(Modality):
    """Mono audio of any length, at a model's sample rate."""

    name = "audio"
    axes = ("time",)
    example = "clip"
    options_cls = AudioOptions
    sample_file = "samples.wav"
    sample_suffixes = (".wav",)
    default_samples = 1
    bits_unit = "bits/sample"
    sample_options = MappingProxyType({"seconds": None})
    eval_options = MappingProxyType(
        {name: name for name in ("window", "holdout_seconds", "speaker_from")}
    )
    train_options = eval_options

    def check_example_shape(self, model, shape: tuple, what: str) -> None:
        pass  # any length

    def fixed_example_shape(self, model) -> None:
        return None  # each call chooses the length

    def sample_length(self, model, seconds: float | None) -> int:
        """Samples in a clip of ``seconds`` (default ``DEFAULT_SECONDS``) at the model's rate.

        Raises:
          InputError: less than one sample.
        """
        seconds = DEFAULT_SECONDS if seconds is None else seconds
        length = round(seconds * model.config.sample_rate)
        if length < 1:
            raise InputError(
                f"--seconds {seconds:g} is less than one sample at {model.config.sample_rate} Hz"
            )
        return length

    def sample_shape(self, model, length: int | None, features) -> tuple[int, ...]:
        import numpy as np

        if features is not None and length is None:  # a vocoder: hop_length samples a frame
            frames = int(np.shape(features)[1]) if np.ndim(features) else 0
            length = frames * model.config.hop_length
        return model.event_shape(length)

    def describe(self, count: int, shape: tuple) -> str:
        return f"{count} clip{'s' * (count != 1)} of {shape[0]} samples"

    def load(self, source, split: str, options: AudioOptions):
        from autoreg.data.audio import audio_dataset
        from autoreg.data.mel_windows import mel_windows

        if split == "train" and options.window is None:
            raise InputError(
                "the training split of audio is random windows: give their length (--window)"
            )
        paths = source.split(",") if isinstance(source, str) else source
        fields = dataclasses.asdict(options)
        shared = {key: fields.pop(key) for key in ("num", "holdout_seconds", "seed", "levels")}
        shared["split"] = "heldout" if split == "test" else "train"
        if options.mel is None:
            dataset = audio_dataset(
                paths,
                options.sample_rate,
                options.window,
                label_by_file=options.label_by_file,
                **shared,
            )
        else:
            dataset = mel_windows(
                paths,
                options.mel,
                options.window,
                context=options.context,
                speaker_from=options.speaker_from,
                speakers=options.speakers,
                **shared,
            )
        if isinstance(source, str | os.PathLike):  # named as given
            dataset = dataclasses.replace(dataset, source=str(source))
        return dataset

    def load_pair(self, source, options: AudioOptions) -> tuple:
        """The training windows and the held-out tails (with the training split's speakers)."""
        train_set = self.load(source, "train", options)
        if options.mel is not None:
            options = dataclasses.replace(options, speakers=tuple(train_set.speaker_names or ()))
        return train_set, self.load(source, "test", options)

    def fixed_options(self, config, **given) -> AudioOptions:
        """The options ``given`` plus those an audio config fixes: its sample rate and, for a
        mel-conditioned model, its mel analysis and feature context."""
        mel = getattr(config, "mel", None)
        if mel is not None:
            given.update(mel=mel, context=config.upsample_context)
        return self.options(sample_rate=config.sample_rate, **given)

    def model_options(self, model, source, limit=None, **given) -> AudioOptions:
        conditional = bool(model.num_classes)
        if getattr(model.config, "mel", None) is not None:
            given["speaker_from"] = given.get("speaker_from", "none") if conditional else "none"
            given["speakers"] = tuple(model.config.speakers or ())
        else:
            given.pop("speaker_from", None)
            given["label_by_file"] = conditional
        return self.fixed_options(model.config, levels=model.levels, **given)

    def training_options(self, config, source, **given) -> AudioOptions:
        if getattr(config, "mel", None) is None:
            given.pop("speaker_from", None)
            given["label_by_file"] = True  # used by a class-conditional model only
        return self.fixed_options(config, **given)

    def write_samples(self, model, samples, path: Path, scale=None, duration_ms=None) -> Path:
        """One WAV file per clip: ``path``, or ``path_<i>`` for several."""
        from autoreg.data.audio import write_wav

        for i, clip in enumerate(samples):
            out = path if len(samples) == 1 else path.with_name(f"{path.stem}_{i}{path.suffix}")
            write_wav(out, clip, model.config.sample_rate, levels=model.levels)
        return path


AUDIO = Audio()
