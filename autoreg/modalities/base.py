"""What a kind of data is, as one object: its axes, its sources, its samples on disk.

A ``Modality`` owns everything that depends on the kind of data a model generates, so that
nothing else branches on it: the names of the axes of one example, the shape rule of a batch,
the typed options of its data sources and how they are read, how a batch is described in a
message, how samples are written (a PNG grid, WAV files, a GIF) and which options of the
``autoreg`` command belong to it. A model names its modality (``model.modality``); the CLI,
``autoreg.generate``, ``autoreg.validation``, evaluation and the demo ask it.

Adding a kind of data is one module with a ``Modality`` subclass and its options dataclass,
registered in ``autoreg.modalities.MODALITIES``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from autoreg.errors import InputError, InputTypeError

__all__ = ["Modality", "Options", "options_of"]


@dataclasses.dataclass(frozen=True)
class Options:
    """Options every data source takes: ``levels`` (K) and the ``seed`` of random cuts."""

    levels: int = 256
    seed: int = 0


def options_of(options_cls: type, what: str, fields: dict):
    """``options_cls(**fields)``, with an unknown field refused in one line.

    Args:
      options_cls: an options dataclass.
      what: what takes these options, e.g. ``"image sources"``.
      fields: the options given.

    Returns:
      The options object.

    Raises:
      InputTypeError: a field the dataclass does not have (naming it and those it has).
    """
    known = [field.name for field in dataclasses.fields(options_cls)]
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise InputTypeError(
            f"{', '.join(unknown)} {'is not an option' if len(unknown) == 1 else 'are not options'}"
            f" of {what} (they take {', '.join(known)})"
        )
    return options_cls(**fields)


class Modality:
    """A kind of data: images, audio or video (subclassed once per kind).

    Attributes:
      name: ``"image"``, ``"audio"`` or ``"video"``.
      axes: the names of one example's axes, e.g. ``("height", "width", "channels")``.
      example: what one example is called in messages (``"image"``, ``"clip"``).
      options_cls: the options dataclass of its data sources (``load``).
      sample_file: the default file ``autoreg sample`` writes.
      sample_suffixes: the suffixes a samples file may have.
      default_samples: how many samples ``autoreg sample`` draws by default.
      bits_unit: what its bits are per, e.g. ``"bits/dim"``.
      sample_options: the options of ``autoreg sample`` that only this kind of data takes:
        their ``args`` names, each mapped to the field of ``options_cls`` it sets (None: an
        option of the command, not of the data).
      eval_options: the same for ``autoreg eval``.
      train_options: the same for ``autoreg train``.
    """

    name: str = ""
    axes: tuple[str, ...] = ()
    example: str = "example"
    options_cls: type = Options
    sample_file: str = "samples.png"
    sample_suffixes: tuple[str, ...] = (".png",)
    default_samples: int = 16
    bits_unit: str = "bits/dim"
    sample_options: Mapping[str, str | None] = MappingProxyType({})
    eval_options: Mapping[str, str | None] = MappingProxyType({})
    train_options: Mapping[str, str | None] = MappingProxyType({})

    def __repr__(self) -> str:
        return f"<{self.name} modality>"

    # --- one model's data -------------------------------------------------------------------

    def check_batch_shape(self, model, shape: tuple, what: str) -> None:
        """An InputError unless ``shape`` (a batch's) fits ``model``: the rank of a batch of
        its examples, and the shape of one example where the model fixes it.

        Args:
          model: a registry model of this modality.
          shape: the batch's shape, ``(B, ...)``.
          what: the batch's name in the message, e.g. ``"x"``.

        Raises:
          InputError: the wrong rank or example shape.
        """
        if len(shape) != len(self.axes) + 1:
            raise InputError(
                f"{what} must have rank {len(self.axes) + 1} (batch, {', '.join(self.axes)}), "
                f"got shape {shape}"
            )
        self.check_example_shape(model, tuple(shape[1:]), what)

    def check_example_shape(self, model, shape: tuple, what: str) -> None:
        """An InputError unless one example of ``shape`` (right rank) fits ``model``."""
        raise NotImplementedError

    def fixed_example_shape(self, model) -> tuple[int, ...] | None:
        """The shape of one example that ``model`` fixes (a video model's: ``config.frames``
        frames), or None where each call chooses it (audio)."""
        return model.event_shape()

    def sample_length(self, model, seconds: float | None) -> int | None:
        """The length to sample for a request of ``seconds`` (None: the model's own shape)."""
        return None

    def sample_shape(self, model, length: int | None, features) -> tuple[int, ...]:
        """The shape of one sample to draw: ``model.event_shape(length)`` with the length a
        vocoder's ``features`` set (audio)."""
        return model.event_shape(length)

    def describe(self, count: int, shape: tuple) -> str:
        """``count`` examples of ``shape`` in words, e.g. ``"16 images of 28x28x1"``."""
        return f"{count} {self.example}{'s' * (count != 1)} of {'x'.join(map(str, shape))}"

    # --- data sources ----------------------------------------------------------------------

    def options(self, **fields):
        """The typed options of this kind's sources (``options_cls``) from keyword arguments.

        Raises:
          InputTypeError: an option of another kind of data.
          InputError: an option out of its range (checked by the dataclass).
        """
        return options_of(self.options_cls, f"{self.name} sources", fields)

    def load(self, source, split: str, options):
        """One split of ``source`` as a ``Dataset`` (``autoreg.data.load``)."""
        raise NotImplementedError

    def load_pair(self, source, options) -> tuple:
        """The training and the test split (None, with a warning, where the source has none)."""
        import logging

        from autoreg.data.images import MissingSplit

        train_set = self.load(source, "train", options)
        try:
            test_options = dataclasses.replace(options, seed=options.seed + 1)  # other patches
            test_set = self.load(source, "test", test_options)
        except MissingSplit as error:  # a single folder or file, or an empty test split
            logging.getLogger("autoreg.data.sources").warning(
                "%s; training without test bits/dim", error
            )
            test_set = None
        return train_set, test_set

    def model_options(self, model, source, limit: int | None = None, **given):
        """The options to read ``source`` with to evaluate ``model`` on its first ``limit``
        examples: those ``given`` plus those the model fixes (levels, sample rate, mel
        analysis and speakers, frame size)."""
        raise NotImplementedError

    def training_options(self, config, source, **given):
        """The options to read ``source`` with to train a model of ``config``: those ``given``
        plus those the config fixes (sample rate, mel analysis, frame size)."""
        raise NotImplementedError

    def fitted(self, model, dataset, source):
        """``dataset`` as ``model`` is evaluated on it: its example shape checked, class labels
        kept for a class-conditional model only.

        Raises:
          InputError: examples of another shape than the model's, or a class-conditional model
            and a source without labels.
        """
        self.check_example_shape(model, dataset.event_shape, str(source))
        if model.num_classes and dataset.labels is None:
            raise InputError(f"{model.name} is class-conditional but {source} has no labels")
        if not model.num_classes and dataset.labels is not None:
            return dataclasses.replace(dataset, labels=None)
        return dataset

    # --- samples on disk -------------------------------------------------------------------

    def picture_scale(self, model, num: int, scale: int | None) -> int | None:
        """The upscaling of the picture of ``num`` samples (None where samples are no
        picture); checks the picture's size before any work."""
        return None

    def write_samples(self, model, samples, path: Path, scale=None, duration_ms=None) -> Path:
        """Write ``samples`` (N, ...) to ``path`` as this kind's samples file(s)."""
        raise NotImplementedError

    def training_samples(self, model, stem: Path, num: int, draw) -> Path | None:
        """Write about ``num`` samples of a training run (``draw(num)`` draws them) to
        ``stem`` with this kind's suffix; the picture's path for TensorBoard, or None (no
        samples, or none TensorBoard shows)."""
        return None
