"""A config as JSON-ready fields and back (what a checkpoint's metadata records), and the
number of parameters of a model."""

from __future__ import annotations

import dataclasses

import jax
from flax import nnx

from autoreg.errors import InputError

__all__ = ["config_from_dict", "config_to_dict", "count_params"]


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters (entries of ``nnx.Param`` arrays).

    Args:
      model: any Flax NNX module.

    Returns:
      The count.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.models.config_io import count_params
      >>> count_params(nnx.Linear(3, 2, rngs=nnx.Rngs(0)))  # a 3x2 kernel and 2 biases
      8
    """
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def config_to_dict(config) -> dict:
    """A JSON-ready dict of a config dataclass (tuples become lists).

    Args:
      config: a config dataclass instance.

    Returns:
      Field name -> value.

    Examples:
      >>> from autoreg.models.config_io import config_to_dict
      >>> config = autoreg.registry.make_config("pixelcnn", "tiny", image_shape=(4, 4, 1))
      >>> config_to_dict(config)
      {'levels': 256, 'image_shape': [4, 4, 1], 'channels': 8, 'num_blocks': 2, ...}
    """
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def config_from_dict(config_cls, fields: dict):
    """Rebuild a config dataclass from ``config_to_dict`` output (lists become tuples).

    Args:
      config_cls: the config dataclass.
      fields: field name -> value; fields left out take their defaults.

    Returns:
      A ``config_cls`` instance.

    Raises:
      InputError: fields ``config_cls`` does not have, or (from the config's own checks) a
        value out of its bounds.

    Examples:
      >>> from autoreg.models.config_io import config_from_dict, config_to_dict
      >>> config = autoreg.registry.make_config("pixelcnn", "tiny", image_shape=(4, 4, 1))
      >>> config_from_dict(type(config), config_to_dict(config)) == config
      True
      >>> config_from_dict(type(config), {"colour": 3})
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: unknown PixelCNNConfig fields: colour
    """
    known = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise InputError(f"unknown {config_cls.__name__} fields: {', '.join(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    return config_cls(**values)
