"""``sample`` and ``complete``: check the request, pick the model's sampler, run it.

The samplers themselves live in ``autoreg.sampling`` and are listed per model in the registry
(``autoreg.registry.MODELS[name].samplers``, the default first); each is a
``autoreg.sampling.ancestral.Sampler``. Completion adds one policy: a hole that is a suffix
of the data order is completed exactly by the ancestral samplers; any other hole by sequential
Monte Carlo (``autoreg.sampling.smc``), which also weighs the observed positions after it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.registry import samplers_for, sampling_methods
from autoreg.sampling.ancestral import as_key, observed_is_prefix
from autoreg.sampling.smc import smc_complete
from autoreg.validation import (
    check_data,
    check_features,
    check_labels,
    check_observed,
    check_temperature,
)

COMPLETION_POLICIES = ("auto", "exact", "smc")  # besides the model's own sampling methods


def run_sampler(
    model, key, x, observed, labels, temperature, method: str | None, features=None
) -> jax.Array:
    """Run the sampler ``method`` (default: the model's first) on validated inputs."""
    temperature = check_temperature(temperature)
    methods = sampling_methods(model)
    method = method or methods[0]
    if method not in methods:
        raise ValueError(
            f"sampling method {method!r} is not available for {model.name}; "
            f"available: {', '.join(methods)}"
        )
    sampler = samplers_for(model)[method]
    graphdef, state = nnx.split(model)
    labels = None if labels is None else jnp.asarray(labels)
    return sampler(
        graphdef,
        state,
        as_key(key),
        jnp.asarray(x),
        jnp.asarray(observed),
        labels,
        jnp.float32(temperature),
        features=None if features is None else jnp.asarray(features),
    )


def sample(
    model,
    key,
    num: int,
    *,
    temperature: float = 1.0,
    labels=None,
    length: int | None = None,
    method: str | None = None,
    features=None,
) -> jax.Array:
    """Draw ``num`` exact samples from the model by ancestral sampling.

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      num: number of samples.
      temperature: divides the logits; 1.0 samples the model's distribution exactly.
      labels: (num,) or scalar class labels for class-conditional models.
      length: number of time steps, for audio models only (default with features: all of
        theirs, ``frames * hop_length``).
      method: one of ``autoreg.sampling_methods(model)``: ``"naive"`` (re-run the network per
        position) or the model's faster method; default: the first (the fastest).
      features: (num, frames, F) local features (e.g. a log-mel spectrogram) for a locally
        conditioned model (vocoding), else None.

    Returns:
      (num, H, W, C) int32 samples (audio: (num, T)).

    Example:
      >>> x = autoreg.sample(model, jax.random.key(0), 16)
    """
    if not isinstance(num, int | np.integer) or num < 1:
        raise ValueError(f"num must be a positive integer, got {num!r}")
    if features is not None and length is None and not model.fixed_shape:
        length = int(np.shape(features)[1]) * model.config.hop_length if np.ndim(features) else 0
    shape = (int(num), *model.event_shape(length))
    labels = check_labels(model, labels, int(num))
    features = check_features(model, features, shape)
    x = np.zeros(shape, np.int32)
    return run_sampler(model, key, x, np.zeros(shape, bool), labels, temperature, method, features)


def completion_method(model, observed, method: str = "auto") -> str:
    """The sampling method ``complete`` uses: a sampler of the model, or ``"smc"``.

    ``"auto"``: the model's default sampler when every example's observed positions form a
    prefix of the data order (then ancestral completion is exact), ``"smc"`` otherwise.
    ``"exact"``: the model's default sampler, whatever the hole. Anything else is returned as
    given once it is known to be a method of the model or ``"smc"``.

    Args:
      observed: (B, *event) bool mask, already broadcast to the data's shape.
    """
    methods = sampling_methods(model)
    if method == "auto":
        return methods[0] if observed_is_prefix(observed) else "smc"
    if method == "exact":
        return methods[0]
    if method != "smc" and method not in methods:
        raise ValueError(
            f"completion method {method!r} is not available for {model.name}; "
            f"available: {', '.join([*COMPLETION_POLICIES, *methods])}"
        )
    return method


def complete(
    model,
    key,
    x,
    observed,
    *,
    temperature: float = 1.0,
    labels=None,
    method: str | None = "auto",
    particles: int = 64,
    features=None,
) -> jax.Array:
    """Sample the unobserved positions of ``x`` given the observed ones.

    Observed positions come back bit-identical. By default (``method="auto"``) a hole that is a
    suffix of the data order (the observed positions are a prefix, e.g. the top rows of an
    image) is completed EXACTLY by ancestral sampling with the model's default sampler, and any
    other hole (a box, a mask) by sequential Monte Carlo with ``particles`` particles per input
    (``autoreg.sampling.smc``: approximate, consistent as particles grow), because ancestral
    sampling would clamp the observed positions after the hole without looking ahead at them.

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      x: (B, H, W, C) integers in 0..K-1 (audio: (B, T)); values at unobserved positions ignored.
      observed: bool mask, (H, W), (H, W, C) or (B, H, W, C) (audio: (T,) or (B, T)).
      temperature, labels: as for ``sample``.
      method: ``"auto"`` (above; also for None), ``"exact"`` (ancestral with the default
        sampler whatever the hole), ``"smc"``, or one of ``autoreg.sampling_methods(model)``.
      particles: particles per input when SMC runs.
      features: (B, T // hop_length, F) local features of a locally conditioned model.

    Returns:
      (B, H, W, C) int32 completions (audio: (B, T)).
    """
    x = check_data(model, x)
    observed = check_observed(observed, x.shape)
    features = check_features(model, features, x.shape)
    method = completion_method(model, observed, method or "auto")
    if method == "smc":
        options = dict(particles=particles, labels=labels, temperature=temperature)
        return smc_complete(model, key, x, observed, features=features, **options)
    labels = check_labels(model, labels, x.shape[0])
    return run_sampler(model, key, x, observed, labels, temperature, method, features)
