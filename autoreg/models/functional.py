"""Jit-compiled, pure views of a model: split once into (graphdef, state), merge inside jit.

Passing the module's state as an explicit argument gives a smaller program and faster compiles
than closing over the module, and one compiled function per model structure.
"""

from __future__ import annotations

import functools

import jax
from flax import nnx


@functools.partial(jax.jit, static_argnums=0)
def apply_split(graphdef, state, x: jax.Array, labels: jax.Array | None) -> jax.Array:
    """Logits of the model ``nnx.merge(graphdef, state)`` on ``x``."""
    return nnx.merge(graphdef, state)(x, labels)


def logits(model, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
    """Jit-compiled ``model(x, labels)``: (B, *event) ints -> (B, *event, K) float32 logits."""
    graphdef, state = nnx.split(model)
    return apply_split(graphdef, state, x, labels)
