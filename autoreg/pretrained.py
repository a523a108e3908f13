"""Pretrained checkpoints shipped inside the package (``autoreg/assets/<model>``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from autoreg.checkpoint import is_checkpoint, load_checkpoint
from autoreg.registry import get_spec


def pretrained_path(name: str) -> Path | None:
    """Directory of the shipped checkpoint for model ``name``, or None if none ships."""
    get_spec(name)
    path = Path(str(resources.files("autoreg") / "assets" / name))
    return path if is_checkpoint(path) else None


def load_pretrained(name: str):
    """The shipped pretrained model ``name``; ValueError if this model ships none."""
    path = pretrained_path(name)
    if path is None:
        raise ValueError(
            f"no pretrained checkpoint ships for {name!r}; pass --checkpoint DIR "
            f"(train one with: autoreg train --model {name} ...)"
        )
    return load_checkpoint(path)
