"""Checks every model config shares, so that each rule and its message exist once.

Each config dataclass declares its own rules in a class attribute ``BOUNDS``: field name ->
``(minimum, maximum)`` of an integer field, the function that checks a field of another kind
(``check_image_shape``, ``check_dilations``, ``one_of(choices)``), or ``CHECKED_BY_THE_CONFIG``
for a field its ``__post_init__`` checks itself. ``check_fields`` applies them: an integer field
refuses a float, a bool or a value outside its range, and a field without a rule is refused, so
a new field cannot go unchecked. The bounds are generous for real models and keep a config from
a checkpoint's (untrusted) metadata from asking for layers without end or arrays beyond any
memory. The other checks are the rules between fields (at least one channel per colour, odd
kernels). Each raises ``InputError`` (``InputTypeError`` for a value of the wrong type) naming
the field and the value it got; the configs call them from ``__post_init__``, so a bad config
fails when it is built, before any parameter exists.

Examples:
  >>> from autoreg.models.pixelcnn import PixelCNNConfig
  >>> PixelCNNConfig.BOUNDS["channels"], PixelCNNConfig.BOUNDS["num_blocks"]
  ((1, 2048), (0, 128))
  >>> PixelCNNConfig(channels=4096)
  Traceback (most recent call last):
  ...
  autoreg.errors.InputError: channels must be in 1..2048, got 4096
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable

from autoreg import rules
from autoreg.errors import InputError, InputTypeError

CONV_IMPLS = ("auto", "taps", "conv")  # "taps" (CPU), "conv" (XLA convolution) or "auto"

MAX_WIDTH = 2048  # channels, features, hidden units of any layer
MAX_DEPTH = 128  # residual blocks or layers
MAX_KERNEL = 15  # side of a convolution kernel
MAX_SIDE = 4096  # image height and width
MAX_COLOURS = 4  # channels of an image (1 grey, 3 RGB, 4 RGBA)
MAX_DILATION = 64  # spacing of a dilated convolution's taps

# (minimum, maximum) that the families' integer fields share; a family may give any range.
LEVELS = (2, 65536)  # K: values per variable
WIDTH = (1, MAX_WIDTH)  # channels, features or hidden units of a layer
DEPTH = (1, MAX_DEPTH)  # layers or blocks
KERNEL = (1, MAX_KERNEL)  # side of a convolution kernel
CLASSES = (0, 65536)  # class labels to condition on; 0 = unconditional

# The rule of a field whose config's __post_init__ checks it itself (WaveNet's mel analysis).
CHECKED_BY_THE_CONFIG = "checked by the config's __post_init__"

Rule = tuple[int, int] | Callable[[str, object], None] | str
Bounds = dict[str, Rule]  # a config's BOUNDS: field name -> its rule


def check_int(name: str, value, minimum: int, maximum: int) -> None:
    """``value`` is an integer (not a bool or a float) in ``minimum..maximum``.

    Raises:
      InputTypeError: not an integer.
      InputError: out of ``minimum..maximum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if not minimum <= value <= maximum:
        raise InputError(f"{name} must be in {minimum}..{maximum}, got {value}")


def check_image_shape(name: str, image_shape) -> None:
    """``(H, W, C)`` integers, H and W in 1..MAX_SIDE, C in 1..MAX_COLOURS (a rule).

    Raises:
      InputError: not three sizes, or a size out of its range (``InputTypeError``: not an
        integer).
    """
    if not isinstance(image_shape, tuple | list) or len(image_shape) != 3:
        raise InputError(f"{name} must be (H, W, C), got {image_shape!r}")
    maxima = (MAX_SIDE, MAX_SIDE, MAX_COLOURS)
    for axis, size, maximum in zip("HWC", image_shape, maxima, strict=True):
        check_int(f"{name} {axis}", size, 1, maximum)


def check_dilations(name: str, dilations) -> None:
    """A tuple of integers in 1..MAX_DILATION (a rule; its length is the config's own rule).

    Raises:
      InputTypeError: not a tuple of integers.
      InputError: a dilation out of its range.
    """
    if not isinstance(dilations, tuple | list):
        raise InputTypeError(f"{name} must be a tuple of integers, got {dilations!r}")
    for value in dilations:
        check_int(f"each of {name}", value, 1, MAX_DILATION)


def one_of(choices: tuple) -> Callable[[str, object], None]:
    """The rule of a field that takes one of ``choices`` (``one_of(CONV_IMPLS)``).

    Returns:
      A rule ``check(name, value)`` that raises ``InputError`` for any other value.
    """

    rule = rules.one_of(choices)
    return lambda name, value: rule.check(value, name)


check_conv_impl = one_of(CONV_IMPLS)  # the rule of every conv_impl field


def check_fields(config) -> None:
    """The type and bounds of every field of the config dataclass ``config``, by the rules of
    its class's ``BOUNDS``; fields whose rule is ``CHECKED_BY_THE_CONFIG`` are left to it.

    Raises:
      InputTypeError: a field of the wrong type (a float or a bool for an integer), or a field with
        no rule in ``BOUNDS`` (a new field must be given one).
      InputError: a field out of its bounds.
    """
    rules = getattr(type(config), "BOUNDS", {})
    for field in dataclasses.fields(config):
        name, value = field.name, getattr(config, field.name)
        rule = rules.get(name)
        if rule is None:
            cls = type(config).__name__
            raise InputTypeError(f"{cls}.{name} has no bounds: give it a rule in {cls}.BOUNDS")
        if rule is CHECKED_BY_THE_CONFIG:
            continue
        if callable(rule):
            rule(name, value)
        else:
            check_int(name, value, *rule)


def check_at_least(config, minimum: int, *names: str, why: str = "") -> None:
    """Every field in ``names`` of ``config`` is at least ``minimum``."""
    for name in names:
        value = getattr(config, name)
        if value < minimum:
            reason = f" ({why})" if why else ""
            raise InputError(f"{name} must be at least {minimum}{reason}, got {value}")


def check_odd(config, *names: str, minimum: int = 1) -> None:
    """Every field in ``names`` is an odd kernel size of at least ``minimum``."""
    for name in names:
        size = getattr(config, name)
        if size < minimum or size % 2 == 0:
            raise InputError(f"{name} must be odd and at least {minimum}, got {size}")


def check_image_config(config) -> int:
    """Every field's type and bounds (``check_fields``) of an image model; returns C."""
    check_fields(config)
    return config.image_shape[2]
