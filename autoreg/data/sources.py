"""One entry point for every data source: ``load`` reads one split as a ``Dataset``.

``load_pair`` reads the training split and the test split of a source (``None`` for a source
without one, with a warning), and ``load_for_model`` reads what a trained model is evaluated on,
with the options the model fixes (its levels, sample rate, mel analysis and speakers, frame
size).

    train_set = autoreg.data.load("mnist.npz", split="train")  # images (N, 28, 28, 1), labels
    test_set = autoreg.data.load("clips/", kind="audio", split="test", window=8000)
    video = autoreg.data.load("moving_mnist", kind="video", split="test", frame_size=32)
"""

from __future__ import annotations

import dataclasses
import logging
import os

from autoreg.data.audio import audio_dataset
from autoreg.data.dataset import Dataset
from autoreg.data.images import MissingSplit, load_images
from autoreg.data.mel import MelAnalysis
from autoreg.data.mel_windows import mel_windows
from autoreg.data.video import load_video, moving_mnist_path
from autoreg.errors import InputError

log = logging.getLogger(__name__)

KINDS = ("image", "audio", "video")
SPLITS = ("train", "test")
DEFAULT_HOLDOUT = 2.0  # audio: seconds at the end of each clip kept out of training
IMAGE_ONLY = ("binarize", "patch_size", "download")  # the options of image sources
MEL_ONLY = ("speaker_from", "speakers")  # the options of mel windows
AUDIO_ONLY = ("window", "mel", "label_by_file", "speaker_from", "speakers")  # of audio


def load(
    source,
    *,
    kind: str = "image",
    split: str = "train",
    levels: int = 256,
    binarize: bool | str = False,
    patch_size: int | None = None,
    num_patches: int = 10_000,
    seed: int = 0,
    download: bool = False,
    sample_rate: int = 16000,
    window: int | None = None,
    num: int | None = None,
    holdout_seconds: float = DEFAULT_HOLDOUT,
    label_by_file: bool = False,
    mel: MelAnalysis | None = None,
    context: int = 0,
    speaker_from: str = "none",
    speakers: tuple = (),
    frames: int | None = None,
    frame_size: int | None = None,
    num_digits: int | None = None,
) -> Dataset:
    """Load one split of a data source as a ``Dataset``.

    Images: a ``.npz`` file (``x_train``/``y_train``/``x_test``/``y_test`` keys, or one image
    array), a folder of PNG/JPEG images (``train/`` and ``test/`` subfolders used if present),
    image files (comma-separated), gzip'd IDX files or ``tfds:NAME``. Audio: WAV/FLAC/Ogg files
    and folders (a list, or comma-separated), cut into mu-law windows; the last
    ``holdout_seconds`` of each clip are the test split. With ``mel``, the windows start on
    frame boundaries and come with their log-mel frames as ``features`` (and speaker ids as
    labels with ``speaker_from``): the data of a mel-conditioned WaveNet. Video
    (``autoreg.data.video.load_video``): ``"moving_mnist"`` (the MNIST found by
    ``autoreg.data.video.find_mnist``) or ``"moving_mnist:PATH_TO_MNIST"``, the split's standard
    Moving MNIST sequences; or clips (``.npy``/``.npz``/GIF/frame folders, ``load_clips``), one
    set that is its own test split (with a warning).

    Args:
      source: the path(s) or name of the data (see above).
      kind: ``"image"``, ``"audio"`` or ``"video"``.
      split: ``"train"`` or ``"test"`` (audio: the held-out tails).
      levels: K; 8-bit images are binned to K levels, audio is mu-law coded with K codes.
      binarize: images: False, or K = 2 by ``"threshold"`` (also ``True``) or ``"stochastic"``.
      patch_size: images: cut square patches of this size from large images (see
        ``autoreg.data.images.load_images``).
      num_patches: images: how many random training patches to cut.
      seed: seed of the random patches or training windows.
      download: images: let tensorflow-datasets download (never otherwise).
      sample_rate: audio: the model's rate in Hz (files at other rates are resampled); with
        ``mel``, the analysis' rate is used.
      window: audio: samples per window (required for ``"train"``; None cuts each held-out tail
        whole). Mel windows round it down to whole frames.
      num: audio: number of training windows (default: as many as the training audio holds);
        video: Moving MNIST sequences (default 10,000) or the first ``num`` clips (default all).
      holdout_seconds: audio: seconds at the end of each clip kept out of training (the test
        split skips a clip shorter than that, with a warning naming it).
      label_by_file: plain audio: label each window with its file's index in sorted order.
      mel: audio: the log-mel analysis of a mel-conditioned model (its ``config.mel``).
      context: mel windows: frames before each window its features include (the model's
        ``upsample_context``).
      speaker_from: mel windows: speaker ids as labels from each file's folder (``"parent"``)
        or name (``"stem"``), or none (``"none"``).
      speakers: mel windows: speaker names in id order (a trained model's); default: the sorted
        names found.
      frames: Moving MNIST: frames per sequence (default 20).
      frame_size: Moving MNIST: the frames' side in pixels (default 64).
      num_digits: Moving MNIST: digits per sequence (default 2).

    Returns:
      A ``Dataset``: images (N, H, W, C) with their class labels if the source has any, or
      audio windows (N, window) with file or speaker labels and, with ``mel``, features
      (N, context + frames, n_mels), or video (N, T, H, W, C) without labels.

    Raises:
      MissingSplit: an image source without the ``split`` (or with an empty one). A source with
        one set of examples is its own test split, with a warning on the ``autoreg`` logger.
      InputError: an unknown kind or split, an option of the other kind of data, or bad
        files (see ``load_images``, ``audio_windows``, ``mel_windows``).

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 256, (12, 4, 4), dtype=np.uint8)
      >>> labels = np.arange(12) % 3
      >>> np.savez(
      ...     "digits.npz", x_train=images[:8], y_train=labels[:8], x_test=images[8:],
      ...     y_test=labels[8:],
      ... )
      >>> test_set = autoreg.data.load("digits.npz", split="test", levels=4)
      >>> test_set.examples.shape, test_set.labels, test_set.levels, test_set.source
      ((4, 4, 4, 1), array([2, 0, 1, 2], dtype=int32), 4, 'digits.npz')
      >>> int(test_set.examples.max()) < 4
      True
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    if split not in SPLITS:
        raise InputError(f"split must be one of {SPLITS}, got {split!r}")
    video_options = dict(frames=frames, frame_size=frame_size, num_digits=num_digits)
    if kind != "video" and any(value is not None for value in video_options.values()):
        raise InputError(f"{', '.join(video_options)} are for video")
    if kind == "video":
        audio = (window, mel) != (None, None) or label_by_file or speakers
        if audio or speaker_from != "none" or binarize or patch_size is not None or download:
            raise InputError(f"{', '.join(IMAGE_ONLY + AUDIO_ONLY)} are not for video")
        return load_video(source, split=split, levels=levels, num=num, **video_options)
    if kind == "image":
        audio = (window, num, mel) != (None, None, None) or label_by_file or speakers
        if audio or speaker_from != "none":
            raise InputError(
                "window, num, mel, label_by_file, speaker_from, speakers are for audio"
            )
        return load_images(
            source,
            split=split,
            levels=levels,
            binarize=binarize,
            patch_size=patch_size,
            num_patches=num_patches,
            seed=seed,
            download=download,
        )
    if binarize or patch_size is not None or download:
        raise InputError(f"{', '.join(IMAGE_ONLY)} are for images")
    paths = source.split(",") if isinstance(source, str) else source
    audio_split = "heldout" if split == "test" else "train"
    options = dict(split=audio_split, num=num, holdout_seconds=holdout_seconds, seed=seed)
    if mel is None:
        if speaker_from != "none" or speakers:
            raise InputError(f"{' and '.join(MEL_ONLY)} are for mel windows (pass mel=)")
        dataset = audio_dataset(
            paths, sample_rate, window, label_by_file=label_by_file, levels=levels, **options
        )
    else:
        if label_by_file:
            raise InputError("mel windows are labelled by speaker_from, not label_by_file")
        dataset = mel_windows(
            paths,
            mel,
            window,
            context=context,
            levels=levels,
            speaker_from=speaker_from,
            speakers=speakers,
            **options,
        )
    if isinstance(source, str | os.PathLike):  # named as given
        dataset = dataclasses.replace(dataset, source=str(source))
    return dataset


def load_pair(source, *, kind: str = "image", seed: int = 0, **options) -> tuple:
    """The training split and the test split of ``source``, as ``load`` reads them.

    The test split of images cuts its patches with ``seed + 1``; that of mel windows uses the
    training split's speakers.

    Args:
      source: as for ``load``.
      kind: ``"image"``, ``"audio"`` or ``"video"``.
      seed: seed of the training split (random windows or patches).
      **options: any other option of ``load`` (but ``split``).

    Returns:
      (train ``Dataset``, test ``Dataset``), the test one None for an image source without a
      test split (said by a warning on the ``autoreg`` logger).

    Raises:
      MissingSplit: the source has no training examples.
      InputError: as for ``load``.

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 256, (12, 4, 4), dtype=np.uint8)
      >>> np.savez("pair.npz", x_train=images[:8], x_test=images[8:])
      >>> train_set, test_set = autoreg.data.load_pair("pair.npz", levels=4)
      >>> len(train_set), len(test_set)
      (8, 4)
      >>> np.savez("no_test.npz", x_train=images)
      >>> autoreg.data.load_pair("no_test.npz")[1] is None  # with a warning
      True
    """
    train_set = load(source, kind=kind, split="train", seed=seed, **options)
    if kind == "audio":
        if options.get("mel") is not None:
            options["speakers"] = train_set.speaker_names
        return train_set, load(source, kind=kind, split="test", seed=seed, **options)
    try:
        test_set = load(source, kind=kind, split="test", seed=seed + 1, **options)
    except MissingSplit as error:  # a single folder or file, or an empty test split
        log.warning("%s; training without test bits/dim", error)
        test_set = None
    return train_set, test_set


def audio_options(config) -> dict:
    """The ``load`` options that an audio model's config fixes: its sample rate and, for a
    mel-conditioned model, its mel analysis and feature context."""
    mel = getattr(config, "mel", None)
    if mel is None:
        return {"sample_rate": config.sample_rate}
    return {"sample_rate": config.sample_rate, "mel": mel, "context": config.upsample_context}


def video_options(config, source) -> dict:
    """The ``load`` options that a video model's config fixes for Moving MNIST: its frames
    (``config.frames``) and frame size; none for clips, which are read as they are.

    Raises:
      InputError: Moving MNIST for a model whose frames are not square and gray.
    """
    if moving_mnist_path(source) is None:
        return {}
    height, width, channels = config.image_shape
    if height != width or channels != 1:
        raise InputError(
            f"Moving MNIST frames are square and gray (H, H, 1); the model's frames are "
            f"{tuple(config.image_shape)}"
        )
    return {"frames": config.frames, "frame_size": height}


def load_for_model(
    model,
    source,
    *,
    split: str = "test",
    limit: int | None = None,
    binarize: bool | str = False,
    patch_size: int | None = None,
    window: int | None = None,
    holdout_seconds: float = DEFAULT_HOLDOUT,
    speaker_from: str = "none",
) -> Dataset:
    """The ``split`` of ``source`` that ``model`` is evaluated on, with the options the model
    fixes (kind, levels, sample rate, mel analysis, speakers, frames), cut to ``limit`` examples.

    Video: Moving MNIST is made at the model's frame size with ``config.frames`` frames (the
    first ``limit`` sequences of the standard set); clips are read as they are, any number of
    frames, and must have the model's frame shape (H, W, C).

    Labels are kept for a class-conditional model only: class labels of images, the file index
    of plain audio windows, speaker ids of mel windows (by ``speaker_from``).

    Args:
      model: a registry model.
      source: as for ``load``.
      split: ``"train"`` or ``"test"``.
      limit: the first ``limit`` examples only (all when None).
      binarize: images: as for ``load``.
      patch_size: images: as for ``load``.
      window: audio: as for ``load``.
      holdout_seconds: audio: as for ``load``.
      speaker_from: mel windows of a speaker-conditioned model: as for ``load``.

    Returns:
      A ``Dataset`` the model can evaluate.

    Raises:
      MissingSplit: an image source without the ``split``.
      InputError: images (or video frames) of another shape than the model's, a
        class-conditional image model and a source without labels, an image option for video,
        or as for ``load``.

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 256, (12, 4, 4), dtype=np.uint8)
      >>> np.savez("for_model.npz", x_train=images[:8], y_train=np.arange(8), x_test=images[8:],
      ...          y_test=np.arange(4))
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> dataset = autoreg.data.load_for_model(model, "for_model.npz", limit=2)
      >>> dataset.examples.shape, dataset.levels, dataset.labels  # unconditional: no labels
      ((2, 4, 4, 1), 4, None)
    """
    conditional = bool(model.num_classes)
    if model.kind == "video":
        if binarize or patch_size is not None or window is not None:
            raise InputError("binarize, patch_size and window are not for video")
        options = video_options(model.config, source)
        dataset = load(source, kind="video", split=split, levels=model.levels, num=limit, **options)
        frame_shape, expected = dataset.event_shape[1:], tuple(model.config.image_shape)
        if frame_shape != expected:
            raise InputError(f"{source} has frames of {frame_shape}, the model expects {expected}")
        if conditional:
            raise InputError(f"{model.name} is class-conditional but {source} has no labels")
        return dataset
    if not model.fixed_shape:
        options = audio_options(model.config)
        if "mel" in options:
            speaker_from = speaker_from if conditional else "none"
            options.update(speaker_from=speaker_from, speakers=tuple(model.config.speakers or ()))
        else:
            options["label_by_file"] = conditional
        dataset = load(
            source,
            kind="audio",
            split=split,
            levels=model.levels,
            window=window,
            holdout_seconds=holdout_seconds,
            **options,
        )
        return dataset.take(limit)
    dataset = load(
        source, split=split, levels=model.levels, binarize=binarize, patch_size=patch_size
    ).take(limit)
    if dataset.event_shape != model.event_shape():
        raise InputError(
            f"{source} has {dataset.event_shape} images, the model expects {model.event_shape()}"
        )
    if conditional and dataset.labels is None:
        raise InputError(f"{model.name} is class-conditional but {source} has no labels")
    return dataset if conditional else dataclasses.replace(dataset, labels=None)


def load_for_training(
    source,
    audio_config=None,
    *,
    levels: int = 256,
    seed: int = 0,
    window: int | None = None,
    holdout_seconds: float = DEFAULT_HOLDOUT,
    speaker_from: str = "none",
    video_config=None,
    num: int | None = None,
    **image_options,
) -> tuple:
    """The (train, test) datasets a model is trained on: images, audio windows cut for an
    audio model's config, or video for a video model's config.

    Plain audio windows are labelled by their file's index (used by a class-conditional
    WaveNet only); a mel-conditioned model's windows come with their log-mel frames and, by
    ``speaker_from``, speaker ids.

    Args:
      source: as for ``load``.
      audio_config: the config of the audio model to train (its sample rate, and the mel
        analysis and context of a mel-conditioned one), or None for images.
      levels: as for ``load``.
      seed: as for ``load``.
      window: audio: as for ``load``.
      holdout_seconds: audio: as for ``load``.
      speaker_from: mel windows: as for ``load``.
      video_config: the config of the video model to train: Moving MNIST is made with its
        ``frames`` and frame size (``image_shape``, square and gray); clips are read as they
        are. None for images and audio.
      num: video: Moving MNIST sequences per split, or the first ``num`` clips.
      **image_options: images: ``binarize``, ``patch_size``, ``num_patches``, ``download``.

    Returns:
      (train ``Dataset``, test ``Dataset`` or None), as ``load_pair`` returns them.

    Raises:
      MissingSplit: as for ``load_pair``.
      InputError: as for ``load_pair``.

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 256, (12, 4, 4), dtype=np.uint8)
      >>> np.savez("to_train.npz", x_train=images[:8], x_test=images[8:])
      >>> train_set, test_set = autoreg.data.load_for_training("to_train.npz", levels=4)
      >>> train_set.examples.shape, test_set.examples.shape
      ((8, 4, 4, 1), (4, 4, 4, 1))
    """
    if video_config is not None:
        options = video_options(video_config, source)
        return load_pair(source, kind="video", levels=levels, seed=seed, num=num, **options)
    if audio_config is None:
        return load_pair(source, kind="image", levels=levels, seed=seed, **image_options)
    options = audio_options(audio_config)
    if "mel" in options:
        options["speaker_from"] = speaker_from
    else:
        options["label_by_file"] = True
    return load_pair(
        source,
        kind="audio",
        levels=levels,
        seed=seed,
        window=window,
        holdout_seconds=holdout_seconds,
        **options,
    )
