"""What the demo's tabs share: Gradio (imported here only, through ``autoreg.optional``), the
handler wrapper that turns the library's errors into messages on the page, input parsing, and
the components every tab builds the same way (``Widgets``)."""

from __future__ import annotations

import functools
import logging
import os

import numpy as np

from autoreg.demo import inputs
from autoreg.errors import AutoregError, InputError
from autoreg.optional import require

logger = logging.getLogger("autoreg")


def import_gradio():
    """The ``gradio`` module, with its analytics (and version check) turned off.

    Raises:
      MissingExtraError: gradio is not installed (``pip install 'autoreg[demo]'``).
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    return require("gradio", "demo", "the demo page")


def one_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name if it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def surfaced(function):
    """Wrap a page handler so that the library's errors become a message on the page.

    A refused request (an ``autoreg.errors.AutoregError``: bad input, a missing extra, too
    little memory) is one line on the page and one line in the server's log (the ``autoreg``
    logger), not a traceback; anything else (a bug) keeps its traceback, so that it can be
    reported.
    """
    gr = import_gradio()

    @functools.wraps(function)
    def handler(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except AutoregError as error:  # bad input, a missing extra, too little memory
            raise refused(gr, one_line(error)) from None
        except MemoryError as error:
            raise refused(gr, f"out of memory ({one_line(error)})") from None

    return handler


def refused(gr, message: str):
    """The ``gradio.Error`` that shows ``message`` on the page; the server logs one line."""
    logger.warning("demo request refused: %s", message)
    try:
        return gr.Error(message, print_exception=False)
    except TypeError:  # a Gradio without print_exception prints the traceback itself
        return gr.Error(message)


def class_label(model, label) -> int | None:
    """The label a class-conditional model is given (checked), None for an unconditional one."""
    if not model.num_classes:
        return None
    if label is None or not 0 <= int(label) < model.num_classes:
        raise InputError(f"{model.name} takes labels 0..{model.num_classes - 1}, got {label}")
    return int(label)


def parse_box(text: str) -> tuple[int, ...]:
    """``"Y0,X0,Y1,X1"`` -> four ints; an InputError saying the format otherwise."""
    try:
        box = tuple(int(v) for v in str(text).replace(" ", "").split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise InputError(f"the box must be Y0,X0,Y1,X1 (four integers), got {text!r}")
    return box


def displayed(picture: np.ndarray) -> np.ndarray:
    """(H, W, 1) -> (H, W); other pictures unchanged (PIL shows no one-channel 3-D arrays)."""
    return picture[..., 0] if picture.ndim == 3 and picture.shape[-1] == 1 else picture


def picture_from(value, what: str) -> np.ndarray:
    """The picture of an editor or image value; an InputError asking for one when empty."""
    picture = inputs.editor_picture(value)
    if picture is None:
        raise InputError(f"draw or upload {what} first")
    return picture


class Widgets:
    """The components and progress trackers the tabs share, made with one ``gradio`` module.

    Args:
      gr: the ``gradio`` module (``import_gradio()``).
      names: the image models offered in the model lists.
      examples: example input files by kind (``"digit"``, ``"texture"``, ``"speech"``).
    """

    def __init__(self, gr, names: list[str], examples: dict):
        self.gr, self.names, self.examples = gr, names, examples
        self.plain = gr.Progress()
        self.tracked = gr.Progress(track_tqdm=True)  # tqdm bars of the library too

    def offer(self, kind: str, component) -> None:
        """Offer the example input of ``kind`` (if any) under ``component``."""
        if self.examples.get(kind):
            self.gr.Examples([[str(self.examples[kind])]], [component], label="example")

    def model_picker(self):
        """A drop-down list of the image models."""
        return self.gr.Dropdown(
            self.names, value=self.names[0] if self.names else None, label="model"
        )

    def editor(self, label: str):
        """A 280x280 canvas to draw on (black or white brush) or to upload a picture to."""
        gr = self.gr
        return gr.ImageEditor(
            type="numpy",
            label=label,
            canvas_size=(280, 280),
            sources=("upload", "clipboard"),
            brush=gr.Brush(colors=["#000000", "#ffffff"], default_size=18),
            height=340,
            format="png",
        )

    def png(self, label: str):
        """An output picture, served as PNG."""
        return self.gr.Image(type="numpy", format="png", label=label, interactive=False)
