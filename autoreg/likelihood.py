"""Exact log-likelihood of K-way categorical autoregressive models, and bits per dimension.

Pure functions of logits and data; model-level helpers validate the data and run the network.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from autoreg.models.functional import logits as model_logits
from autoreg.validation import check_data, check_features, check_labels, check_some_examples

__all__ = [
    "bits_per_dim",
    "log_prob",
    "log_prob_from_logits",
    "log_prob_per_position",
    "nats_to_bits_per_dim",
]


def log_prob_per_position(logits: jax.Array, x: jax.Array) -> jax.Array:
    """Log-probability of each observed value: log-softmax of ``logits`` picked at ``x``.

    The one place where the observed value is picked out of K-way logits; ``log_prob_from_logits``
    sums it over the event, the heatmaps spread it over pixels.

    Args:
      logits: (..., K) float logits (computed in float32 whatever their dtype).
      x: (...) integers in 0..K-1.

    Returns:
      (...) float32 log p(x_i | x_<i) in nats.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.likelihood import log_prob_per_position
      >>> logits = jnp.zeros((2, 3, 4))  # uniform over K = 4 values: log(1/4) everywhere
      >>> log_prob_per_position(logits, jnp.array([[0, 1, 2], [3, 3, 3]]))
      Array([[-1.3862944, -1.3862944, -1.3862944],
             [-1.3862944, -1.3862944, -1.3862944]], dtype=float32)
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
      (B,) float32 log-likelihood in nats.

    Examples:
      >>> import jax.numpy as jnp
      >>> logits = jnp.zeros((2, 3, 4))  # B = 2 examples of 3 positions, K = 4
      >>> autoreg.log_prob_from_logits(logits, jnp.array([[0, 1, 2], [3, 3, 3]]), event_ndim=1)
      Array([-4.158883, -4.158883], dtype=float32)
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
      InputError: float data, the wrong rank or shape, values outside 0..K-1, no examples;
        labels a model does not take or out of range; missing or mis-shaped features.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> log_p = autoreg.log_prob(model, np.zeros((2, 4, 4, 1), np.int32))
      >>> log_p.shape, log_p.dtype, bool((log_p < 0).all())
      ((2,), dtype('float32'), True)
      >>> autoreg.log_prob(model, np.full((1, 4, 4, 1), 4))
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: x has values in 4..4, outside 0..3 (the model has K=4 levels)
    """
    x = check_data(model, x)
    check_some_examples(x)
    labels = check_labels(model, labels, x.shape[0])
    return log_prob_unchecked(model, x, labels, check_features(model, features, x.shape))


def log_prob_unchecked(model, x: np.ndarray, labels: np.ndarray | None, features=None):
    """``log_prob`` for data, labels and features already validated (``check_*``): (B,)."""
    logits = model_logits(model, x, labels, features)
    return log_prob_from_logits(logits, jnp.asarray(x), x.ndim - 1)


def nats_to_bits_per_dim(nll_nats, num_dims: int):
    """Negative log-likelihood in nats per example -> bits per dimension.

    The one conversion from nats to bits in the package (``num_dims=1``: bits of one position,
    or of a per-dimension loss).

    Args:
      nll_nats: negative log-likelihood in nats (a float or an array) of ``num_dims`` dimensions.
      num_dims: dimensions the likelihood is of.

    Returns:
      ``nll_nats / (num_dims * ln 2)``, of the type of ``nll_nats``.

    Examples:
      >>> import math
      >>> from autoreg.likelihood import nats_to_bits_per_dim
      >>> nats_to_bits_per_dim(16 * math.log(4), 16)  # uniform over 4 values: 2 bits each
      2.0
      >>> nats_to_bits_per_dim(np.array([0.0, 784 * math.log(2)]), 784)
      array([0., 1.])
    """
    return nll_nats / (num_dims * math.log(2.0))


def bits_per_dim(model, x, labels=None, *, features=None) -> float:
    """Mean negative log-likelihood divided by ``D * ln 2``, ``D`` = dimensions per example.

    Args:
      model: a registry model.
      x: (B, H, W, C) images (or (B, T) audio) of integers in 0..K-1.
      labels: (B,) class labels for class-conditional models, else None.
      features: local features as for ``log_prob`` (audio: bits per sample given them).

    Returns:
      The mean over the B examples, in bits per dimension (a Python float).

    Raises:
      InputError: as for ``log_prob``.

    Examples:
      >>> import math
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> x = np.zeros((2, 4, 4, 1), np.int32)
      >>> bits = autoreg.bits_per_dim(model, x)
      >>> nats = -float(np.mean(autoreg.log_prob(model, x)))
      >>> math.isclose(bits, nats / (16 * math.log(2)), rel_tol=1e-6)  # D = 4 * 4 * 1
      True
    """
    nll = -np.asarray(log_prob(model, x, labels, features=features), np.float64).mean()
    return float(nats_to_bits_per_dim(nll, math.prod(np.shape(x)[1:])))
