"""Datasets: images (``autoreg.data.images``) and audio (``autoreg.data.audio``).

Every source is named by one string (the CLI's ``--data``): a ``.npz`` file, a directory of
PNG/JPEG images, gzip'd IDX files, or ``tfds:NAME`` (optional extra).
"""

from autoreg.data.dataset import Dataset
from autoreg.data.images import load_images, quantise

__all__ = ["Dataset", "load_images", "quantise"]
