"""Exact log-likelihood of K-way categorical autoregressive models, and bits per dimension.

Pure functions of logits and data; model-level helpers validate the data and run the network.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from autoreg.models.functional import logits as model_logits
from autoreg.validation import check_data, check_features, check_labels


def log_prob_per_position(logits: jax.Array, x: jax.Array) -> jax.Array:
    """Log-probability of each observed value: log-softmax of ``logits`` picked at ``x``.

    The one place where the observed value is picked out of K-way logits; ``log_prob_from_logits``
    sums it over the event, the heatmaps spread it over pixels.

    Args:
      logits: (..., K) float logits (computed in float32 whatever their dtype).
      x: (...) integers in 0..K-1.

    Returns:
      (...) float32 log p(x_i | x_<i) in nats.
    """
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)  # (..., K)
    index = jnp.asarray(x)[..., None].astype(jnp.int32)  # (..., 1)
    return jnp.take_along_axis(log_probs, index, axis=-1)[..., 0]


def log_prob_from_logits(logits: jax.Array, x: jax.Array, event_ndim: int) -> jax.Array:
    """Sum of log-softmax(logits) at the observed values over the last ``event_ndim`` axes.

    Args:
      logits: (B, *event, K) float logits.
      x: (B, *event) integers in 0..K-1.
      event_ndim: number of event axes (3 for images, 1 for audio).

    Returns:
      (B,) log-likelihood in nats.
    """
    picked = log_prob_per_position(logits, x)  # (B, *event)
    return picked.reshape(picked.shape[: picked.ndim - event_ndim] + (-1,)).sum(-1)


def log_prob(model, x, labels=None, *, features=None) -> jax.Array:
    """Exact log-likelihood of each example in nats.

    Args:
      model: a registry model.
      x: (B, H, W, C) images (or (B, T) audio) of integers in 0..K-1.
      labels: (B,) class labels for class-conditional models, else None.
      features: (B, T // hop_length, F) local features (a vocoder's log-mel) for a locally
        conditioned model, else None: then ``log p(x | features)``.

    Returns:
      (B,) float32 log p(x) in nats.

    Raises:
      ValueError: float data, the wrong rank or shape, values outside 0..K-1, no examples;
        missing or mis-shaped features.
    """
    x = check_data(model, x)
    if len(x) == 0:
        raise ValueError("x is empty: no examples to compute the likelihood of")
    labels = check_labels(model, labels, x.shape[0])
    return log_prob_unchecked(model, x, labels, check_features(model, features, x.shape))


def log_prob_unchecked(model, x: np.ndarray, labels: np.ndarray | None, features=None):
    """``log_prob`` for data, labels and features already validated (``check_*``): (B,)."""
    logits = model_logits(model, x, labels, features)
    return log_prob_from_logits(logits, jnp.asarray(x), x.ndim - 1)


def nats_to_bits_per_dim(nll_nats, num_dims: int):
    """Negative log-likelihood in nats per example -> bits per dimension."""
    return nll_nats / (num_dims * math.log(2.0))


def bits_per_dim(model, x, labels=None, *, features=None) -> float:
    """Mean negative log-likelihood divided by ``D * ln 2``, ``D`` = dimensions per example.

    ``features`` as for ``log_prob`` (audio: bits per sample given the features).

    Raises:
      ValueError: as for ``log_prob``.
    """
    nll = -np.asarray(log_prob(model, x, labels, features=features), np.float64).mean()
    return float(nats_to_bits_per_dim(nll, math.prod(np.shape(x)[1:])))
