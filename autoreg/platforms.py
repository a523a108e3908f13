"""Where computation runs: the platform ("cpu", "gpu" or "tpu") of a model or a device.

JAX names devices by backend (``cpu``, ``cuda``, ``rocm``, ``tpu``); the toolkit speaks of three
platforms, so that a sampler can declare where it runs (the C++ WaveNet kernel: the CPU only)
and ``autoreg.sampling_methods`` can list what runs where the work is.
"""

from __future__ import annotations

import jax
from flax import nnx

from autoreg.errors import InputError

PLATFORMS = ("cpu", "gpu", "tpu")
EVERYWHERE = frozenset(PLATFORMS)  # what a sampler written in JAX alone runs on
_ALIASES = {"cuda": "gpu", "rocm": "gpu", "metal": "gpu"}


def normalise_platform(name: str) -> str:
    """``"cuda"`` or ``"rocm"`` -> ``"gpu"``; ``"cpu"``, ``"gpu"``, ``"tpu"`` unchanged.

    Raises:
      InputError: any other name.
    """
    platform = _ALIASES.get(str(name).lower(), str(name).lower())
    if platform not in PLATFORMS:
        raise InputError(f"unknown platform {name!r}; platforms: {', '.join(PLATFORMS)}")
    return platform


def device_platform(device) -> str:
    """The platform of one ``jax.Device``."""
    return normalise_platform(device.platform)


def default_device():
    """The device JAX places new arrays on (the first of the default backend)."""
    return jax.local_devices()[0]


def default_platform() -> str:
    """The platform of ``default_device()``."""
    return device_platform(default_device())


def platform_of(model) -> str:
    """The platform holding ``model``'s parameters (a model without parameters: the default).

    Args:
      model: an ``nnx.Module``.
    """
    for leaf in jax.tree.leaves(nnx.state(model, nnx.Param)):
        devices = getattr(leaf, "devices", None)
        if devices is not None:
            return device_platform(next(iter(devices())))
    return default_platform()
