"""The models a demo page serves: the shipped ones or given checkpoints, loaded on first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

SHIPPED_IMAGE_MODELS = ("pixelcnn", "gated_pixelcnn", "row_lstm", "pixelsnail")
SHIPPED_VOCODER = "wavenet_vocoder"


class DemoModels:
    """Image models by name and at most one vocoder, each loaded the first time it is used.

    Args:
      images: name -> function returning the image model (called once, then cached).
      vocoder: function returning the mel-conditioned WaveNet, or None for no Vocoder tab work.
    """

    def __init__(self, images: dict[str, Callable], vocoder: Callable | None = None):
        self._loaders = dict(images)
        self._vocoder = vocoder
        self._loaded: dict = {}

    @property
    def image_names(self) -> list[str]:
        """The image models' names, in the order the page lists them."""
        return list(self._loaders)

    def image(self, name: str):
        """The image model called ``name``.

        Raises:
          ValueError: no image model of that name.
        """
        if name not in self._loaders:
            raise ValueError(f"no image model {name!r}; the page has {self.image_names}")
        if name not in self._loaded:
            self._loaded[name] = self._loaders[name]()
        return self._loaded[name]

    def vocoder(self):
        """The vocoder (a mel-conditioned WaveNet).

        Raises:
          ValueError: the page was started without one.
        """
        if self._vocoder is None:
            raise ValueError("this page has no vocoder: start it with a vocoder checkpoint")
        if "vocoder" not in self._loaded:
            self._loaded["vocoder"] = self._vocoder()
        return self._loaded["vocoder"]

    @classmethod
    def shipped(cls) -> DemoModels:
        """The pretrained models in ``autoreg/assets`` (28x28 MNIST models and the vocoder)."""
        from autoreg.pretrained import load_pretrained

        images = {name: (lambda n=name: load_pretrained(n)) for name in SHIPPED_IMAGE_MODELS}
        return cls(images, lambda: load_pretrained(SHIPPED_VOCODER))

    @classmethod
    def from_checkpoints(cls, paths) -> DemoModels:
        """The models saved at ``paths`` (checkpoints or training work directories), loaded now
        so that a bad path is reported before the page starts.

        Image models are named ``<folder> (<family>)``; a mel-conditioned WaveNet becomes the
        vocoder (at most one).

        Raises:
          ValueError: an unreadable checkpoint, a video model, an audio model that is not a
            vocoder, or two vocoders.
        """
        from autoreg.checkpoint import load_checkpoint

        images, vocoder = {}, None
        for path in paths:
            model = load_checkpoint(path)
            if model.kind == "video":
                raise ValueError(f"{path} holds a video model; the page shows image and audio")
            if model.fixed_shape:
                images[f"{Path(path).name} ({model.name})"] = lambda m=model: m
            elif getattr(model.config, "mel", None) is None:
                raise ValueError(f"{path} holds a {model.name} that is not a mel vocoder")
            elif vocoder is not None:
                raise ValueError(f"{path}: the page takes one vocoder checkpoint")
            else:
                vocoder = lambda m=model: m  # noqa: E731
        return cls(images, vocoder)
