"""Pretrained checkpoints shipped inside the package (``autoreg/assets/<shipped name>``).

Shipped names are not registry names: ``SHIPPED`` maps each (``pixelcnn``, ..., ``wavenet``,
``wavenet_vocoder``) to the registry family its checkpoint holds, so ``--model wavenet_vocoder``
works wherever a shipped model is accepted.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from autoreg.checkpoint import is_checkpoint, load_checkpoint
from autoreg.errors import InputError
from autoreg.registry import MODELS, get_spec

# shipped name -> registry family of its checkpoint (the directory is the shipped name)
SHIPPED = {
    "pixelcnn": "pixelcnn",
    "gated_pixelcnn": "gated_pixelcnn",
    "row_lstm": "row_lstm",
    "pixelsnail": "pixelsnail",
    "wavenet": "wavenet",
    "wavenet_vocoder": "wavenet",  # mel-conditioned: autoreg vocode's default model
    "video_pixelcnn": "video_pixelcnn",  # Moving MNIST at 32x32: autoreg predict's default
}


def shipped_family(name: str) -> str:
    """The registry family of a shipped or registry name; an InputError listing both if neither."""
    if name in SHIPPED:
        return SHIPPED[name]
    if name not in MODELS:
        raise InputError(
            f"unknown model {name!r}; registry models: {', '.join(sorted(MODELS))}; "
            f"shipped models: {', '.join(SHIPPED)}"
        )
    return get_spec(name).name


def pretrained_path(name: str) -> Path | None:
    """Directory of the shipped checkpoint ``name`` (shipped or registry name), or None."""
    shipped_family(name)
    path = Path(str(resources.files("autoreg") / "assets" / name))
    return path if is_checkpoint(path) else None


def load_pretrained(name: str):
    """The shipped pretrained model ``name``; an InputError if none ships under that name."""
    path = pretrained_path(name)
    if path is None:
        family = shipped_family(name)
        raise InputError(
            f"no pretrained checkpoint ships for {name!r}; pass --checkpoint DIR "
            f"(train one with: autoreg train --model {family} ...)"
        )
    return load_checkpoint(path)
