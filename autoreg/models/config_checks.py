"""Checks every model config shares, so that each rule and its message exist once.

``check_fields`` gives every field of every config its type and its bounds, from ``BOUNDS``:
an integer field refuses a float, a bool or a value outside its range. The bounds are generous
for real models and keep a config from a checkpoint's (untrusted) metadata from asking for
layers without end or arrays beyond any memory. The other checks are the rules between fields
(at least one channel per colour, odd kernels). Each raises ``InputError`` (``InputTypeError`` for a
value of the wrong type) naming the field and the value it got; the configs call them from
``__post_init__``, so a bad config fails when it is built, before any parameter exists.
"""

from __future__ import annotations

import dataclasses
import numbers

from autoreg.errors import InputError, InputTypeError

CONV_IMPLS = ("auto", "taps", "conv")  # "taps" (CPU), "conv" (XLA convolution) or "auto"

MAX_WIDTH = 2048  # channels, features, hidden units of any layer
MAX_DEPTH = 128  # residual blocks or layers
MAX_KERNEL = 15  # side of a convolution kernel
MAX_SIDE = 4096  # image height and width
MAX_COLOURS = 4  # channels of an image (1 grey, 3 RGB, 4 RGBA)
MAX_DILATION = 64  # spacing of a dilated convolution's taps

# Field name -> (minimum, maximum) of every integer field of every model config.
BOUNDS = {
    "levels": (2, 65536),
    "channels": (1, MAX_WIDTH),
    "output_channels": (1, MAX_WIDTH),
    "features": (1, MAX_WIDTH),
    "skip_channels": (1, MAX_WIDTH),
    "head_channels": (1, MAX_WIDTH),
    "hidden": (1, MAX_WIDTH),
    "residual_channels": (1, MAX_WIDTH),
    "gate_channels": (2, MAX_WIDTH),
    "num_blocks": (0, MAX_DEPTH),
    "num_layers": (1, MAX_DEPTH),
    "num_stacks": (1, 32),
    "layers_per_stack": (1, 16),  # dilations up to 2**15
    "first_kernel": (1, MAX_KERNEL),
    "kernel": (1, MAX_KERNEL),
    "input_kernel": (1, 64),
    "num_classes": (0, 65536),
    "local_features": (0, MAX_WIDTH),
    "sample_rate": (1, 384_000),
    "hop_length": (0, 65536),
    "upsample_context": (0, 64),
    "condition_channels": (1, MAX_WIDTH),
    "attention_every": (1, MAX_DEPTH),
    "heads_per_colour": (1, 64),
    "key_channels": (1, MAX_WIDTH),
    "value_channels": (1, MAX_WIDTH),
    "frames": (1, 65536),
    "encoder_channels": (1, MAX_WIDTH),
    "context_channels": (1, MAX_WIDTH),
    "lstm_kernel": (1, MAX_KERNEL),
}


def check_int(name: str, value, minimum: int, maximum: int) -> None:
    """``value`` is an integer (not a bool or a float) in ``minimum..maximum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if not minimum <= value <= maximum:
        raise InputError(f"{name} must be in {minimum}..{maximum}, got {value}")


def check_image_shape(image_shape) -> int:
    """``(H, W, C)`` integers, H and W in 1..MAX_SIDE, C in 1..MAX_COLOURS; returns C."""
    if not isinstance(image_shape, tuple | list) or len(image_shape) != 3:
        raise InputError(f"image_shape must be (H, W, C), got {image_shape!r}")
    maxima = (MAX_SIDE, MAX_SIDE, MAX_COLOURS)
    for axis, size, maximum in zip("HWC", image_shape, maxima, strict=True):
        check_int(f"image_shape {axis}", size, 1, maximum)
    return image_shape[2]


def check_dilations(dilations, name: str = "dilations") -> None:
    """A tuple of integers in 1..MAX_DILATION (its length is the config's own rule)."""
    if not isinstance(dilations, tuple | list):
        raise InputTypeError(f"{name} must be a tuple of integers, got {dilations!r}")
    for value in dilations:
        check_int(f"each of {name}", value, 1, MAX_DILATION)


def check_conv_impl(conv_impl: str) -> None:
    """One of ``CONV_IMPLS``."""
    if conv_impl not in CONV_IMPLS:
        raise InputError(f"conv_impl must be one of {CONV_IMPLS}, got {conv_impl!r}")


# Fields that are not integers and that their config checks itself (WaveNet's upsampling
# choice, mel analysis and speaker names).
CHECKED_BY_THE_CONFIG = ("upsample", "mel", "speakers")


def check_fields(config) -> None:
    """The type and bounds of every field of the config dataclass ``config``.

    Fields in ``CHECKED_BY_THE_CONFIG`` are left to the config's own checks.

    Raises:
      InputTypeError: a field of the wrong type (a float or a bool for an integer), or a field with
        no rule here (a new field must be given its bounds in ``BOUNDS``).
      InputError: a field out of its bounds.
    """
    for field in dataclasses.fields(config):
        name, value = field.name, getattr(config, field.name)
        if name in CHECKED_BY_THE_CONFIG:
            continue
        if name == "image_shape":
            check_image_shape(value)
        elif name == "conv_impl":
            check_conv_impl(value)
        elif name in ("dilations", "encoder_dilations"):
            check_dilations(value, name)
        elif name in BOUNDS:
            check_int(name, value, *BOUNDS[name])
        else:
            raise InputTypeError(f"{type(config).__name__}.{name} has no bounds in config_checks")


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
