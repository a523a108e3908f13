"""``sample`` and ``complete``: check the request, pick the model's sampler, run it.

The samplers themselves live in ``autoreg.sampling`` and are listed per model in the registry
(``autoreg.registry.MODELS[name].samplers``, the default first); each is a
``autoreg.sampling.ancestral.Sampler``. Completion adds one policy: a hole that is a suffix
of the data order is completed exactly by the ancestral samplers; any other hole by sequential
Monte Carlo (``autoreg.sampling.smc``), which also weighs the observed positions after it.

Both check first what the request needs (``autoreg.memory``): one that cannot fit is refused
before anything is allocated, and one that fits only in pieces runs in batches (``in_batches``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from tqdm.auto import tqdm

from autoreg.memory import BatchPlan, completion_plan, sample_plan
from autoreg.registry import samplers_for, sampling_method, sampling_methods
from autoreg.sampling.ancestral import as_key, observed_is_prefix
from autoreg.sampling.smc import smc_complete
from autoreg.validation import (
    check_count,
    check_data,
    check_features,
    check_labels,
    check_observed,
    check_temperature,
)

__all__ = ["complete", "completion_method", "in_batches", "sample"]

COMPLETION_POLICIES = ("auto", "exact", "smc")  # besides the model's own sampling methods


def run_sampler(
    model, key, x, observed, labels, temperature, method: str | None, features=None
) -> jax.Array:
    """Run the sampler ``method`` on validated inputs (default: the model's first method that
    runs on the platform of its parameters)."""
    temperature = check_temperature(temperature)
    sampler = sampling_method(model, method)
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
    progress: bool = True,
    features=None,
) -> jax.Array:
    """Draw ``num`` exact samples from the model by ancestral sampling.

    A request too large for one batch runs in batches (see ``in_batches`` for their keys); one
    that does not fit in memory at all is refused before anything is allocated.

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      num: number of samples.
      temperature: divides the logits; 1.0 samples the model's distribution exactly.
      labels: (num,) or scalar class labels for class-conditional models.
      length: number of time steps, for audio models only (default with features: all of
        theirs, ``frames * hop_length``).
      method: one of ``autoreg.sampling_methods(model)``: ``"naive"`` (re-run the network per
        position) or the model's faster method; default: the first (the fastest) of those that
        run on the platform of the model's parameters (the C++ WaveNet kernel runs on the CPU
        only; a method that does not run there is a ValueError naming those that do).
      progress: show a progress bar when the samples are drawn in several batches.
      features: (num, frames, F) local features (e.g. a log-mel spectrogram) for a locally
        conditioned model (vocoding), else None.

    Returns:
      (num, H, W, C) int32 samples (audio: (num, T)).

    Raises:
      ValueError: bad arguments (a count that is not positive, labels a model does not take or
        out of range, a method that does not exist or does not run here, a bad temperature).
      autoreg.memory.MemoryBudgetError: (a ValueError) a request that does not fit in
        ``autoreg.memory.memory_budget()``.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> samples = autoreg.sample(model, jax.random.key(0), 2)
      >>> samples.shape, samples.dtype, int(samples.min()) >= 0, int(samples.max()) < 4
      ((2, 4, 4, 1), dtype('int32'), True, True)
      >>> naive = autoreg.sample(model, jax.random.key(0), 2, method="naive")
      >>> bool((naive == samples).all())  # every method draws the same samples for a key
      True
    """
    num = check_count(num, "num")
    if features is not None and length is None and not model.fixed_shape:
        length = int(np.shape(features)[1]) * model.config.hop_length if np.ndim(features) else 0
    event = model.event_shape(length)
    labels = check_labels(model, labels, num)
    features = check_features(model, features, (num, *event))
    check_temperature(temperature)
    plan = sample_plan(model, num, event, method)

    def run(batch_key, rows):
        x = np.zeros((len(rows), *event), np.int32)
        batch_labels = None if labels is None else labels[rows]
        batch_features = None if features is None else features[rows]
        return run_sampler(
            model, batch_key, x, x != 0, batch_labels, temperature, method, batch_features
        )

    return in_batches(plan, key, run, progress=progress, desc="sample")


def in_batches(plan: BatchPlan, key, run, *, progress: bool = True, desc: str = "") -> jax.Array:
    """``run(key, rows)`` over the batches of ``plan``, joined in order.

    A request that fits in one batch is ``run(key, all rows)``: exactly the unbatched result.
    Otherwise batch ``b`` (rows ``b * plan.batch`` onwards) runs with ``fold_in(key, b)``, so the
    samples are deterministic for a key and a memory budget (the budget sets the batch size) but
    differ from those of one big batch. Every batch has ``plan.batch`` rows (the last one repeats
    its final row, dropped again) so that one compiled program serves them all.

    Args:
      plan: from ``autoreg.memory`` (``sample_plan``, ``completion_plan``).
      key: a JAX PRNG key or an int seed.
      run: ``fn(key, rows) -> (len(rows), ...)`` for an int array of row indices.
      progress: show a progress bar when there is more than one batch.
      desc: the progress bar's label.

    Returns:
      (plan.total, ...) the results of every row, in order.

    Examples:
      >>> import jax.numpy as jnp
      >>> from autoreg.generate import in_batches
      >>> from autoreg.memory import BatchPlan
      >>> def run(key, rows):  # each row's result: its index
      ...     return jnp.asarray(rows)
      >>> in_batches(BatchPlan(total=5, batch=2, needed=0), 0, run, progress=False)
      Array([0, 1, 2, 3, 4], dtype=int32)
    """
    key = as_key(key)
    if plan.num_batches == 1:
        return run(key, np.arange(plan.total))
    parts = []
    with tqdm(total=plan.total, desc=desc, disable=not progress, leave=False) as bar:
        for b, start in enumerate(range(0, plan.total, plan.batch)):
            rows = np.minimum(np.arange(start, start + plan.batch), plan.total - 1)
            real = min(plan.batch, plan.total - start)
            parts.append(run(jax.random.fold_in(key, b), rows)[:real])
            bar.update(real)
    return jnp.concatenate(parts)


def completion_method(model, observed, method: str = "auto") -> str:
    """The sampling method ``complete`` uses: a sampler of the model, or ``"smc"``.

    Methods are those that run on the platform of the model's parameters.
    ``"auto"``: the model's default sampler when every example's observed positions form a
    prefix of the data order (then ancestral completion is exact), ``"smc"`` otherwise.
    ``"exact"``: the model's default sampler, whatever the hole. Anything else is returned as
    given once it is known to be a method of the model or ``"smc"``.

    Args:
      model: a registry model.
      observed: (B, *event) bool mask, already broadcast to the data's shape.
      method: ``"auto"``, ``"exact"``, ``"smc"`` or one of ``autoreg.sampling_methods(model)``.

    Returns:
      The method's name: one of ``autoreg.sampling_methods(model)``, or ``"smc"``.

    Raises:
      ValueError: a method the model does not have, or one that does not run on the platform
        of its parameters.

    Examples:
      >>> from autoreg.generate import completion_method
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> observed = np.zeros((1, 4, 4, 1), bool)
      >>> observed[:, :2] = True  # the top two rows: a prefix of the raster order
      >>> completion_method(model, observed)
      'cached'
      >>> observed[:, 3] = True  # the bottom row as well: the hole is no longer a suffix
      >>> completion_method(model, observed)
      'smc'
    """
    methods = sampling_methods(model)
    if method == "auto":
        return methods[0] if observed_is_prefix(observed) else "smc"
    if method == "exact":
        return methods[0]
    if method == "smc":
        return method
    if method not in samplers_for(model):
        raise ValueError(
            f"completion method {method!r} is not available for {model.name}; "
            f"available: {', '.join([*COMPLETION_POLICIES, *methods])}"
        )
    sampling_method(model, method)  # a method of the model that does not run here: say so
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
    progress: bool = True,
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
      temperature: divides the logits, as for ``sample``.
      labels: (B,) or scalar class labels for class-conditional models.
      method: ``"auto"`` (above; also for None), ``"exact"`` (ancestral with the default
        sampler whatever the hole), ``"smc"``, or one of ``autoreg.sampling_methods(model)``.
      particles: particles per input when SMC runs.
      progress: show a progress bar when the inputs are completed in several batches.
      features: (B, T // hop_length, F) local features of a locally conditioned model.

    Inputs too many for one batch (SMC holds ``particles`` forward passes per input) run in
    batches, keyed as ``in_batches`` says; a request that cannot fit is refused first.

    Returns:
      (B, H, W, C) int32 completions (audio: (B, T)).

    Raises:
      ValueError: bad arguments (data out of range or of the wrong shape, a mask that does not
        broadcast, labels a model does not take, an unknown method, a bad temperature or
        particle count).
      autoreg.memory.MemoryBudgetError: (a ValueError) a request that cannot fit.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> x = np.full((2, 4, 4, 1), 3, np.int32)
      >>> observed = np.zeros((4, 4), bool)
      >>> observed[:2] = True  # keep the top two rows, complete the bottom two (exactly)
      >>> out = np.asarray(autoreg.complete(model, jax.random.key(0), x, observed))
      >>> out.shape, bool((out[:, :2] == 3).all())
      ((2, 4, 4, 1), True)
    """
    x = check_data(model, x)
    observed = check_observed(observed, x.shape)
    features = check_features(model, features, x.shape)
    method = completion_method(model, observed, method or "auto")
    labels = check_labels(model, labels, x.shape[0])
    check_temperature(temperature)
    particles = check_count(particles, "particles")
    plan = completion_plan(model, x.shape[0], x.shape[1:], method, particles)

    def run(batch_key, rows):
        batch_labels = None if labels is None else labels[rows]
        batch_features = None if features is None else features[rows]
        if method == "smc":
            return smc_complete(
                model,
                batch_key,
                x[rows],
                observed[rows],
                particles=particles,
                labels=batch_labels,
                temperature=temperature,
                features=batch_features,
            )
        return run_sampler(
            model,
            batch_key,
            x[rows],
            observed[rows],
            batch_labels,
            temperature,
            method,
            batch_features,
        )

    return in_batches(plan, key, run, progress=progress, desc="complete")
