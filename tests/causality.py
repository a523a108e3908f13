"""Shared checks of the autoregressive property, used by the tests of every model."""

from __future__ import annotations

import math

import numpy as np


def perturbed_suffix_batch(x: np.ndarray, levels: int, seed: int = 0) -> np.ndarray:
    """(1 + D, *event) batch: ``x`` then, for each flat position p, ``x`` with every position
    at or after p replaced by a different random value."""
    rng = np.random.default_rng(seed)
    flat = x.reshape(-1)
    d = flat.size
    batch = np.repeat(flat[None], d + 1, axis=0)
    for p in range(d):
        noise = (flat[p:] + rng.integers(1, levels, size=d - p)) % levels  # differs everywhere
        batch[p + 1, p:] = noise
    return batch.reshape((d + 1,) + x.shape)


def causality_violations(logits_fn, x: np.ndarray, levels: int) -> list:
    """Flat positions p whose logits change when positions >= p change (empty: causal).

    The check is bit for bit. Each perturbed example is compared with ``x`` computed in the same
    batch slot (a second batch of ``x`` repeated): XLA's CPU matrix products round the rows of a
    block's tail differently from the others, so the same example can differ in the last bit
    between two slots of one batch (measured: 1.5e-8 at one position of a Diagonal BiLSTM on
    the convolution path). In one slot the arithmetic is fixed and a masked weight is an exact
    zero, so a later position cannot move a causal logit by even one bit.

    Args:
      logits_fn: (N, *event) ints -> (N, *event, K) logits.
      x: (*event) integers, one data point.
    """
    batch = perturbed_suffix_batch(x, levels)
    d = math.prod(x.shape)
    logits = np.asarray(logits_fn(batch)).reshape(d + 1, d, -1)
    same = np.asarray(logits_fn(np.repeat(x[None], d + 1, axis=0))).reshape(d + 1, d, -1)
    return [p for p in range(d) if not np.array_equal(logits[p + 1, p], same[p + 1, p])]


def dependence_on_earlier(logits_fn, x: np.ndarray, levels: int, p: int) -> list:
    """Earlier flat positions q < p whose change alters the logits at p."""
    flat = x.reshape(-1)
    batch = np.repeat(flat[None], p + 1, axis=0)
    for q in range(p):
        batch[q + 1, q] = (flat[q] + levels // 2) % levels
    logits = np.asarray(logits_fn(batch.reshape((p + 1,) + x.shape)))
    logits = logits.reshape(p + 1, flat.size, -1)[:, p]
    return [q for q in range(p) if not np.allclose(logits[q + 1], logits[0], atol=0, rtol=0)]
