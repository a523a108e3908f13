"""How much memory a request needs, checked against one budget before anything is allocated.

Every large allocation of a command (the samples, the sampler's working memory, SMC's particles,
an evaluation batch, a texture canvas, a picture) is estimated here first. A request whose
smallest form does not fit in ``memory_budget()`` is refused with a ``MemoryBudgetError`` (a
``ValueError``) that says how much it needs and what the limit is; one that fits only in pieces
gets a ``BatchPlan`` and runs in batches.

On a GPU or TPU the budget is also bounded by what the device can still allocate
(``device.memory_stats()``): a request that fits in the host's RAM but not in the accelerator's
memory is refused in one line instead of failing inside XLA.

The estimates are deliberately simple upper bounds (a forward pass holds the logits and a few
copies of the widest activation), not measurements: they exist to turn "2.85 TiB" into one clear
line before NumPy or XLA try to allocate it, not to pack memory tightly. What a model holds is
its own answer: the class methods ``widest_activation``, ``network_depth`` and
``attention_arrays`` of its config (``autoreg.models.base.AutoregressiveModel``), which this
module asks of a model, or of a bare config through the registry's model class.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from pathlib import Path

from autoreg import platforms
from autoreg.errors import InputError, InputTypeError, MemoryBudgetError

__all__ = [
    "BatchPlan",
    "MemoryBudgetError",
    "check_fits",
    "check_training",
    "completion_plan",
    "device_free_memory",
    "evaluation_batch",
    "format_bytes",
    "forward_bytes",
    "memory_budget",
    "parse_size",
    "plan_batches",
    "sample_plan",
    "training_bytes",
]

ENV = "AUTOREG_MEMORY_LIMIT"  # e.g. "8G", "512M", "1.5GiB" or a number of bytes
RAM_FRACTION = 0.5  # default budget: this fraction of the machine's RAM
ACTIVATIONS = 4  # live copies of the widest activation during a forward pass
STREAM_BYTES = 24  # per time step of a streaming (queue) sampler: data, mask, padded copies, output
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}


def parse_size(text: str) -> int:
    """A memory size as ``$AUTOREG_MEMORY_LIMIT`` takes it, in bytes (binary units).

    Args:
      text: a positive number with an optional unit ``K``, ``M``, ``G``, ``T`` or ``P``
        (powers of 1024), optionally followed by ``B`` or ``iB``, any case:
        ``"8G"``, ``"512 MiB"``, ``"1.5g"`` or ``"1000000"``.

    Returns:
      The number of bytes (rounded down).

    Raises:
      InputError: anything else, or a size that is not positive.

    Examples:
      >>> from autoreg.memory import parse_size
      >>> parse_size("8G"), parse_size("512 MiB"), parse_size("1.5g"), parse_size("1000000")
      (8589934592, 536870912, 1610612736, 1000000)
      >>> parse_size("lots")
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: AUTOREG_MEMORY_LIMIT='lots' is not a memory size (e.g. 8G,
      512M or bytes)
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgtp]?)(i?b)?\s*", str(text), re.IGNORECASE)
    if not match or float(match[1]) <= 0:
        raise InputError(f"{ENV}={text!r} is not a memory size (e.g. 8G, 512M or bytes)")
    return int(float(match[1]) * UNITS[match[2].lower()])


def machine_memory() -> int:
    """Bytes of RAM of this machine (``os.sysconf``), or of its cgroup when that is smaller."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def host_budget() -> int:
    """Bytes of host memory one request may use: ``$AUTOREG_MEMORY_LIMIT``, else half the RAM."""
    text = os.environ.get(ENV)
    return parse_size(text) if text else int(machine_memory() * RAM_FRACTION)


def device_free_memory(device=None) -> int | None:
    """Bytes an accelerator can still allocate, from ``device.memory_stats()``.

    Args:
      device: a ``jax.Device`` (default: JAX's default device).

    Returns:
      ``bytes_limit - bytes_in_use`` of a GPU or TPU; None for the CPU (whose memory is the
      host's) or a device that reports no statistics.

    Examples:
      >>> from autoreg.memory import device_free_memory
      >>> device_free_memory(jax.devices("cpu")[0]) is None  # a CPU's memory is the host's
      True
    """
    device = platforms.default_device() if device is None else device
    if platforms.device_platform(device) == "cpu":
        return None
    try:
        stats = device.memory_stats()
    except (NotImplementedError, RuntimeError):
        return None
    if not stats or "bytes_limit" not in stats:
        return None
    return max(0, int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0)))


def memory_budget(device=None) -> int:
    """Bytes one request may use: the host budget (``$AUTOREG_MEMORY_LIMIT``, else half of the
    machine's RAM), and on a GPU or TPU no more than the device can still allocate.

    Args:
      device: the ``jax.Device`` the work runs on (default: JAX's default device).

    Returns:
      The budget in bytes.

    Raises:
      InputError: ``$AUTOREG_MEMORY_LIMIT`` is set but is not a memory size (``parse_size``).

    Examples:
      >>> from autoreg.memory import format_bytes, memory_budget
      >>> memory_budget() > 0
      True
      >>> format_bytes(memory_budget())  # e.g. half of this machine's RAM
      '... GiB'
    """
    free = device_free_memory(device)
    host = host_budget()
    return host if free is None else min(host, free)


def budget_text(device=None) -> str:
    """Where the budget comes from, for messages."""
    free = device_free_memory(device)
    if free is not None and free < host_budget():
        device = platforms.default_device() if device is None else device
        return f"the free memory of {device.device_kind} {device.id} ({device.platform})"
    if os.environ.get(ENV):
        return f"{ENV}={os.environ[ENV]}"
    return f"half of this machine's RAM; set {ENV} to change it"


def format_bytes(count: float) -> str:
    """A byte count in binary units, for messages.

    Args:
      count: bytes.

    Returns:
      ``"N B"`` below 1 KiB, else the count in KiB, MiB, GiB, TiB or PiB with two decimals.

    Examples:
      >>> from autoreg.memory import format_bytes
      >>> format_bytes(100), format_bytes(1536), format_bytes(3 * 2**40)
      ('100 B', '1.50 KiB', '3.00 TiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.2f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def check_fits(what: str, needed: int, budget: int | None = None, advice: str = "") -> None:
    """A ``MemoryBudgetError`` when ``what`` needs more than the budget.

    Args:
      what: the request, e.g. ``"sampling 16 images of 28x28x1"``.
      needed: bytes it needs.
      budget: bytes allowed (default ``memory_budget()``).
      advice: what to do instead, appended to the message after a semicolon.

    Raises:
      MemoryBudgetError: ``needed > budget``.

    Examples:
      >>> from autoreg.memory import check_fits
      >>> check_fits("a small request", 2**20, budget=2**30)  # fits: nothing happens
      >>> check_fits("sampling 16 images", 2**40, budget=2**30, advice="sample fewer")
      Traceback (most recent call last):
      ...
      autoreg.errors.MemoryBudgetError: sampling 16 images needs 1.00 TiB, more than the
      memory limit of 1.00 GiB (...); sample fewer
    """
    budget = memory_budget() if budget is None else budget
    if needed > budget:
        raise MemoryBudgetError(
            f"{what} needs {format_bytes(needed)}, more than the memory limit of "
            f"{format_bytes(budget)} ({budget_text()})" + (f"; {advice}" if advice else "")
        )


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """How a request of ``total`` examples runs: batches of at most ``batch`` examples.

    Attributes:
      total: examples asked for.
      batch: examples per batch, 1..total.
      needed: bytes of the whole request run in these batches.

    Examples:
      >>> from autoreg.memory import BatchPlan
      >>> plan = BatchPlan(total=10, batch=4, needed=10_000)
      >>> plan.num_batches
      3
    """

    total: int  # examples asked for
    batch: int  # examples per batch, 1..total
    needed: int  # bytes of the whole request run in these batches

    @property
    def num_batches(self) -> int:
        """Number of batches."""
        return math.ceil(self.total / self.batch)


def plan_batches(what: str, total: int, kept: int, work: int) -> BatchPlan:
    """The largest batches that fit: ``total * kept + batch * work <= memory_budget()``.

    Args:
      what: the request, for the message.
      total: examples asked for.
      kept: bytes each example holds until the end (its result).
      work: bytes each example of a batch holds while that batch runs.

    Returns:
      The ``BatchPlan``: all ``total`` examples in one batch when they fit.

    Raises:
      MemoryBudgetError: even one example at a time does not fit.

    Examples:
      >>> from autoreg.memory import plan_batches
      >>> plan_batches("a small request", total=10, kept=100, work=1000)
      BatchPlan(total=10, batch=10, needed=11000)
    """
    budget = memory_budget()
    check_fits(what, total * kept + work, budget)
    batch = max(1, min(total, (budget - total * kept) // max(work, 1)))
    return BatchPlan(total, batch, total * kept + batch * work)


def model_class_and_config(model, config=None) -> tuple[type, object]:
    """The model class that answers the memory questions of ``model``, and its config.

    Args:
      model: a model (its class answers, of its ``config``), or a model class (of ``config``:
        a checkpoint's, or a texture model's, sized before any model exists).
      config: the config of a model class; None for a model.

    Returns:
      ``(model class, config)``; the class's ``widest_activation``, ``network_depth`` and
      ``attention_arrays`` (``autoreg.models.base.AutoregressiveModel``) size it.

    Raises:
      InputTypeError: a model class without its config, or no model.
    """
    if isinstance(model, type):
        if config is None:
            raise InputTypeError(f"sizing the model class {model.__name__} needs its config")
        return model, config
    if not hasattr(model, "config"):
        raise InputTypeError(
            f"a model, or a model class with its config, is sized; got a {type(model).__name__}"
        )
    return type(model), model.config if config is None else config


def forward_bytes(model, positions: int, config=None) -> int:
    """Bytes of one example's forward pass over ``positions`` positions.

    The K float32 logits (and their log-softmax) and ``ACTIVATIONS`` copies of the widest
    activation at each position, plus the float32 attention arrays of a model with attention,
    as the model says them (``model_class_and_config``).

    Args:
      model: a model, or a model class (with ``config``).
      positions: the example's positions (H * W * C for an image, T for audio).
      config: the config of a model class (None for a model).

    Returns:
      The estimate in bytes.

    Raises:
      InputTypeError: a model class without its config.

    Examples:
      >>> from autoreg.memory import forward_bytes
      >>> from autoreg.models.pixelcnn import PixelCNN
      >>> config = autoreg.registry.make_config("pixelcnn", "tiny", levels=4, image_shape=(4, 4, 1))
      >>> forward_bytes(PixelCNN, 16, config)  # 4 B * 16 * (2 * 4 levels + 4 copies * width 8)
      2560
    """
    model_cls, config = model_class_and_config(model, config)
    width = model_cls.widest_activation(config)
    attention = sum(math.prod(shape) for shape in model_cls.attention_arrays(config, positions))
    return 4 * positions * (2 * config.levels + ACTIVATIONS * width) + 4 * attention


def training_bytes(
    model, batch_size: int, event_shape: tuple, *, ema: bool = False, compute_bytes: int = 4
) -> int:
    """Bytes of one training step of ``model`` on a batch of ``batch_size`` examples.

    The state (float32 parameters, their gradients and updates, Adam's two moments, the EMA)
    plus, for each example, its forward pass (``forward_bytes``), the gradient of its logits and
    ``ACTIVATIONS`` copies of the widest activation per layer (the model's ``network_depth``)
    at each position, kept for the backward pass.

    Args:
      model: a registry model.
      batch_size: examples per step (on the devices that share this memory).
      event_shape: one example's shape, e.g. (28, 28, 1) or (8000,).
      ema: an EMA of the parameters is kept.
      compute_bytes: bytes per activation value (4 for float32, 2 for bfloat16).

    Returns:
      The estimate in bytes.

    Examples:
      >>> from autoreg.memory import format_bytes, training_bytes
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> format_bytes(training_bytes(model, 32, (4, 4, 1)))
      '227.14 KiB'
    """
    import jax  # for models only: the module stays light to import
    from flax import nnx

    model_cls, config = model_class_and_config(model)
    params = sum(leaf.size for leaf in jax.tree.leaves(nnx.state(model, nnx.Param)))
    state = 4 * params * (5 + int(ema))
    positions = math.prod(event_shape)
    layers = model_cls.widest_activation(config) * model_cls.network_depth(config)
    saved = positions * ACTIVATIONS * layers
    per_example = forward_bytes(model, positions) + 4 * positions * config.levels
    per_example += compute_bytes * saved + 4 * positions  # and the int32 batch
    return state + batch_size * per_example


def check_training(
    model,
    batch_size: int,
    event_shape: tuple,
    *,
    devices: int = 1,
    shared: bool = True,
    ema: bool = False,
    compute_bytes: int = 4,
    device=None,
) -> None:
    """Refuse a training step that does not fit, naming the largest batch size that does.

    Args:
      model: a registry model.
      batch_size: the global batch, split evenly over ``devices``.
      event_shape: one example's shape.
      devices: devices the batch is split over.
      shared: the devices share one memory (CPU devices, the host's RAM): the whole batch and
        a copy of the state per device count against the budget; otherwise one device's part.
      ema: an EMA of the parameters is kept.
      compute_bytes: bytes per activation value (4 for float32, 2 for bfloat16).
      device: the device whose budget applies (default: JAX's default device).

    Raises:
      MemoryBudgetError: the step does not fit; the message names the largest batch that does.

    Examples:
      >>> from autoreg.memory import check_training
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> check_training(model, 32, (4, 4, 1))  # fits: nothing happens
      >>> check_training(model, 10**12, (4, 4, 1))
      Traceback (most recent call last):
      ...
      autoreg.errors.MemoryBudgetError: training pixelcnn with a batch of 1000000000000
      images of 4x4x1 needs ...; use a batch size of at most ... (--batch-size)
    """
    options = dict(ema=ema, compute_bytes=compute_bytes)

    def needed(batch: int) -> int:
        if shared:
            state = training_bytes(model, 0, event_shape, **options)
            return (devices - 1) * state + training_bytes(model, batch, event_shape, **options)
        return training_bytes(model, batch // devices, event_shape, **options)

    budget = memory_budget(device)
    total = needed(batch_size)
    if total <= budget:
        return
    per_step = needed(devices) - needed(0)  # bytes of `devices` more examples
    best = (budget - needed(0)) // per_step * devices if budget > needed(0) else 0
    if best >= devices:
        advice = f"use a batch size of at most {best} (--batch-size)"
    else:
        advice = "not even one example per device fits: use a smaller model or more memory"
    batch = model.modality.describe(batch_size, tuple(event_shape))
    what = f"training {model.name} with a batch of {batch}"
    check_fits(what, total, budget, advice)


def network_sampling_work(model, positions: int, config=None) -> int:
    """Bytes per example of a sampler that runs the network of ``model`` (or of a model class
    with ``config``) over all ``positions`` at once: a forward pass, plus the example's data
    and mask."""
    return forward_bytes(model, positions, config) + 8 * positions


def sampling_work(model, positions: int, method: str | None) -> int:
    """Bytes each example holds while its batch is sampled with ``method`` (None: the default):
    about a forward pass, or what a streaming sampler says it holds
    (``AutoregressiveModel.streaming_sampler_bytes``: a WaveNet's queues)."""
    streaming = model.streaming_sampler_bytes(positions, method)
    return network_sampling_work(model, positions) if streaming is None else streaming


def sample_plan(model, num: int, event_shape: tuple, method: str | None = None) -> BatchPlan:
    """Batches for ``autoreg.sample``: ``num`` examples of ``event_shape``.

    Each example keeps its int32 samples (twice: the batch's and the joined result).

    Args:
      model: a registry model.
      num: number of samples.
      event_shape: one sample's shape, e.g. (28, 28, 1) or (8000,).
      method: the sampling method (None: the default), which sets the working memory.

    Returns:
      The ``BatchPlan``.

    Raises:
      MemoryBudgetError: not even one sample at a time fits.

    Examples:
      >>> from autoreg.memory import sample_plan
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> sample_plan(model, 16, (4, 4, 1))
      BatchPlan(total=16, batch=16, needed=45056)
    """
    positions = math.prod(event_shape)
    what = f"sampling {model.modality.describe(num, event_shape)}"
    return plan_batches(what, num, 8 * positions, sampling_work(model, positions, method))


def texture_plan(model_cls: type, config, height: int, width: int) -> BatchPlan:
    """One ``height x width`` canvas sampled from an image model (of class ``model_cls`` and
    ``config``: the texture models are convolutional, any canvas size)."""
    positions = height * width * config.image_shape[2]
    what = f"sampling a {height}x{width} texture"
    work = network_sampling_work(model_cls, positions, config)
    return plan_batches(what, 1, 8 * positions, work)


def completion_plan(
    model, rows: int, event_shape: tuple, method: str, particles: int = 1
) -> BatchPlan:
    """Batches for ``autoreg.complete``: ``rows`` inputs completed by ``method``.

    Each row keeps its input, mask and result; SMC (``method == "smc"``) runs a forward pass for
    each of its ``particles`` particles.

    Args:
      model: a registry model.
      rows: number of inputs.
      event_shape: one input's shape.
      method: ``"smc"`` or a sampling method of the model (as ``completion_method`` picks it).
      particles: particles per input, for SMC.

    Returns:
      The ``BatchPlan``.

    Raises:
      MemoryBudgetError: not even one input at a time fits.

    Examples:
      >>> from autoreg.memory import completion_plan
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> completion_plan(model, 2, (4, 4, 1), "smc", particles=64).needed  # 64 forward passes
      360864
    """
    positions = math.prod(event_shape)
    what = f"completing {model.modality.describe(rows, event_shape)}"
    if method == "smc":
        what += f" by SMC with {particles} particles each"
        work = particles * (forward_bytes(model, positions) + 16 * positions)
    else:
        work = sampling_work(model, positions, method)
    return plan_batches(what, rows, 13 * positions, work)


def evaluation_batch(model, examples: int, event_shape: tuple, batch_size: int) -> int:
    """The batch size ``autoreg.evaluate`` uses: ``batch_size``, or less if that does not fit.

    Args:
      model: a registry model.
      examples: number of examples to evaluate.
      event_shape: one example's shape.
      batch_size: the batch size asked for.

    Returns:
      The batch size, 1..batch_size.

    Raises:
      MemoryBudgetError: not even one example's forward pass fits.

    Examples:
      >>> from autoreg.memory import evaluation_batch
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> evaluation_batch(model, 1000, (4, 4, 1), batch_size=64)
      64
    """
    positions = math.prod(event_shape)
    what = f"evaluating {model.modality.describe(examples, event_shape)}"
    plan = plan_batches(what, examples, 0, forward_bytes(model, positions))
    return min(batch_size, plan.batch)


def efros_leung_bytes(height: int, width: int, colours: int, window: int) -> int:
    """Bytes of an Efros-Leung canvas: the padded float32 values and mask, the uint8 texture,
    and the float64 neighbour counts and frontier of a pass (the source table is small)."""
    pad = 2 * (window // 2)
    padded = (height + pad) * (width + pad)
    return padded * (4 * colours + 1) + height * width * (colours + 8 + 8 + 2)


def mel_analysis_bytes(samples: int, n_fft: int, hop_length: int, n_mels: int) -> int:
    """Bytes of the log-mel analysis of ``samples`` audio samples: the float32 audio (read,
    resampled, clipped, copied), its complex64 STFT and float32 magnitudes, the mel frames."""
    frames = samples // hop_length + 1
    return 16 * samples + frames * (12 * (1 + n_fft // 2) + 8 * n_mels)


def griffin_lim_bytes(frames: int, n_fft: int, hop_length: int, n_mels: int) -> int:
    """Bytes of Griffin-Lim from ``frames`` mel frames: the float64 mel and linear magnitudes,
    four complex128 spectrograms of the iteration (angles, rebuilt, previous, and the STFT),
    and the float64 audio with its float32 copy."""
    bins = 1 + n_fft // 2
    return (frames + 1) * (8 * n_mels + bins * (8 + 4 * 16)) + 12 * frames * hop_length


def check_picture(shape: tuple, what: str = "a picture") -> None:
    """Refuse a uint8 picture of ``shape`` (H, W[, C]) that would not fit (with PIL's copy)."""
    height, width = shape[:2]
    check_fits(f"{what} of {width}x{height} pixels", 2 * math.prod(shape))
