"""One entry point for every data source: ``load`` reads one split as a ``Dataset``.

The kind of data (``kind="image"``, ``"audio"`` or ``"video"``) names a modality
(``autoreg.modalities``), which reads its sources with its own typed options
(``ImageOptions``, ``AudioOptions``, ``VideoOptions``): an option of another kind is refused by
the type. ``load_pair`` reads the training and the test split of a source (``None`` for a
source without one, with a warning); ``load_for_model`` reads what a trained model is
evaluated on, and ``load_for_training`` what a model of a config is trained on, with the
options the model fixes (its levels, sample rate, mel analysis and speakers, frame size).

    train_set = autoreg.data.load("mnist.npz", split="train")  # images (N, 28, 28, 1), labels
    test_set = autoreg.data.load("clips/", kind="audio", split="test", window=8000)
    video = autoreg.data.load("moving_mnist", kind="video", split="test", frame_size=32)
"""

from __future__ import annotations

from autoreg.data.dataset import SPLIT, Dataset
from autoreg.modalities import Modality, modality


def modality_of(kind: str | Modality) -> Modality:
    """The modality ``kind`` names (or is)."""
    return kind if isinstance(kind, Modality) else modality(kind)


def load(source, *, kind: str | Modality = "image", split: str = "train", **options) -> Dataset:
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
      kind: ``"image"``, ``"audio"`` or ``"video"`` (or a modality).
      split: ``"train"`` or ``"test"`` (audio: the held-out tails).
      **options: the fields of the kind's options (``autoreg.modalities.ImageOptions``,
        ``AudioOptions`` or ``VideoOptions``), e.g. ``levels``, ``binarize`` or ``window``.

    Returns:
      A ``Dataset``: images (N, H, W, C) with their class labels if the source has any, or
      audio windows (N, window) with file or speaker labels and, with ``mel``, features
      (N, context + frames, n_mels), or video (N, T, H, W, C) without labels.

    Raises:
      MissingSplit: an image source without the ``split`` (or with an empty one). A source with
        one set of examples is its own test split, with a warning on the ``autoreg`` logger.
      InputTypeError: an option of another kind of data.
      InputError: an unknown kind or split, or bad files (see ``load_images``,
        ``audio_windows``, ``mel_windows``, ``load_video``).

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
    chosen = modality_of(kind)
    SPLIT.check(split, "split")
    return chosen.load(source, split, chosen.options(**options))


def load_pair(source, *, kind: str | Modality = "image", **options) -> tuple:
    """The training split and the test split of ``source``, as ``load`` reads them.

    The test split of images cuts its patches with ``seed + 1``; that of mel windows uses the
    training split's speakers.

    Args:
      source: as for ``load``.
      kind: as for ``load``.
      **options: as for ``load`` (``seed``: the training split's).

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
    chosen = modality_of(kind)
    return chosen.load_pair(source, chosen.options(**options))


def load_for_model(
    model, source, *, split: str = "test", limit: int | None = None, **options
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
      **options: the options of the model's modality it does not fix: images ``binarize``,
        ``patch_size``; audio ``window``, ``holdout_seconds``, ``speaker_from``.

    Returns:
      A ``Dataset`` the model can evaluate.

    Raises:
      MissingSplit: an image source without the ``split``.
      InputError: examples (or video frames) of another shape than the model's, a
        class-conditional model and a source without labels, or as for ``load``.

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 256, (12, 4, 4), dtype=np.uint8)
      >>> np.savez("for_model.npz", x_train=images[:8], y_train=np.arange(8), x_test=images[8:],
      ...          y_test=np.arange(4))
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> dataset = autoreg.data.load_for_model(model, "for_model.npz", limit=2)
      >>> dataset.examples.shape, dataset.levels, dataset.labels  # unconditional: no labels
      ((2, 4, 4, 1), 4, None)
    """
    SPLIT.check(split, "split")
    chosen = model.modality
    dataset = chosen.load(source, split, chosen.model_options(model, source, limit, **options))
    return chosen.fitted(model, dataset.take(limit), source)


def load_for_training(source, config=None, *, kind: str | Modality = "image", **options) -> tuple:
    """The (train, test) datasets a model of ``config`` is trained on: images, audio windows
    cut for an audio model's config, or video for a video model's config.

    Plain audio windows are labelled by their file's index (used by a class-conditional
    WaveNet only); a mel-conditioned model's windows come with their log-mel frames and, by
    ``speaker_from``, speaker ids. Moving MNIST is made with a video config's ``frames`` and
    frame size (``image_shape``, square and gray); clips are read as they are.

    Args:
      source: as for ``load``.
      config: the config of the model to train, whose fields fix some options (an audio
        model's sample rate and mel analysis, a video model's frame size); None for images.
      kind: the model's kind of data, as for ``load`` (``model_cls.modality``).
      **options: the other options of that kind (``levels``, ``seed``, ``binarize``,
        ``window``, ``num``, ...).

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
    chosen = modality_of(kind)
    return chosen.load_pair(source, chosen.training_options(config, source, **options))
