"""Video data: Moving MNIST sequences, and the user's own clips, as uint8 (N, T, H, W, C).

Moving MNIST follows Srivastava et al. 2015 (Unsupervised Learning of Video Representations
using LSTMs): each sequence holds ``num_digits`` MNIST digits that move in straight lines at a
fixed speed and bounce off the edges of the frame, combined by pixel-wise maximum. Training
sequences are made of training digits, test sequences of test digits, each from its own default
seed (``TRAIN_SEED``, ``TEST_SEED``), so every run makes the same sequences.

Clips are ``.npy``/``.npz`` arrays, folders of frames (or of such folders) and animated GIFs,
read by ``load_clips``. ``load_video`` reads either, named by one string (``--data``), as a
``Dataset`` of integers in 0..K-1.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from autoreg.data.dataset import Dataset
from autoreg.data.images import IMAGE_SUFFIXES, load_images, quantise, read_image
from autoreg.errors import InputError
from autoreg.validation import check_count

log = logging.getLogger(__name__)

DIGIT_SIZE = 28  # MNIST digits are 28x28
STANDARD_SIZE = 64  # the standard frame: 64x64, digits at full size
STEP = 0.1  # distance per frame, as a fraction of the range a digit's corner moves over
TRAIN_SEED = 0  # default seed of the training sequences
TEST_SEED = 1  # default seed of the test sequences
CLIPS_KEY = "clips"  # the array of an .npz of several arrays that load_clips reads
ACCEPTED = "integers 0..255 (any integer dtype, or floats holding whole numbers)"
MOVING_MNIST = "moving_mnist"  # the source name: "moving_mnist" or "moving_mnist:MNIST_PATH"
MNIST_ENV = "AUTOREG_MNIST"  # names the MNIST of a bare "moving_mnist" source
MNIST_CANDIDATES = ("mnist.npz",)  # then these, from the working directory
STANDARD_NUM = 10_000  # sequences per split (the standard test set's size)
STANDARD_FRAMES = 20  # frames per sequence (10 seen, 10 predicted)


def digit_side(size: int) -> int:
    """The side of the digits in a ``size`` x ``size`` frame: 28 px from 64 px up, smaller
    frames keep the standard 28:64 ratio (``round(28 * size / 64)``: 14 px at 32).

    Args:
      size: the frame's side in pixels.

    Returns:
      The digits' side in pixels.

    Raises:
      InputError: ``size`` is under 8 pixels (digits of 3 px or less).

    Examples:
      >>> from autoreg.data.video import digit_side
      >>> digit_side(64), digit_side(100), digit_side(32)
      (28, 28, 14)
    """
    check_count(size, "size")
    if size < 8:
        raise InputError(f"size must be at least 8 pixels, got {size}")
    return DIGIT_SIZE if size >= STANDARD_SIZE else round(DIGIT_SIZE * size / STANDARD_SIZE)


def bounce(position: np.ndarray, velocity: np.ndarray, frames: int) -> np.ndarray:
    """Positions of points that move at ``velocity`` and bounce inside [0, 1].

    Each frame adds ``STEP * velocity`` to the position; a coordinate that would leave [0, 1]
    stops at the edge and its velocity is reflected (the rule of Srivastava et al.).

    Args:
      position: (..., 2) starting (y, x) in [0, 1], a fraction of the free range.
      velocity: (..., 2) unit (y, x) directions.
      frames: number of frames.

    Returns:
      (frames, ..., 2) positions in [0, 1], the first after one step.

    Examples:
      >>> from autoreg.data.video import bounce
      >>> bounce(np.array([0.0, 0.95]), np.array([0.0, 1.0]), 3)[:, 1].round(2).tolist()
      [1.0, 0.9, 0.8]
    """
    position = np.array(position, np.float64)
    velocity = np.array(velocity, np.float64)
    path = np.empty((frames, *position.shape))
    for t in range(frames):
        position += STEP * velocity
        outside = (position < 0) | (position > 1)
        velocity[outside] = -velocity[outside]
        position = np.clip(position, 0, 1)
        path[t] = position
    return path


def _digit_array(digits: np.ndarray) -> np.ndarray:
    """``digits`` as (N, 28, 28) uint8, or an InputError saying what is accepted."""
    digits = np.asarray(digits)
    if digits.ndim == 4 and digits.shape[-1] == 1:
        digits = digits[..., 0]
    if digits.ndim != 3 or digits.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or not len(digits):
        raise InputError(f"digits must be (N, 28, 28) or (N, 28, 28, 1), got {digits.shape}")
    if digits.dtype != np.uint8:
        raise InputError(f"digits must be uint8, got dtype {digits.dtype}")
    return digits


def moving_mnist(
    digits: np.ndarray,
    num: int,
    *,
    frames: int = 20,
    size: int = 64,
    num_digits: int = 2,
    seed: int = 0,
) -> np.ndarray:
    """Moving MNIST sequences: digits that move in straight lines and bounce off the edges.

    Each sequence draws ``num_digits`` digits from ``digits`` (with replacement), a starting
    corner for each uniform over the frame, and a direction uniform over the circle; each frame
    moves every digit by ``STEP`` of its free range (3.6 px at 64x64) and reflects its velocity
    at the edges (``bounce``). Digits are combined by pixel-wise maximum. Frames under 64 px
    shrink the digits (PIL bilinear) to ``digit_side(size)``. The draws come from
    ``numpy.random.default_rng(seed)`` in a fixed order, sequence by sequence: the same seed gives
    the same sequences, and the first ``n`` sequences of a larger ``num`` are those of ``num=n``.

    Args:
      digits: (N, 28, 28) or (N, 28, 28, 1) uint8 digits.
      num: number of sequences.
      frames: frames per sequence (20 in the standard set: 10 seen, 10 predicted).
      size: the frames' side in pixels (at least 8).
      num_digits: digits per sequence.
      seed: seed of the draws.

    Returns:
      (num, frames, size, size, 1) uint8 sequences.

    Raises:
      InputError: bad digits (not uint8 28x28), or a count or size that is not positive (or a
        size under 8).

    Examples:
      >>> digits = np.full((4, 28, 28), 255, np.uint8)
      >>> video = autoreg.data.moving_mnist(digits, 3, frames=5, size=32, seed=0)
      >>> video.shape, video.dtype, int(video.max())
      ((3, 5, 32, 32, 1), dtype('uint8'), 255)
    """
    digits = _digit_array(digits)
    for value, name in ((num, "num"), (frames, "frames"), (num_digits, "num_digits")):
        check_count(value, name)
    side = digit_side(size)
    rng = np.random.default_rng(seed)
    chosen = np.empty((num, num_digits), np.int64)
    start = np.empty((num, num_digits, 2))  # (y, x), fractions of the free range
    theta = np.empty((num, num_digits))
    for n in range(num):  # sequence by sequence: the first n of a larger set are the same
        chosen[n] = rng.integers(0, len(digits), num_digits)
        start[n] = rng.uniform(0, 1, (num_digits, 2))
        theta[n] = rng.uniform(0, 2 * np.pi, num_digits)
    velocity = np.stack([np.sin(theta), np.cos(theta)], axis=-1)  # (num, num_digits, 2)
    corners = np.round(bounce(start, velocity, frames) * (size - side)).astype(int)
    used = np.unique(chosen)
    if side != DIGIT_SIZE:
        resized = [
            Image.fromarray(digits[i]).resize((side, side), Image.Resampling.BILINEAR) for i in used
        ]
        glyphs = dict(zip(used, (np.asarray(g) for g in resized), strict=True))
    else:
        glyphs = {i: digits[i] for i in used}
    video = np.zeros((num, frames, size, size), np.uint8)
    for n in range(num):
        for d in range(num_digits):
            glyph = glyphs[chosen[n, d]]
            for t in range(frames):
                y, x = corners[t, n, d]
                box = video[n, t, y : y + side, x : x + side]
                np.maximum(box, glyph, out=box)
    return video[..., None]


def load_moving_mnist(
    mnist_path,
    *,
    split: str = "train",
    num: int = 10_000,
    frames: int = 20,
    size: int = 64,
    num_digits: int = 2,
    seed: int | None = None,
) -> Dataset:
    """Moving MNIST made of the ``split``'s digits of an MNIST source, as a ``Dataset``.

    Training sequences use the training digits and seed ``TRAIN_SEED`` (0), test sequences the
    test digits and seed ``TEST_SEED`` (1), unless ``seed`` is given.

    Args:
      mnist_path: an MNIST image source of ``autoreg.data.load_images`` (``mnist.npz``, IDX
        files) with 28x28 grayscale digits.
      split: ``"train"`` or ``"test"``.
      num: number of sequences (10,000 in the standard test set).
      frames: frames per sequence.
      size: the frames' side in pixels.
      num_digits: digits per sequence.
      seed: seed of the draws (default: by ``split``, see above).

    Returns:
      A ``Dataset`` of (num, frames, size, size, 1) uint8 examples, 256 levels, no labels.

    Raises:
      MissingSplit: the source has no ``split``.
      InputError: digits that are not 28x28 grayscale, or as for ``moving_mnist``.

    Examples:
      >>> digits = np.full((6, 28, 28), 255, np.uint8)
      >>> np.savez("digits.npz", x_train=digits[:4], x_test=digits[4:])
      >>> test_set = autoreg.data.load_moving_mnist("digits.npz", split="test", num=2, frames=3)
      >>> test_set.examples.shape, test_set.levels, test_set.source
      ((2, 3, 64, 64, 1), 256, 'moving_mnist:digits.npz:test')
    """
    digits = load_images(mnist_path, split=split).examples  # (N, H, W, C), split checked
    if seed is None:
        seed = TRAIN_SEED if split == "train" else TEST_SEED
    video = moving_mnist(digits, num, frames=frames, size=size, num_digits=num_digits, seed=seed)
    return Dataset(video, None, 256, f"moving_mnist:{mnist_path}:{split}")


def _check_clips(clips: np.ndarray, source) -> np.ndarray:
    """(N, T, H, W[, C]) clips as (N, T, H, W, C) uint8, or an InputError naming ``source``."""
    if clips.ndim == 4:
        clips = clips[..., None]
    if clips.ndim != 5 or clips.shape[-1] not in (1, 3):
        raise InputError(
            f"{source}: expected clips (N, T, H, W) or (N, T, H, W, 1|3), got shape {clips.shape}"
        )
    if 0 in clips.shape[:4]:
        raise InputError(f"{source}: no frames (shape {clips.shape})")
    if clips.dtype == np.bool_ or not np.issubdtype(clips.dtype, np.number):
        raise InputError(f"{source}: dtype {clips.dtype}; accepted: {ACCEPTED}")
    whole = np.issubdtype(clips.dtype, np.integer) or bool(
        np.all(np.isfinite(clips) & (clips == np.round(clips)))
    )
    if not whole:
        raise InputError(f"{source}: holds non-integer values; accepted: {ACCEPTED}")
    if clips.min() < 0 or clips.max() > 255:
        raise InputError(
            f"{source}: values in {clips.min():g}..{clips.max():g}; accepted: {ACCEPTED}"
        )
    return clips.astype(np.uint8)


def _read_array(path: Path) -> np.ndarray:
    """The clips array of an .npy, or of an .npz (``CLIPS_KEY``, or its only array)."""
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False)
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            if CLIPS_KEY not in keys and len(keys) != 1:
                raise InputError(
                    f"{path}: expected a {CLIPS_KEY!r} array or exactly one array "
                    f"(keys: {', '.join(keys) or 'none'})"
                )
            return archive[CLIPS_KEY if CLIPS_KEY in keys else keys[0]]
    except (OSError, EOFError) as error:
        raise InputError(f"{path}: not a readable array file ({error})") from None
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise
        raise InputError(f"{path}: holds object (pickled) arrays, which are never loaded") from None


def _same_shapes(arrays: list, names: list, what: str) -> np.ndarray:
    """``arrays`` stacked, or an InputError naming the first of ``names`` of another shape."""
    for array, name in zip(arrays, names, strict=True):
        if array.shape != arrays[0].shape:
            raise InputError(
                f"{name}: {what} of shape {array.shape}, unlike {names[0]} {arrays[0].shape} "
                f"(all {what}s of a clip set must have one size)"
            )
    return np.stack(arrays)


def _read_frames(folder: Path) -> np.ndarray:
    """The (T, H, W, C) frames of a folder of PNG/JPEG files, in sorted name order."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"{folder}: no frames (no PNG/JPEG files)")
    return _same_shapes([read_image(f) for f in files], files, "frame")


def _read_gif(path: Path) -> np.ndarray:
    """The (T, H, W, C) frames of an animated GIF: C = 1 when every frame is gray, else 3.
    An image over PIL's pixel limit (a possible decompression bomb) is refused, as by
    ``read_image``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                frames = np.stack(
                    [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(image)]
                )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(
            f"{path}: more than the {Image.MAX_IMAGE_PIXELS} pixels an image may have "
            "(a possible decompression bomb)"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise InputError(f"{path}: not a readable GIF ({error})") from None
    gray = np.all(frames == frames[..., :1])
    return frames[..., :1] if gray else frames


def load_clips(path) -> np.ndarray:
    """The user's video clips as uint8 (N, T, H, W, C), C = 1 (gray) or 3 (RGB).

    Accepted: an ``.npy`` array (N, T, H, W[, C]); an ``.npz`` with such an array under the key
    ``"clips"`` or as its only array (nothing pickled is loaded); a folder of PNG/JPEG frames
    in sorted name order (one clip; any subfolders are ignored); a folder of folders of frames
    and no frames (one clip each, in sorted order); an animated GIF (one clip, gray when every
    frame is). Values must be integers 0..255: any integer dtype, or floats holding whole
    numbers; bools are refused.

    Args:
      path: the file or folder.

    Returns:
      (N, T, H, W, C) uint8 clips.

    Raises:
      InputError: one line naming the file: no such file, an unsupported kind, the wrong rank,
        no frames, frames or clips of different sizes, a bad dtype or values outside 0..255.

    Examples:
      >>> np.save("clips.npy", np.zeros((2, 3, 8, 8), np.uint8))
      >>> autoreg.data.load_clips("clips.npy").shape
      (2, 3, 8, 8, 1)
    """
    path = Path(path)
    if path.is_dir():
        folders = sorted(p for p in path.iterdir() if p.is_dir())
        if folders and not any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
            clips = _same_shapes([_read_frames(f) for f in folders], folders, "clip")
        else:
            clips = _read_frames(path)[None]
    elif not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    elif path.suffix.lower() in (".npy", ".npz"):
        clips = _read_array(path)
    elif path.suffix.lower() == ".gif":
        clips = _read_gif(path)[None]
    else:
        raise InputError(
            f"{path}: unsupported clips (use .npy, .npz, .gif or a folder of PNG/JPEG frames)"
        )
    return _check_clips(clips, path)


def find_mnist() -> str:
    """The MNIST of a bare ``"moving_mnist"`` source: ``$AUTOREG_MNIST``, else the first of
    ``MNIST_CANDIDATES`` (relative to the working directory) that exists.

    Returns:
      The path, as a string.

    Raises:
      InputError: ``$AUTOREG_MNIST`` names no file, or none of the candidates exists.
    """
    named = os.environ.get(MNIST_ENV)
    if named:
        if not Path(named).exists():
            raise InputError(f"{MNIST_ENV}={named}: no such file")
        return named
    for candidate in MNIST_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    raise InputError(
        f"moving_mnist: no MNIST found (looked for {MNIST_ENV} and {', '.join(MNIST_CANDIDATES)}); "
        "name it as moving_mnist:PATH/mnist.npz"
    )


def moving_mnist_path(source) -> str | None:
    """The MNIST that a Moving MNIST source name is made of, or None for any other source.

    Args:
      source: ``"moving_mnist"`` (MNIST found by ``find_mnist``), ``"moving_mnist:PATH"`` (an
        MNIST source of ``load_images``), or anything else (a clip file or folder).

    Returns:
      The MNIST path, or None when ``source`` is not Moving MNIST.

    Raises:
      InputError: ``"moving_mnist:"`` with no path, or no MNIST found (``find_mnist``).

    Examples:
      >>> from autoreg.data.video import moving_mnist_path
      >>> moving_mnist_path("moving_mnist:digits.npz"), moving_mnist_path("clips.npy")
      ('digits.npz', None)
    """
    if not isinstance(source, str):
        return None
    name, colon, path = source.partition(":")
    if name != MOVING_MNIST:
        return None
    if colon and not path:
        raise InputError(f"{source!r}: name the MNIST after the colon (moving_mnist:PATH)")
    return path or find_mnist()


def load_video(
    source,
    *,
    split: str = "train",
    levels: int = 256,
    num: int | None = None,
    frames: int | None = None,
    frame_size: int | None = None,
    num_digits: int | None = None,
) -> Dataset:
    """One split of video as a ``Dataset`` of (N, T, H, W, C) integers in 0..K-1.

    Moving MNIST (``"moving_mnist"`` or ``"moving_mnist:PATH"``, see ``moving_mnist_path``)
    gives the split's standard sequences (``load_moving_mnist``), binned to ``levels``. Any
    other source is a set of clips read by ``load_clips``: one set, so it is both the training
    split and its own test split (with a warning on the ``autoreg`` logger for ``"test"``), as
    an image source of one array is.

    Args:
      source: ``"moving_mnist[:PATH]"``, or a clip file or folder of ``load_clips``.
      split: ``"train"`` or ``"test"``.
      levels: K; 8-bit values are binned to K levels (``quantise``).
      num: Moving MNIST: sequences (default 10,000, the first ``num`` of the standard set);
        clips: the first ``num`` clips (default all).
      frames: Moving MNIST: frames per sequence (default 20).
      frame_size: Moving MNIST: the frames' side in pixels (default 64).
      num_digits: Moving MNIST: digits per sequence (default 2).

    Returns:
      A ``Dataset`` of (N, T, H, W, C) uint8 examples in 0..K-1, no labels.

    Raises:
      InputError: ``frames``, ``frame_size`` or ``num_digits`` for clips (a Moving MNIST
        option), a bad count, or bad data (see ``load_clips``, ``load_moving_mnist``).

    Examples:
      >>> np.save("clips.npy", np.full((3, 2, 4, 4), 255, np.uint8))
      >>> clips = autoreg.data.load("clips.npy", kind="video", levels=4, num=2)
      >>> clips.examples.shape, int(clips.examples.max()), clips.source
      ((2, 2, 4, 4, 1), 3, 'clips.npy')
    """
    if num is not None:
        check_count(num, "num")
    mnist = moving_mnist_path(source)
    if mnist is None:
        options = (("frames", frames), ("frame_size", frame_size), ("num_digits", num_digits))
        given = [name for name, value in options if value is not None]
        if given:
            raise InputError(f"{', '.join(given)}: options of moving_mnist, not of clips {source}")
        clips = load_clips(source)[:num]
        if split == "test":
            log.warning(
                "%s has no test split: its test split is the training clips (its bits/dim "
                "measure the fit, not generalisation)",
                source,
            )
        return Dataset(quantise(clips, levels), None, levels, str(source))
    dataset = load_moving_mnist(
        mnist,
        split=split,
        num=STANDARD_NUM if num is None else num,
        frames=STANDARD_FRAMES if frames is None else frames,
        size=STANDARD_SIZE if frame_size is None else frame_size,
        num_digits=2 if num_digits is None else num_digits,
    )
    return Dataset(quantise(dataset.examples, levels), None, levels, dataset.source)
