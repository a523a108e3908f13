"""The models a demo page serves: the shipped ones or given checkpoints, loaded on first use,
compiled and measured when the page warms up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from autoreg.errors import InputError
from autoreg.modalities import AUDIO, IMAGE

SHIPPED_IMAGE_MODELS = ("pixelcnn", "gated_pixelcnn", "row_lstm", "pixelsnail")
SHIPPED_VOCODER = "wavenet_vocoder"


class DemoModels:
    """Image models by name and at most one vocoder, each loaded the first time it is used.

    A model is warmed up (``warm_up``) by compiling what the page's default requests run and
    measuring what a completion costs (``completion_cost``), from which the Complete tab sets
    how many particles a request may use.

    Args:
      images: name -> function returning the image model (called once, then cached).
      vocoder: function returning the mel-conditioned WaveNet, or None for no Vocoder tab work.
      digits: the image models know MNIST digits only (the shipped ones): pictures that do
        not look like one get a note.
    """

    def __init__(
        self, images: dict[str, Callable], vocoder: Callable | None = None, *, digits=False
    ):
        self._loaders = dict(images)
        self._vocoder = vocoder
        self._loaded: dict = {}
        self.digits = digits
        self._costs: dict[str, float] = {}  # name -> seconds per chain and row of SMC
        self._locks = {name: threading.Lock() for name in self._loaders}

    @property
    def image_names(self) -> list[str]:
        """The image models' names, in the order the page lists them."""
        return list(self._loaders)

    def image(self, name: str):
        """The image model called ``name``.

        Raises:
          InputError: no image model of that name.
        """
        if name not in self._loaders:
            raise InputError(f"no image model {name!r}; the page has {self.image_names}")
        if name not in self._loaded:
            self._loaded[name] = self._loaders[name]()
        return self._loaded[name]

    def is_warm(self, name: str) -> bool:
        """Whether ``name`` has been compiled and measured (``warm_up``)."""
        return name in self._costs

    def completion_cost(self, name: str) -> float:
        """Seconds per chain and row of SMC completion with ``name``, measured on first use.

        Raises:
          InputError: no image model of that name.
        """
        if name not in self._costs:
            self.warm_up([name])
        return self._costs[name]

    def warm_up(self, names=None, report: Callable[[str], None] | None = None) -> None:
        """Load, compile and measure image models, so that the first request does not wait.

        Each model draws the Sample tab's default grid and completes the Complete tab's default
        request (``autoreg.demo.complete.measure_completion_cost``), which compiles both
        programs and measures the cost of a completion. A request for a model being warmed up
        waits for it.

        Args:
          names: the models (default: all image models, in the page's order).
          report: called with one line per model (e.g. ``print``).
        """
        from autoreg.demo.complete import measure_completion_cost
        from autoreg.demo.sample import DEFAULT_COUNT, sample_grid

        for name in names or self.image_names:
            with self._locks[name]:
                if name in self._costs:
                    continue
                start = time.perf_counter()
                model = self.image(name)
                sample_grid(model, count=DEFAULT_COUNT, label=0 if model.num_classes else None)
                self._costs[name] = measure_completion_cost(model)
                if report is not None:
                    report(f"warmed up {name} in {time.perf_counter() - start:.0f} s")

    def warm_up_in_background(self, report: Callable[[str], None] | None = None):
        """``warm_up`` of every image model in a daemon thread; returns the thread."""
        thread = threading.Thread(target=self.warm_up, args=(None, report), daemon=True)
        thread.start()
        return thread

    def vocoder(self):
        """The vocoder (a mel-conditioned WaveNet).

        Raises:
          InputError: the page was started without one.
        """
        if self._vocoder is None:
            raise InputError("this page has no vocoder: start it with a vocoder checkpoint")
        if "vocoder" not in self._loaded:
            self._loaded["vocoder"] = self._vocoder()
        return self._loaded["vocoder"]

    @classmethod
    def shipped(cls) -> DemoModels:
        """The pretrained models in ``autoreg/assets`` (28x28 MNIST models and the vocoder)."""
        from autoreg.pretrained import load_pretrained

        images = {name: (lambda n=name: load_pretrained(n)) for name in SHIPPED_IMAGE_MODELS}
        return cls(images, lambda: load_pretrained(SHIPPED_VOCODER), digits=True)

    @classmethod
    def from_checkpoints(cls, paths) -> DemoModels:
        """The models saved at ``paths`` (checkpoints or training work directories), loaded now
        so that a bad path is reported before the page starts.

        Image models are named ``<folder> (<family>)``; a mel-conditioned WaveNet becomes the
        vocoder (at most one).

        Raises:
          InputError: an unreadable checkpoint, a video model, an audio model that is not a
            vocoder, or two vocoders.
        """
        from autoreg.checkpoint import load_checkpoint

        images, vocoders = {}, []
        for path in paths:
            model = load_checkpoint(path)
            if model.modality is IMAGE:
                images[f"{Path(path).name} ({model.name})"] = lambda m=model: m
            elif model.modality is not AUDIO:
                raise InputError(
                    f"{path} holds a {model.modality.name} model; the page shows image and audio"
                )
            elif getattr(model.config, "mel", None) is None:
                raise InputError(f"{path} holds a {model.name} that is not a mel vocoder")
            elif vocoders:
                raise InputError(f"{path}: the page takes one vocoder checkpoint")
            else:
                vocoders.append(lambda m=model: m)
        vocoder = vocoders[0] if vocoders else None
        return cls(images, vocoder)
