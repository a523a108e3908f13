"""Jit-compiled, pure views of a model: split once into (graphdef, state), merge inside jit.

Passing the module's state as an explicit argument gives a smaller program and faster compiles
than closing over the module, and one compiled function per model structure.
"""

from __future__ import annotations

import functools

import jax
from flax import nnx

from autoreg.data.dataset import Conditioning


def split_conditioning(conditioning) -> tuple:
    """(labels, features) of a ``Conditioning``, or (labels, None) of plain labels (or None)."""
    if isinstance(conditioning, Conditioning):
        return conditioning.labels, conditioning.features
    return conditioning, None


def call_model(model, x, labels=None, features=None):
    """``model(x, labels)``, with ``features=`` only when given (image models take none).

    ``labels`` may also be a ``Conditioning`` (then ``features`` must be None).
    """
    if isinstance(labels, Conditioning):
        labels, features = split_conditioning(labels)
    if features is None:
        return model(x, labels)
    return model(x, labels, features=features)


@functools.partial(jax.jit, static_argnums=0)
def apply_split(graphdef, state, x: jax.Array, labels, features=None) -> jax.Array:
    """Logits of the model ``nnx.merge(graphdef, state)`` on ``x``."""
    return call_model(nnx.merge(graphdef, state), x, labels, features)


def logits(model, x: jax.Array, labels: jax.Array | None = None, features=None) -> jax.Array:
    """Jit-compiled ``model(x, labels)``: (B, *event) ints -> (B, *event, K) float32 logits.

    ``features``: (B, frames, F) local conditioning of a locally conditioned model, else None.
    """
    graphdef, state = nnx.split(model)
    return apply_split(graphdef, state, x, labels, features)
