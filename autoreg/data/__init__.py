"""Datasets: one entry point, ``load``, for images, audio and video (``autoreg.data.sources``).

Every source is named by one string (the CLI's ``--data``): a ``.npz`` file, a folder of
PNG/JPEG images, gzip'd IDX files, ``tfds:NAME`` (optional extra), audio files and folders
(``kind="audio"``), or video (``kind="video"``): ``moving_mnist[:PATH_TO_MNIST]`` or clips
(``autoreg.data.video``: ``load_video``, ``load_moving_mnist``, ``load_clips``). The kind names
a modality (``autoreg.modalities``), which reads the source with its own typed options. Each
split is a ``Dataset``: examples, class labels, local features.

Examples:
    >>> images = np.random.default_rng(0).integers(0, 256, (12, 28, 28), dtype=np.uint8)
    >>> np.savez("tiny_mnist.npz", x_train=images[:8], x_test=images[8:])
    >>> train_set = autoreg.data.load("tiny_mnist.npz", split="train")
    >>> train_set.examples.shape, train_set.levels
    ((8, 28, 28, 1), 256)
"""

from typing import TYPE_CHECKING

from autoreg.lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers and the API reference read; __getattr__ at run time
    from autoreg.data.dataset import Dataset
    from autoreg.data.images import MissingSplit, load_images, quantise
    from autoreg.data.sources import load, load_for_model, load_for_training, load_pair
    from autoreg.data.video import load_clips, load_moving_mnist, load_video, moving_mnist

__all__ = [
    "Dataset",
    "MissingSplit",
    "load",
    "load_clips",
    "load_for_model",
    "load_for_training",
    "load_images",
    "load_moving_mnist",
    "load_pair",
    "load_video",
    "moving_mnist",
    "quantise",
]

# The module each public name comes from (imported on first use: importing a module of this
# package, e.g. autoreg.data.images, runs none of the others).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Dataset": "autoreg.data.dataset",
        "MissingSplit": "autoreg.data.images",
        "load": "autoreg.data.sources",
        "load_clips": "autoreg.data.video",
        "load_for_model": "autoreg.data.sources",
        "load_for_training": "autoreg.data.sources",
        "load_images": "autoreg.data.images",
        "load_moving_mnist": "autoreg.data.video",
        "load_pair": "autoreg.data.sources",
        "load_video": "autoreg.data.video",
        "moving_mnist": "autoreg.data.video",
        "quantise": "autoreg.data.images",
    },
)
