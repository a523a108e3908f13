"""Checks every model config shares, so that each rule and its message exist once.

Each check raises ``ValueError`` naming the field and the value it got; the configs call them
from ``__post_init__``, so a bad config fails when it is built, before any parameter exists.
"""

from __future__ import annotations

CONV_IMPLS = ("auto", "taps", "conv")  # "taps" (CPU), "conv" (XLA convolution) or "auto"


def check_levels(levels: int) -> None:
    """K, the number of values per variable, must be at least 2."""
    if levels < 2:
        raise ValueError(f"levels must be at least 2, got {levels}")


def check_image_shape(image_shape: tuple) -> int:
    """``(H, W, C)`` with positive sizes; returns C."""
    if len(image_shape) != 3 or min(image_shape) < 1:
        raise ValueError(f"image_shape must be (H, W, C) with positive sizes: {image_shape}")
    return image_shape[2]


def check_conv_impl(conv_impl: str) -> None:
    """One of ``CONV_IMPLS``."""
    if conv_impl not in CONV_IMPLS:
        raise ValueError(f"conv_impl must be one of {CONV_IMPLS}, got {conv_impl!r}")


def check_at_least(config, minimum: int, *names: str, why: str = "") -> None:
    """Every field in ``names`` of ``config`` is at least ``minimum``."""
    for name in names:
        value = getattr(config, name)
        if value < minimum:
            reason = f" ({why})" if why else ""
            raise ValueError(f"{name} must be at least {minimum}{reason}, got {value}")


def check_odd(config, *names: str, minimum: int = 1) -> None:
    """Every field in ``names`` is an odd kernel size of at least ``minimum``."""
    for name in names:
        size = getattr(config, name)
        if size < minimum or size % 2 == 0:
            raise ValueError(f"{name} must be odd and at least {minimum}, got {size}")


def check_image_config(config) -> int:
    """The fields every image model has: ``levels``, ``image_shape``, ``conv_impl``; returns C."""
    check_levels(config.levels)
    colours = check_image_shape(config.image_shape)
    check_conv_impl(config.conv_impl)
    return colours
