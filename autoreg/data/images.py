"""Image datasets from .npz files, image folders, gzip'd IDX files and tensorflow-datasets.

Every loader returns a ``Dataset`` of integer images ``(N, H, W, C)`` in ``0..K-1``.
"""

from __future__ import annotations

import gzip
import logging
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from autoreg.data.dataset import SPLIT, SPLITS, Dataset
from autoreg.errors import InputError
from autoreg.rules import one_of
from autoreg.validation import check_count

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# "threshold": 1 where x >= 128 (an easy set: its likelihoods compare with nothing published).
# "stochastic": 1 with probability x / 255, drawn once per split with a fixed seed, as
# Salakhutdinov & Murray (2008) made the binarized MNIST that the PixelRNN paper reports on.
BINARIZATIONS = ("threshold", "stochastic")
STOCHASTIC_SEED = 2008  # numpy default_rng([2008, split index]) draws the stochastic binarization
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # PIL's 16-bit grayscale modes


class MissingSplit(InputError):
    """A data source has no examples for the split asked for (no test split, or an empty one).

    An ``InputError`` (a ``ValueError``). ``load_pair`` catches it for the test split, which it
    then leaves out.

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 256, (8, 4, 4), dtype=np.uint8)
      >>> np.savez("train_only.npz", x_train=images)
      >>> autoreg.data.load("train_only.npz", split="test")
      Traceback (most recent call last):
      ...
      autoreg.data.images.MissingSplit: train_only.npz has no split 'test' (splits: train)
    """


def binarize_images(images: np.ndarray, how: str, split: str = "train") -> np.ndarray:
    """uint8 intensities 0..255 -> 0/1 by ``how`` (one of ``BINARIZATIONS``).

    The stochastic draw depends only on the split and the images' shape and order, so the same
    split of the same data binarizes to the same images in every run.
    """
    one_of(BINARIZATIONS).check(how, "binarize")
    if how == "threshold":
        return (images >= 128).astype(np.uint8)
    rng = np.random.default_rng([STOCHASTIC_SEED, SPLITS.index(split)])
    return (rng.random(images.shape) < images / 255.0).astype(np.uint8)


def quantise(
    images: np.ndarray, levels: int = 256, *, binarize: bool | str = False, split: str = "train"
) -> np.ndarray:
    """uint8 intensities 0..255 -> integers 0..K-1.

    Args:
      images: integer array with values in 0..255.
      levels: K. 256 keeps the values; smaller K bins them uniformly.
      binarize: False, or K = 2 by ``"threshold"`` (also ``True``) or ``"stochastic"`` (see
        ``BINARIZATIONS``).
      split: the split the images are (seeds the stochastic binarization).

    Returns:
      uint8 integers in 0..K-1 (0..1 with ``binarize``), of the shape of ``images``.

    Raises:
      InputError: images that are not integers in 0..255, ``levels`` outside 2..256, or an
        unknown binarization.

    Examples:
      >>> from autoreg.data import quantise
      >>> quantise(np.array([0, 63, 64, 128, 255]), levels=4)
      array([0, 0, 1, 2, 3], dtype=uint8)
      >>> quantise(np.array([0, 127, 128, 255]), binarize=True)  # "threshold" at 128
      array([0, 0, 1, 1], dtype=uint8)
    """
    images = np.asarray(images)
    if images.dtype == np.bool_ or not np.issubdtype(images.dtype, np.integer):
        raise InputError(f"images must be 8-bit integers 0..255, got dtype {images.dtype}")
    if images.size and (images.min() < 0 or images.max() > 255):
        raise InputError(f"image values must be in 0..255, got {images.min()}..{images.max()}")
    if binarize:
        return binarize_images(images, "threshold" if binarize is True else binarize, split)
    if not 2 <= levels <= 256:
        raise InputError(f"levels must be in 2..256, got {levels}")
    return (images.astype(np.int32) * levels // 256).astype(np.uint8)


def _with_channels(images: np.ndarray, source: str) -> np.ndarray:
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise InputError(
            f"{source}: expected images (N, H, W) or (N, H, W, 1|3), got {images.shape}"
        )
    return images


def load_npz(path: Path, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Images and labels of ``split`` from an .npz (``x_train``/``y_train`` keys or one array).

    Nothing pickled is ever loaded: an archive of object arrays is refused like a damaged one.
    """
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a .npz file (not a zip archive of NumPy arrays)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            images, labels = _npz_split(path, archive, split)
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(f"{path}: not a readable .npz file ({error})") from None
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise
        raise InputError(f"{path}: holds object (pickled) arrays, which are never loaded") from None
    return _with_channels(images, str(path)), _integer_labels(labels, f"{path}: y_{split}")


def _integer_labels(labels: np.ndarray | None, what: str) -> np.ndarray | None:
    """``labels`` as int32, or an InputError naming ``what`` when some are not whole numbers."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.number):
        raise InputError(f"{what} holds non-integer labels (dtype {labels.dtype})")
    if not np.issubdtype(labels.dtype, np.integer):
        bad = labels[~(np.isfinite(labels) & (labels == np.round(labels)))]
        if bad.size:
            raise InputError(f"{what} holds non-integer labels ({bad.flat[0]:g})")
    if labels.size and (labels.min() < np.iinfo(np.int32).min or labels.max() > 2**31 - 1):
        raise InputError(f"{what} holds labels out of the int32 range ({labels.max()})")
    return labels.astype(np.int32)


def _npz_split(path: Path, archive, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The images and labels (or None) of ``split`` read from an open .npz ``archive``."""
    keys = list(archive.keys())
    if f"x_{split}" in keys:
        labels = archive[f"y_{split}"] if f"y_{split}" in keys else None
        return archive[f"x_{split}"], labels
    if any(k.startswith("x_") for k in keys):
        present = ", ".join(k[2:] for k in keys if k.startswith("x_"))
        raise MissingSplit(f"{path} has no split {split!r} (splits: {present})")
    arrays = [k for k in keys if archive[k].ndim >= 3]
    if len(arrays) != 1:
        raise InputError(
            f"{path}: no image array found (expected x_train/x_test keys or exactly one "
            f"array of images; keys: {', '.join(keys) or 'none'})"
        )
    if split == "test":
        warn_own_test_split(path)
    return archive[arrays[0]], None


def warn_own_test_split(source) -> None:
    """Warn that ``source`` has one set of examples, used as its test split too."""
    log.warning(
        "%s has no test split: its test split is the training data (its bits/dim measure the "
        "fit, not generalisation)",
        source,
    )


def read_image(path) -> np.ndarray:
    """One PNG/JPEG file as uint8 (H, W, 1) grayscale or (H, W, 3) RGB.

    The one function that reads image files: 16-bit grayscale is scaled to 8 bits (the high
    byte), and an image over PIL's pixel limit (``Image.MAX_IMAGE_PIXELS``, a possible
    decompression bomb) is refused before it is decoded.

    Raises:
      InputError: a missing or unreadable file, or one with too many pixels (the message names
        the file and its size).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                array = _eight_bit(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        width, height = _image_size(path)
        raise InputError(
            f"{path}: {width}x{height} pixels, more than the {Image.MAX_IMAGE_PIXELS} an image "
            "may have (a possible decompression bomb)"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise InputError(f"{path}: not a readable image ({error})") from None
    return array[..., None] if array.ndim == 2 else array


def _eight_bit(image: Image.Image) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 pixels of an open PIL image; 16-bit values keep their high
    byte (value >> 8), as 8-bit data would have them."""
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)  # (H, W)
        return (np.clip(values, 0, 65535) >> 8).astype(np.uint8)
    return np.asarray(image.convert("L" if image.mode in ("1", "L", "LA") else "RGB"))


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the header of an image that PIL refuses to open for its size."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # read the header only; nothing is decoded
    try:
        with Image.open(path) as image:
            return image.size
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def resize_image(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Resize (bilinear) and convert (grayscale <-> RGB) a uint8 image to ``shape`` (H, W, C)."""
    height, width, channels = shape
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    picture = picture.convert("L" if channels == 1 else "RGB")
    array = np.asarray(picture.resize((width, height), Image.Resampling.BILINEAR))
    return array[..., None] if array.ndim == 2 else array


def load_image_files(
    files: list, split: str, patch_size: int | None, num_patches: int, seed: int, source: str
) -> np.ndarray:
    """Images of one size, or patches cut from (large) images of any size.

    With ``patch_size``, the split is made inside each image so that no pixel is in both:
    ``"train"`` cuts ``num_patches`` random patches from the top 80% of the rows, ``"test"``
    cuts the non-overlapping grid of patches of the bottom 20%. Without it the files are one
    set of examples, used for the ``"train"`` split (a ``"test"`` split needs a ``test/`` folder).
    """
    if not files:
        raise InputError(f"{source}: no PNG or JPEG images")
    images = [read_image(f) for f in files]
    if len({im.shape[-1] for im in images}) > 1:
        raise InputError(f"{source}: mixed grayscale and RGB images; convert them to one mode")
    if patch_size is not None:
        return split_patches(images, split, patch_size, num_patches, seed, source)
    if split == "test":
        raise MissingSplit(f"{source}: no test split (put test images in a test/ folder)")
    sizes = {im.shape for im in images}
    if len(sizes) > 1:
        shown = ", ".join(f"{h}x{w}" for h, w, _ in sorted(sizes)[:4])
        raise InputError(
            f"{source}: images of mixed sizes ({shown}); resize them or cut patches (--patch-size)"
        )
    return np.stack(images)


TRAIN_ROWS = 0.8  # fraction of each large image's rows that training patches come from


def split_patches(
    images: list, split: str, patch_size: int, num_patches: int, seed: int, source: str
) -> np.ndarray:
    """Train: random patches of the top rows; test: the patch grid of the bottom rows."""
    cut = [round(im.shape[0] * TRAIN_ROWS) for im in images]
    if split == "train":
        return random_patches(
            [im[:c] for im, c in zip(images, cut, strict=True)],
            patch_size,
            num_patches,
            seed,
            source,
        )
    bottoms = [im[c:] for im, c in zip(images, cut, strict=True)]
    patches = [
        im[y : y + patch_size, x : x + patch_size]
        for im in bottoms
        for y in range(0, im.shape[0] - patch_size + 1, patch_size)
        for x in range(0, im.shape[1] - patch_size + 1, patch_size)
    ]
    if not patches:
        raise InputError(f"{source}: images too small for {patch_size}px test patches")
    return np.stack(patches)


def random_patches(
    images: list, patch_size: int, num_patches: int, seed: int, source: str
) -> np.ndarray:
    """``num_patches`` random ``patch_size`` squares cut from the given images (uniform over
    images, then over positions)."""
    if patch_size < 1 or num_patches < 1:
        raise InputError("patch size and number of patches must be positive")
    usable = [im for im in images if min(im.shape[:2]) >= patch_size]
    if not usable:
        raise InputError(f"{source}: every image is smaller than the {patch_size}px patch size")
    rng = np.random.default_rng(seed)
    patches = []
    for index in rng.integers(0, len(usable), size=num_patches):
        image = usable[index]
        y = rng.integers(0, image.shape[0] - patch_size + 1)
        x = rng.integers(0, image.shape[1] - patch_size + 1)
        patches.append(image[y : y + patch_size, x : x + patch_size])
    return np.stack(patches)


def read_idx(path: Path) -> np.ndarray:
    """An IDX array (the MNIST file format), gzip'd or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise InputError(f"{path}: not a readable IDX file ({error})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise InputError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", count=ndim, offset=4).astype(int)
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != np.prod(dims):
        raise InputError(f"{path}: truncated IDX file")
    return body.reshape(dims)


def load_idx(path: Path, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """An IDX image file, or a folder holding MNIST-named IDX files for each split."""
    if path.is_dir():
        prefix = "train" if split == "train" else "t10k"
        found = sorted(path.glob(f"{prefix}-images*idx3*"))
        if not found:
            raise MissingSplit(
                f"{path}: no {prefix}-images-idx3-ubyte[.gz] file for split {split!r}"
            )
        labels_found = sorted(path.glob(f"{prefix}-labels*idx1*"))
        labels = (
            _integer_labels(read_idx(labels_found[0]), str(labels_found[0]))
            if labels_found
            else None
        )
        return _with_channels(read_idx(found[0]), str(found[0])), labels
    if split == "test":
        warn_own_test_split(path)
    return _with_channels(read_idx(path), str(path)), None


def tfds_data_dir() -> Path:
    """Where tensorflow-datasets keeps prepared data ($TFDS_DATA_DIR or ~/tensorflow_datasets)."""
    return Path(os.environ.get("TFDS_DATA_DIR", Path.home() / "tensorflow_datasets"))


def load_tfds(name: str, split: str, download: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A tensorflow-datasets image dataset, read with ``tfds.data_source`` (no TensorFlow graph).

    Never downloads unless ``download``. Without it, data that is not prepared locally fails at
    once, before tfds is asked anything (a plain ``tfds.load`` offline retries its cloud storage
    for minutes).
    """
    base_name = name.split("/")[0].split(":")[0]
    prepared = any((tfds_data_dir() / base_name).glob("**/dataset_info.json"))
    if not prepared and not download:
        raise InputError(
            f"tfds:{name} is not prepared in {tfds_data_dir()}; pass --download to fetch it "
            "(needs internet)"
        )
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise InputError(
            "tfds: datasets need the optional extra: pip install 'autoreg[tfds]'"
        ) from None
    try:
        source = tfds.data_source(name, split=split, download=download, try_gcs=False)
    except Exception as error:  # tfds raises many types (DatasetNotFoundError, ...)
        raise InputError(f"tfds:{name}: {str(error).splitlines()[0]}") from None
    examples = [source[i] for i in range(len(source))]
    if not examples:
        raise MissingSplit(f"tfds:{name}: split {split!r} is empty")
    images = np.stack([np.asarray(e["image"]) for e in examples])
    labels = np.array([e["label"] for e in examples], np.int32) if "label" in examples[0] else None
    return _with_channels(images, f"tfds:{name}"), labels


def load_images(
    spec: str | os.PathLike,
    *,
    split: str = "train",
    levels: int = 256,
    binarize: bool | str = False,
    patch_size: int | None = None,
    num_patches: int = 10_000,
    seed: int = 0,
    download: bool = False,
) -> Dataset:
    """Load an image dataset named by one string.

    Args:
      spec: a ``.npz`` file (MNIST-style ``x_train``/``x_test`` keys, or one image array), a
        folder of PNG/JPEG images (``train/`` and ``test/`` subfolders used if present), one
        image file or a comma-separated list of them, a gzip'd IDX file or a folder of MNIST
        IDX files, or ``tfds:NAME``.
      split: ``"train"`` or ``"test"``.
      levels: K; 8-bit values are binned to K levels.
      binarize: False, or K = 2 by ``"threshold"`` (also ``True``: at 128) or
        ``"stochastic"`` (each pixel 1 with probability x / 255, a fixed draw per split).
      patch_size: cut square patches of this size from (large) images: random ones from the
        top 80% of each image's rows for ``"train"``, the grid of the bottom 20% for ``"test"``.
      num_patches: how many patches to cut.
      seed: seed of the patch positions.
      download: let tensorflow-datasets download (never otherwise).

    Returns:
      A ``Dataset`` with images ``(N, H, W, C)`` in ``0..K-1`` (K = 2 if ``binarize``).

    A source with one set of examples (one array, one IDX file) is its own test split, with a
    warning (``logging.getLogger("autoreg.data.images")``) that says so.

    Raises:
      MissingSplit: the source has no ``split``, or it is empty.
      InputError: missing or unreadable files, no images, mixed sizes, float or out-of-range data
        or labels, a patch size that is not a positive integer.

    Examples:
      >>> images = np.random.default_rng(0).integers(0, 256, (12, 4, 4), dtype=np.uint8)
      >>> np.savez("digits.npz", x_train=images[:8], x_test=images[8:])
      >>> dataset = autoreg.data.load_images("digits.npz", split="test", binarize=True)
      >>> dataset.examples.shape, dataset.levels, dataset.labels
      ((4, 4, 4, 1), 2, None)
    """
    spec = str(spec)
    SPLIT.check(split, "split")
    if patch_size is not None:
        check_count(patch_size, "patch_size")
    images, labels = read_split(spec, split, patch_size, num_patches, seed, download)
    if len(images) == 0:
        raise MissingSplit(f"{spec}: the {split} split is empty")
    if labels is not None and len(labels) != len(images):
        raise InputError(f"{spec}: {len(labels)} labels for {len(images)} images ({split} split)")
    images = quantise(images, levels, binarize=binarize, split=split)
    return Dataset(images, labels, 2 if binarize else levels, spec)


def read_split(
    spec: str, split: str, patch_size: int | None, num_patches: int, seed: int, download: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """The raw images (N, H, W, C) and labels (N,) or None of one split of ``spec`` (see
    ``load_images``), read by the loader that the kind of source calls for. Patches are cut
    from image files and folders only; a ``patch_size`` for another source is an error."""
    files = [Path(part) for part in spec.split(",")] if "," in spec else None
    path = Path(spec)
    if not spec.startswith("tfds:") and files is None and not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if files is not None or path.suffix.lower() in IMAGE_SUFFIXES:
        files = files or [path]
        return load_image_files(files, split, patch_size, num_patches, seed, spec), None
    folder = path.is_dir() and not any(path.glob("*idx3*"))
    if folder:
        return load_image_folder(path, split, patch_size, num_patches, seed), None
    if patch_size is not None:
        raise InputError(f"{spec}: patch_size cuts patches from image files or folders only")
    if spec.startswith("tfds:"):
        return load_tfds(spec[5:], split, download)
    if path.suffix == ".npz":
        return load_npz(path, split)
    if path.is_dir() or "idx" in path.name:
        return load_idx(path, split)
    raise InputError(f"{path}: unsupported data (use .npz, an image folder, IDX or tfds:)")


def load_image_folder(
    path: Path, split: str, patch_size: int | None, num_patches: int, seed: int
) -> np.ndarray:
    """The (N, H, W, C) images of a folder's ``split`` subfolder, or of the folder itself when
    it has none (then split into train and test only by patches, see ``load_image_files``)."""
    folder = path / split if (path / split).is_dir() else path
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    # A split subfolder is all of that split: its files are one set of examples.
    within = "train" if folder != path else split
    return load_image_files(files, within, patch_size, num_patches, seed, str(folder))
