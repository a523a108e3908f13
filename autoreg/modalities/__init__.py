"""Kinds of data as objects of the contract: ``IMAGE``, ``AUDIO`` and ``VIDEO``.

Each ``Modality`` (``autoreg.modalities.base``) owns what depends on the kind of data: its
axes, the shape rule of a batch, its data sources and their typed options (``ImageOptions``,
``AudioOptions``, ``VideoOptions``), how a batch is described, how samples are written (a PNG
grid, WAV files, a GIF) and which options of the ``autoreg`` command are its own. A model
names its modality (``model.modality``); nothing outside these modules branches on the kind.

Examples:
  >>> from autoreg.modalities import IMAGE, modality
  >>> modality("image") is IMAGE, IMAGE.axes
  (True, ('height', 'width', 'channels'))
  >>> IMAGE.options(levels=4, window=800)  # doctest: +ELLIPSIS
  Traceback (most recent call last):
  ...
  autoreg.errors.InputTypeError: window is not an option of image sources (they take levels, ...)
"""

from autoreg.modalities.audio import AUDIO, AudioOptions
from autoreg.modalities.base import Modality, Options
from autoreg.modalities.image import IMAGE, ImageOptions
from autoreg.modalities.video import VIDEO, VideoOptions
from autoreg.rules import one_of

__all__ = [
    "AUDIO",
    "IMAGE",
    "MODALITIES",
    "VIDEO",
    "AudioOptions",
    "ImageOptions",
    "Modality",
    "Options",
    "VideoOptions",
    "modality",
]

MODALITIES: dict[str, Modality] = {m.name: m for m in (IMAGE, AUDIO, VIDEO)}


def modality(name: str) -> Modality:
    """The modality called ``name`` (``"image"``, ``"audio"`` or ``"video"``).

    Raises:
      InputError: no modality of that name.
    """
    one_of(tuple(MODALITIES)).check(name, "kind")
    return MODALITIES[name]
