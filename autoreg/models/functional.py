"""Jit-compiled, pure views of a model: split once into (graphdef, state), merge inside jit.

Passing the module's state as an explicit argument gives a smaller program and faster compiles
than closing over the module, and one compiled function per model structure.
"""

from __future__ import annotations

import functools

import jax
from flax import nnx


def call_model(model, x, labels=None, features=None):
    """``model(x, labels)``, with ``features=`` only when given (image models take none).

    Args:
      model: a registry model.
      x: (B, *event) integers in 0..K-1.
      labels: (B,) class labels of a class-conditional model, or None.
      features: (B, frames, F) local features of a locally conditioned model, or None.

    Returns:
      (B, *event, K) logits.
    """
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
