"""The loss, the optimiser and the jit-compiled training step.

The loss is the mean negative log-likelihood in nats per dimension; the optimiser is Adam with
a linear warm-up, a cosine decay and global-norm clipping; the step updates the parameters,
the optimiser state and (if kept) an exponential moving average of the parameters, and
donates all three buffers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from autoreg.likelihood import log_prob_from_logits
from autoreg.models.functional import call_model
from autoreg.train_config import TrainConfig


def cast_floats(tree, dtype):
    """``tree`` with its floating-point arrays cast to ``dtype`` (integers left alone)."""
    return jax.tree.map(
        lambda a: a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree
    )


def learning_rate_schedule(config: TrainConfig) -> optax.Schedule:
    """The learning rate of the update at step t (0-based): a linear warm-up from 0, then a
    cosine decay to 1% of the peak."""
    return optax.warmup_cosine_decay_schedule(
        0.0,
        config.learning_rate,
        min(config.warmup_steps, config.steps),
        max(config.steps, config.warmup_steps + 1),
        end_value=config.learning_rate * 0.01,
    )


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """Adam with linear warm-up, cosine decay and global-norm clipping."""
    parts = [optax.clip_by_global_norm(config.grad_clip)] if config.grad_clip > 0 else []
    return optax.chain(*parts, optax.adam(learning_rate_schedule(config)))


def make_train_step(
    graphdef,
    rest,
    optimizer,
    event_ndim: int,
    ema_decay: float,
    compute_dtype: str = "float32",
) -> Callable:
    """A jit-compiled step ``(params, opt_state, ema, x, labels, features=None) -> (..., loss)``
    that donates its state buffers. ``loss`` is the mean negative log-likelihood in nats per
    dimension.

    With ``compute_dtype="bfloat16"`` the step runs the network on bfloat16 copies of the
    parameters (and of its constant buffers); the gradients reach the float32 parameters through
    the cast, and the logits are cast back to float32 before the log-softmax.

    Args:
      graphdef: the model's structure (``nnx.split(model, nnx.Param, ...)``).
      rest: the model's non-parameter state, constant during training.
      optimizer: the optax transformation (``make_optimizer``).
      event_ndim: dimensions of one example (3 for images (H, W, C), 1 for audio (T,)).
      ema_decay: decay of the parameters' moving average (0: none kept).
      compute_dtype: dtype of the forward and backward pass.

    Returns:
      The step.
    """
    dtype = jnp.dtype(compute_dtype)

    def loss_fn(params, x, labels, features):
        if dtype != jnp.float32:
            params, constants = cast_floats(params, dtype), cast_floats(rest, dtype)
        else:
            constants = rest
        model = nnx.merge(graphdef, params, constants)
        logits = call_model(model, x, labels, features).astype(jnp.float32)  # (B, *event, K)
        dims = math.prod(x.shape[1:])
        return -log_prob_from_logits(logits, x, event_ndim).mean() / dims

    def step(params, opt_state, ema, x, labels, features=None):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, labels, features)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if ema_decay:
            # Warm-up of the decay, min(decay, (1 + t) / (10 + t)) at step t, so that the
            # average forgets the random initialisation in short runs too.
            _, count = optax.tree_utils.tree_get_all_with_path(opt_state, "count")[0]
            t = count.astype(jnp.float32)  # optimiser steps taken, this one included
            decay = jnp.minimum(ema_decay, (1.0 + t) / (10.0 + t))
            ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)
        return params, opt_state, ema, loss

    return jax.jit(step, donate_argnums=(0, 1, 2))
