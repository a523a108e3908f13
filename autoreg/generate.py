"""``sample``, ``complete`` and ``smc_complete``: check the request, pick the model's sampler,
run it.

The samplers themselves live in ``autoreg.sampling`` and are listed per model in the registry
(``autoreg.registry.MODELS[name].samplers``, the default first); each is a
``autoreg.sampling.ancestral.Sampler``. Completion adds one policy: a hole that is a suffix
of the data order (the observed positions are a prefix, e.g. the top rows of an image) is
completed EXACTLY by the ancestral samplers; any other hole (a box, a mask) by sequential Monte
Carlo, ``smc_complete``, because ancestral sampling would clamp the observed positions after
the hole without looking ahead at them.

SMC targets ``p(hole | every observed position)``, proportional to the model's ``p(x)``; each
completion is one draw from a weighted particle set (sampling-importance-resampling with
resampling along the way, ``autoreg.sampling.smc``). It is biased for a finite number of
particles and consistent as they grow; on a suffix hole no weight ever differs, and it is exact
for any number. The particle filter is the model's fastest (``autoreg.registry
.particle_filters``): on a cached sampler (every image and video family) B inputs cost about as
much as sampling ``B * particles`` examples; ``"naive"``, the reference filter, runs the
network once per position of the hole and returns the same completions.

Every run shows a progress bar over the rows of the data (``autoreg.sampling.progress``) once
it takes more than a second, with the time left, and says in one line how long it will take
when that is more than about 20 s. Each call splits the model once (``Split``) for every batch
it runs.

Both check first what the request needs (``autoreg.memory``): one that cannot fit is refused
before anything is allocated, and one that fits only in pieces runs in batches (``in_batches``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from tqdm.auto import tqdm

from autoreg.errors import InputError
from autoreg.memory import BatchPlan, completion_plan, sample_plan
from autoreg.registry import particle_filter, samplers_for, sampling_method, sampling_methods
from autoreg.sampling.ancestral import as_key, observed_is_prefix
from autoreg.sampling.progress import RowProgress
from autoreg.validation import (
    check_count,
    check_data,
    check_features,
    check_labels,
    check_observed,
    check_temperature,
)

__all__ = ["complete", "completion_method", "in_batches", "row_progress", "sample", "smc_complete"]

COMPLETION_POLICIES = ("auto", "exact", "smc")  # besides the model's own sampling methods
DEFAULT_ESS_THRESHOLD = 0.5  # SMC resamples an input when its ESS falls below this times P


class Split(NamedTuple):
    """A model split once per call (``nnx.split``): what the compiled samplers take.

    Attributes:
      model: the model (for its name, levels and sampler tables).
      graphdef: ``nnx.split(model)[0]``, static under jit.
      state: ``nnx.split(model)[1]``.
    """

    model: Any
    graphdef: Any
    state: Any


def split(model) -> Split:
    """``Split`` of ``model``."""
    graphdef, state = nnx.split(model)
    return Split(model, graphdef, state)


def run_sampler(
    parts: Split, key, x, observed, labels, temperature, method: str | None, features=None
) -> jax.Array:
    """Run the sampler ``method`` on validated inputs (default: the model's first method that
    runs on the platform of its parameters)."""
    sampler = sampling_method(parts.model, method)
    return sampler(
        parts.graphdef,
        parts.state,
        as_key(key),
        jnp.asarray(x),
        jnp.asarray(observed),
        None if labels is None else jnp.asarray(labels),
        jnp.float32(temperature),
        features=None if features is None else jnp.asarray(features),
    )


def run_particle_filter(
    parts: Split, key, x, observed, labels, temperature, particles, ess_threshold, method, features
) -> jax.Array:
    """Run the particle filter ``method`` (default: the model's first that runs on the
    platform of its parameters) on validated inputs; the completions."""
    samples, _ = particle_filter(parts.model, method)(
        parts.graphdef,
        parts.state,
        as_key(key),
        jnp.asarray(x),
        jnp.asarray(observed),
        None if labels is None else jnp.asarray(labels),
        jnp.float32(temperature),
        int(particles),
        jnp.float32(ess_threshold),
        None if features is None else jnp.asarray(features),
    )
    return samples


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
      progress: show a progress bar over the rows drawn (once the work takes over a second).
      features: (num, frames, F) local features (e.g. a log-mel spectrogram) for a locally
        conditioned model (vocoding), else None.

    Returns:
      (num, H, W, C) int32 samples (audio: (num, T)).

    Raises:
      InputError: bad arguments (a count that is not positive, labels a model does not take or
        out of range, a method that does not exist or does not run here, a bad temperature).
      autoreg.errors.MemoryBudgetError: (a ValueError) a request that does not fit in
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
    event = model.modality.sample_shape(model, length, features)
    labels = check_labels(model, labels, num)
    features = check_features(model, features, (num, *event))
    temperature = check_temperature(temperature)
    plan = sample_plan(model, num, event, method)

    parts = split(model)

    def run(batch_key, rows):
        x = np.zeros((len(rows), *event), np.int32)
        batch_labels = None if labels is None else labels[rows]
        batch_features = None if features is None else features[rows]
        return run_sampler(
            parts, batch_key, x, x != 0, batch_labels, temperature, method, batch_features
        )

    with row_progress(event, plan.num_batches, "sample", enabled=progress) as rows:
        return in_batches(plan, key, run, progress=progress, desc="sample", rows=rows)


def in_batches(
    plan: BatchPlan,
    key,
    run,
    *,
    progress: bool = True,
    desc: str = "",
    rows: RowProgress | None = None,
) -> jax.Array:
    """``run(key, rows)`` over the batches of ``plan``, joined in order.

    A request that fits in one batch is ``run(key, all rows)``: exactly the unbatched result.
    Otherwise batch ``b`` (rows ``b * plan.batch`` onwards) runs with ``fold_in(key, b)``, so the
    samples are deterministic for a key and a memory budget (the budget sets the batch size) but
    differ from those of one big batch. Every batch has ``plan.batch`` rows (the last one repeats
    its final row, dropped again) so that one compiled program serves them all. Each batch is
    finished before the next starts, so that a progress bar follows the work.

    Args:
      plan: from ``autoreg.memory`` (``sample_plan``, ``completion_plan``).
      key: a JAX PRNG key or an int seed.
      run: ``fn(key, rows) -> (len(rows), ...)`` for an int array of row indices.
      progress: show a progress bar over the batches when there is more than one (and no
        ``rows``).
      desc: the progress bar's label.
      rows: the ``RowProgress`` that follows the sampler inside each batch (told when the
        next batch starts); it replaces the bar over batches.

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
        return jax.block_until_ready(run(key, np.arange(plan.total)))
    parts = []
    shown = progress and rows is None
    with tqdm(total=plan.total, desc=desc, disable=not shown, leave=False) as bar:
        for b, start in enumerate(range(0, plan.total, plan.batch)):
            if b and rows is not None:
                rows.next_run()
            batch_rows = np.minimum(np.arange(start, start + plan.batch), plan.total - 1)
            real = min(plan.batch, plan.total - start)
            parts.append(jax.block_until_ready(run(jax.random.fold_in(key, b), batch_rows))[:real])
            bar.update(real)
    return jnp.concatenate(parts)


def row_progress(
    event_shape: tuple,
    runs: int,
    desc: str,
    *,
    enabled: bool = True,
    on_progress: Callable[[float, str], None] | None = None,
) -> contextlib.AbstractContextManager:
    """The progress bar of sampling or completing data of ``event_shape`` in ``runs`` batches.

    Images and video count rows (W * C positions each); audio counts samples. The bar shows
    after a second, or at once when the work runs in several batches.

    Args:
      event_shape: one example's shape: (H, W, C), (T, H, W, C) or (T,).
      runs: the number of batches.
      desc: the bar's label.
      enabled: show the bar.
      on_progress: called with ``(fraction done, text)`` after each row (a GUI's bar).

    Returns:
      A context manager: the ``autoreg.sampling.progress.RowProgress``, or, when it would
      neither show a bar nor call ``on_progress``, one that listens to nothing (so that the
      reports reach a listener around it) and gives None.

    Examples:
      >>> from autoreg.generate import row_progress
      >>> bar = row_progress((28, 28, 1), 2, "complete", on_progress=print)
      >>> bar.total, bar.per_row
      (56, 28)
      >>> with row_progress((28, 28, 1), 2, "complete", enabled=False) as bar:
      ...     bar is None
      True
    """
    if not enabled and on_progress is None:
        return contextlib.nullcontext()
    per_row = math.prod(event_shape[-2:]) if len(event_shape) >= 3 else 1
    return RowProgress(
        math.prod(event_shape),
        per_row,
        runs=runs,
        desc=desc,
        enabled=enabled,
        on_update=on_progress,
        unit="row" if len(event_shape) >= 3 else "sample",
        delay=0.0 if runs > 1 else 1.0,
    )


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
      InputError: a method the model does not have, or one that does not run on the platform
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
        raise InputError(
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
    on_progress: Callable[[float, str], None] | None = None,
) -> jax.Array:
    """Sample the unobserved positions of ``x`` given the observed ones.

    Observed positions come back bit-identical. ``method="auto"`` completes a hole that is a
    suffix of the data order exactly and any other hole by SMC with ``particles`` particles per
    input (the module docstring says why and at what cost). Inputs too many for one batch run
    in batches, keyed as ``in_batches`` says; a request that cannot fit is refused first.

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      x: (B, H, W, C) integers in 0..K-1 (audio: (B, T)); values at unobserved positions ignored.
      observed: bool mask, (H, W), (H, W, C) or (B, H, W, C) (audio: (T,) or (B, T)).
      temperature: divides the logits, as for ``sample``.
      labels: (B,) or scalar class labels for class-conditional models.
      method: ``"auto"`` (also for None), ``"exact"`` (ancestral with the default sampler
        whatever the hole), ``"smc"``, or one of ``autoreg.sampling_methods(model)``.
      particles: particles per input when SMC runs.
      progress: show a progress bar over the rows (once the work takes over a second), and
        say how long it will take when that is more than about 20 s.
      features: (B, T // hop_length, F) local features of a locally conditioned model.
      on_progress: called with ``(fraction done, text)`` after each row (a GUI's bar).

    Returns:
      (B, H, W, C) int32 completions (audio: (B, T)).

    Raises:
      InputError: bad data, mask, labels, method, temperature or particle count.
      autoreg.errors.MemoryBudgetError: a request that cannot fit.

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
    temperature = check_temperature(temperature)
    particles = check_count(particles, "particles")
    plan = completion_plan(model, x.shape[0], x.shape[1:], method, particles)
    run = completion_runner(
        split(model), x, observed, labels, features, temperature, method, particles
    )
    desc = f"complete (SMC, {particles} particles)" if method == "smc" else "complete"
    bar = row_progress(
        x.shape[1:], plan.num_batches, desc, enabled=progress, on_progress=on_progress
    )
    with bar as rows:
        return in_batches(plan, key, run, progress=progress, desc="complete", rows=rows)


def completion_runner(
    parts: Split, x, observed, labels, features, temperature, method: str, particles: int
):
    """``run(key, rows)`` for ``in_batches``: the rows of ``x`` completed by ``method`` (a
    sampler of the model, or ``"smc"``: its default particle filter with ``particles``)."""

    def run(batch_key, rows):
        args = (
            parts,
            batch_key,
            x[rows],
            observed[rows],
            None if labels is None else labels[rows],
            temperature,
        )
        batch_features = None if features is None else features[rows]
        if method == "smc":
            return run_particle_filter(
                *args, particles, DEFAULT_ESS_THRESHOLD, None, batch_features
            )
        return run_sampler(*args, method, batch_features)

    return run


def smc_complete(
    model,
    key,
    x,
    observed,
    *,
    particles: int = 64,
    labels=None,
    temperature: float = 1.0,
    ess_threshold: float = DEFAULT_ESS_THRESHOLD,
    features=None,
    method: str | None = None,
    progress: bool = False,
) -> jax.Array:
    """Complete arbitrary holes (a box, a mask) with a sequential Monte Carlo sampler.

    Exact on a hole that is a suffix of the data order, approximate (consistent as ``particles``
    grow) on any other; the module docstring says how and at what cost. One batch: memory grows
    with ``B * particles`` (``autoreg.complete`` splits a request into batches).

    Args:
      model: a registry model.
      key: a JAX PRNG key (or an int seed).
      x: (B, H, W, C) integers in 0..K-1 (audio: (B, T)); values at unobserved positions ignored.
        Repeat an input along B for several independent completions of it.
      observed: bool mask, (H, W), (H, W, C) or (B, H, W, C) (audio: (T,) or (B, T)).
      particles: P >= 1 particles per input; 1 reproduces ``complete(..., method="naive")``.
      labels: (B,) or scalar class labels for class-conditional models.
      temperature: divides the logits, for the proposal and the weights alike (the target is
        the tempered model); 1.0 targets the model itself.
      ess_threshold: in [0, 1]; an input's particles are resampled when their effective sample
        size falls below ``ess_threshold * particles``. 0 never resamples (plain importance
        sampling with one final weighting); 1 resamples whenever the weights are uneven.
      features: (B, T // hop_length, F) local features of a locally conditioned model.
      method: one of ``autoreg.registry.particle_filters(model)`` (default: the first).
      progress: show a progress bar over the rows.

    Returns:
      (B, H, W, C) int32 completions (audio: (B, T)); observed positions are bit-identical to x.

    Raises:
      InputError: bad data, mask, labels, temperature, particles, ess_threshold or method.

    Examples:
      >>> from autoreg.generate import smc_complete
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> images = np.zeros((2, 4, 4, 1), np.int32)
      >>> observed = np.ones((4, 4), bool)
      >>> observed[1:3, 1:3] = False  # a hole in the middle: not a suffix of the raster order
      >>> out = smc_complete(model, jax.random.key(0), images, observed, particles=4)
      >>> out.shape, bool((np.asarray(out)[:, observed] == 0).all())  # observed pixels kept
      ((2, 4, 4, 1), True)
    """
    particles = check_count(particles, "particles")
    if not (isinstance(ess_threshold, int | float) and 0.0 <= ess_threshold <= 1.0):
        raise InputError(f"ess_threshold must be a number in [0, 1], got {ess_threshold!r}")
    temperature = check_temperature(temperature)
    x = check_data(model, x)
    observed = check_observed(observed, x.shape)
    labels = check_labels(model, labels, x.shape[0])
    features = check_features(model, features, x.shape)
    particle_filter(model, method)  # an unknown method: say so before anything runs
    args = (split(model), key, x, observed, labels, temperature, particles, ess_threshold)
    with row_progress(x.shape[1:], 1, f"SMC, {particles} particles", enabled=progress):
        return jax.block_until_ready(run_particle_filter(*args, method, features))
