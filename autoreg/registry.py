"""The model registry: one entry per model family, with its config, presets and samplers.

Everything that works on "any model" iterates over ``MODELS``: the CLI, ``sample`` and ``complete``,
the checkpoint loader and the registry-wide tests (causality, exactness, fast == naive). A new
model family enters here, with its samplers; nothing registers itself by being imported.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping

from flax import nnx

from autoreg.errors import InputError
from autoreg.models import (
    diagonal_bilstm,
    gated_pixelcnn,
    pixelcnn,
    pixelsnail,
    row_lstm,
    video_pixelcnn,
    wavenet,
)
from autoreg.models.base import AutoregressiveModel
from autoreg.models.config_io import config_from_dict
from autoreg.platforms import EVERYWHERE, default_platform, normalise_platform, platform_of
from autoreg.sampling import wavenet_native
from autoreg.sampling.ancestral import Sampler, naive_sampler
from autoreg.sampling.diagonal_bilstm_incremental import diagonal_bilstm_sampler
from autoreg.sampling.gated_pixelcnn_cached import cached_gated_pixelcnn_sampler
from autoreg.sampling.pixelcnn_cached import cached_pixelcnn_sampler
from autoreg.sampling.pixelsnail_cached import cached_pixelsnail_sampler
from autoreg.sampling.row_lstm_incremental import incremental_sampler
from autoreg.sampling.smc import smc_sampler
from autoreg.sampling.smc_raster import raster_particle_filter
from autoreg.sampling.video_cached import cached_video_sampler
from autoreg.sampling.video_smc import video_particle_filter
from autoreg.sampling.wavenet_queues import fast_sampler

__all__ = [
    "MODELS",
    "ModelSpec",
    "SamplingMethod",
    "cpu_only",
    "create_model",
    "get_spec",
    "make_config",
    "model_from_config",
    "particle_filter",
    "particle_filters",
    "samplers_for",
    "sampling_method",
    "sampling_methods",
    "xla",
]


@dataclasses.dataclass(frozen=True)
class SamplingMethod:
    """One entry of a sampler table: the ``Sampler`` and the platforms it runs on.

    The particle filters' tables (``ModelSpec.particle_filters``) hold ``ParticleFilter``s the
    same way. Calling it calls the sampler. Samplers written in JAX alone run wherever XLA does
    (``EVERYWHERE``); one that calls a kernel of its own (the C++ WaveNet kernel) only where
    that kernel is registered with XLA. ``xla`` and ``cpu_only`` build the two kinds.

    Attributes:
      sampler: the ``autoreg.sampling.ancestral.Sampler`` (jit-compiled).
      platforms: the platforms it runs on, a subset of ``{"cpu", "gpu", "tpu"}``.

    Examples:
      >>> from autoreg.registry import MODELS
      >>> entry = MODELS["pixelcnn"].samplers["cached"]
      >>> entry.runs_on("cpu"), sorted(entry.platforms)
      (True, ['cpu', 'gpu', 'tpu'])
    """

    sampler: Sampler
    platforms: frozenset[str] = EVERYWHERE  # subset of autoreg.platforms.PLATFORMS

    def runs_on(self, platform: str) -> bool:
        """Whether the sampler runs on ``platform``.

        Args:
          platform: ``"cpu"``, ``"gpu"`` or ``"tpu"``.

        Returns:
          True when ``platform`` is one of ``platforms``.

        Raises:
          InputError: an unknown platform.
        """
        return normalise_platform(platform) in self.platforms

    def __call__(self, *args, **kwargs):
        return self.sampler(*args, **kwargs)


def xla(sampler: Sampler) -> SamplingMethod:
    """A sampler table entry for a sampler written in JAX alone: it runs on every platform.

    Args:
      sampler: an ``autoreg.sampling.ancestral.Sampler``.

    Returns:
      A ``SamplingMethod`` that runs on the CPU, GPU and TPU.

    Examples:
      >>> from autoreg.registry import xla
      >>> from autoreg.sampling.ancestral import naive_sampler
      >>> sorted(xla(naive_sampler).platforms)
      ['cpu', 'gpu', 'tpu']
    """
    return SamplingMethod(sampler, EVERYWHERE)


def cpu_only(sampler: Sampler) -> SamplingMethod:
    """A sampler table entry for a sampler whose custom kernel is registered for the CPU only.

    Args:
      sampler: an ``autoreg.sampling.ancestral.Sampler`` (such as the C++ WaveNet kernel's).

    Returns:
      A ``SamplingMethod`` that runs on the CPU alone.

    Examples:
      >>> from autoreg.registry import cpu_only
      >>> from autoreg.sampling.ancestral import naive_sampler
      >>> cpu_only(naive_sampler).runs_on("gpu")
      False
    """
    return SamplingMethod(sampler, frozenset({"cpu"}))


NAIVE = xla(naive_sampler)
NAIVE_SMC = xla(smc_sampler)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How to build and sample one model family: an entry of ``MODELS``.

    ``samplers`` maps method names to ``SamplingMethod`` entries (a sampler and the platforms it
    runs on), the default first; ``"naive"`` (re-run the network per position) is appended when
    a family does not list it, so every model can be sampled on every platform.
    ``particle_filters`` is the same table for completion by sequential Monte Carlo
    (``autoreg.sampling.smc.ParticleFilter``s): a family's fast filter runs on its cached
    sampler (``autoreg.sampling.smc_raster``), and ``"naive"``, the reference
    ``smc_sampler``, is appended.

    Attributes:
      name: the registry key, e.g. ``"pixelcnn"``.
      model_cls: the model class, called as ``model_cls(config, rngs=nnx.Rngs(seed))``.
      config_cls: the frozen dataclass of the family's hyper-parameters.
      presets: preset name -> config overrides (``"tiny"`` and ``"reference"`` at least).
      samplers: method name -> ``SamplingMethod``, the default first, ``"naive"`` included
        (read-only).
      particle_filters: method name -> ``SamplingMethod`` of a ``ParticleFilter``, the default
        first, ``"naive"`` included (read-only).
      default_preset: the preset ``create_model`` uses when none is named.

    Examples:
      >>> from autoreg.registry import ModelSpec, MODELS
      >>> spec = MODELS["pixelcnn"]
      >>> spec.name, spec.config_cls.__name__, list(spec.samplers)
      ('pixelcnn', 'PixelCNNConfig', ['cached', 'naive'])
      >>> list(spec.particle_filters)
      ['cached', 'naive']
      >>> own = ModelSpec("my_pixelcnn", spec.model_cls, spec.config_cls, spec.presets)
      >>> list(own.samplers), list(own.particle_filters)  # at least naively, on every family
      (['naive'], ['naive'])
    """

    name: str  # registry key, e.g. "pixelcnn"
    model_cls: Callable[..., AutoregressiveModel]  # Model(config, *, rngs)
    config_cls: type  # frozen dataclass of hyper-parameters
    presets: dict  # preset name -> config overrides ("tiny" and "reference" at least)
    samplers: Mapping[str, SamplingMethod] = dataclasses.field(default_factory=dict)
    default_preset: str = "reference"
    particle_filters: Mapping[str, SamplingMethod] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for field, naive in (("samplers", NAIVE), ("particle_filters", NAIVE_SMC)):
            object.__setattr__(self, field, with_naive(getattr(self, field), naive))


class TableOnFirstRead(Mapping):
    """A read-only method table whose entries are looked up when it is first read.

    For a family whose samplers depend on what the installation built (the C++ WaveNet
    kernel), so that importing the registry reads no directory.

    Args:
      build: returns the table (method name -> ``SamplingMethod``); called once, on first read.
    """

    def __init__(self, build: Callable[[], Mapping[str, SamplingMethod]]):
        self.build = build
        self.table: Mapping[str, SamplingMethod] | None = None

    def loaded(self) -> Mapping[str, SamplingMethod]:
        """The table, built on the first call."""
        if self.table is None:
            self.table = types.MappingProxyType(dict(self.build()))
        return self.table

    def __getitem__(self, name: str) -> SamplingMethod:
        return self.loaded()[name]

    def __iter__(self):
        return iter(self.loaded())

    def __len__(self) -> int:
        return len(self.loaded())

    def __repr__(self) -> str:
        return repr(self.loaded())


def with_naive(table: Mapping, naive: SamplingMethod) -> Mapping:
    """``table``, read-only, with ``"naive"`` appended if it lacks one (a ``TableOnFirstRead``
    stays unread until it is first read)."""
    if isinstance(table, TableOnFirstRead):
        return TableOnFirstRead(lambda: with_naive(table.loaded(), naive))
    merged = {**table}
    merged.setdefault("naive", naive)
    return types.MappingProxyType(merged)


def wavenet_samplers() -> dict[str, SamplingMethod]:
    """WaveNet's samplers: "native" (the C++ kernel, CPU only) where it was built at install
    time; the XLA queues ("fast") everywhere, so they are the default on a GPU or TPU."""
    fast = {"fast": xla(fast_sampler)}
    if wavenet_native.available():
        return {"native": cpu_only(wavenet_native.native_sampler), **fast}
    return fast


MODELS: dict[str, ModelSpec] = {
    "pixelcnn": ModelSpec(
        "pixelcnn",
        pixelcnn.PixelCNN,
        pixelcnn.PixelCNNConfig,
        pixelcnn.PRESETS,
        samplers={"cached": xla(cached_pixelcnn_sampler)},
        particle_filters={"cached": xla(raster_particle_filter(cached_pixelcnn_sampler.plan))},
    ),
    "row_lstm": ModelSpec(
        "row_lstm",
        row_lstm.RowLSTM,
        row_lstm.RowLSTMConfig,
        row_lstm.PRESETS,
        samplers={"incremental": xla(incremental_sampler)},
        particle_filters={"incremental": xla(raster_particle_filter(incremental_sampler.plan))},
    ),
    "diagonal_bilstm": ModelSpec(
        "diagonal_bilstm",
        diagonal_bilstm.DiagonalBiLSTM,
        diagonal_bilstm.DiagonalBiLSTMConfig,
        diagonal_bilstm.PRESETS,
        samplers={"incremental": xla(diagonal_bilstm_sampler)},
        particle_filters={"incremental": xla(raster_particle_filter(diagonal_bilstm_sampler.plan))},
    ),
    "gated_pixelcnn": ModelSpec(
        "gated_pixelcnn",
        gated_pixelcnn.GatedPixelCNN,
        gated_pixelcnn.GatedPixelCNNConfig,
        gated_pixelcnn.PRESETS,
        samplers={"cached": xla(cached_gated_pixelcnn_sampler)},
        particle_filters={
            "cached": xla(raster_particle_filter(cached_gated_pixelcnn_sampler.plan))
        },
    ),
    "pixelsnail": ModelSpec(
        "pixelsnail",
        pixelsnail.PixelSNAIL,
        pixelsnail.PixelSNAILConfig,
        pixelsnail.PRESETS,
        samplers={"cached": xla(cached_pixelsnail_sampler)},
        particle_filters={"cached": xla(raster_particle_filter(cached_pixelsnail_sampler.plan))},
    ),
    "wavenet": ModelSpec(
        "wavenet",
        wavenet.WaveNet,
        wavenet.WaveNetConfig,
        wavenet.PRESETS,
        samplers=TableOnFirstRead(wavenet_samplers),  # whether the C++ kernel was built
    ),
    "video_pixelcnn": ModelSpec(
        "video_pixelcnn",
        video_pixelcnn.VideoPixelCNN,
        video_pixelcnn.VideoPixelCNNConfig,
        video_pixelcnn.PRESETS,
        samplers={"cached": xla(cached_video_sampler)},
        particle_filters={"cached": xla(video_particle_filter)},
    ),
}
"""Every model family, by registry name: its ``ModelSpec`` (config, presets and samplers).

Everything that works on "any model" iterates over this dict; a new family is added to it
(``docs/adding_a_model.md``).

Examples:
    >>> sorted(autoreg.MODELS)
    ['diagonal_bilstm', 'gated_pixelcnn', 'pixelcnn', 'pixelsnail', 'row_lstm', 'video_pixelcnn',
     'wavenet']
    >>> autoreg.MODELS["pixelcnn"].presets["tiny"]
    {'channels': 8, 'num_blocks': 2, 'output_channels': 8, 'first_kernel': 3}
"""


def get_spec(name: str) -> ModelSpec:
    """The registry entry of a model family.

    Args:
      name: a key of ``MODELS``.

    Returns:
      Its ``ModelSpec``.

    Raises:
      InputError: an unknown name (the message lists the known models).

    Examples:
      >>> from autoreg.registry import get_spec
      >>> get_spec("pixelcnn").default_preset
      'reference'
      >>> get_spec("pixelcnnn")
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: unknown model 'pixelcnnn'; known models: diagonal_bilstm,
      gated_pixelcnn, ...
    """
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def spec_of_config(config) -> ModelSpec:
    """The registry entry of the family whose config ``config`` is.

    Args:
      config: an instance of a family's ``config_cls`` (a bare config: a checkpoint's, before
        its model is built, or one made by ``make_config``).

    Returns:
      Its ``ModelSpec``.

    Raises:
      InputError: a config of no family in the registry.

    Examples:
      >>> from autoreg.registry import make_config, spec_of_config
      >>> spec_of_config(make_config("wavenet", "tiny")).name
      'wavenet'
    """
    for spec in MODELS.values():
        if type(config) is spec.config_cls:
            return spec
    raise InputError(f"no model in the registry has a {type(config).__name__}")


def samplers_for(model) -> Mapping[str, SamplingMethod]:
    """The whole sampler table of a model, the default first, whatever the platform.

    A model that is not in the registry (one of the user's own on the same contract) can
    always be sampled with ``"naive"``.

    Args:
      model: a model or a registry name.

    Returns:
      A read-only mapping of method names to ``SamplingMethod`` entries.

    Examples:
      >>> from autoreg.registry import samplers_for
      >>> list(samplers_for("wavenet"))[-2:]  # "native" comes first where it was built
      ['fast', 'naive']
      >>> list(samplers_for("not_registered"))
      ['naive']
    """
    name = model if isinstance(model, str) else model.name
    if name not in MODELS:
        return types.MappingProxyType({"naive": NAIVE})
    return MODELS[name].samplers


def work_platform(model) -> str:
    """Where sampling ``model`` runs: its parameters' platform (a name: the default device's)."""
    return default_platform() if isinstance(model, str) else platform_of(model)


def sampling_methods(model, platform: str | None = None) -> list[str]:
    """Sampling methods of ``model`` that run on ``platform``, the default first.

    Args:
      model: a model or a registry name.
      platform: ``"cpu"``, ``"gpu"`` or ``"tpu"``; default: the platform of the model's
        parameters (of JAX's default device for a registry name).

    Returns:
      Method names for ``autoreg.sample(..., method=...)``; the first is the default there.

    Raises:
      InputError: an unknown platform.

    Examples:
      >>> autoreg.sampling_methods("wavenet", platform="gpu")
      ['fast', 'naive']
      >>> autoreg.sampling_methods("pixelcnn", platform="cpu")
      ['cached', 'naive']
    """
    return runnable(samplers_for(model), model, platform)


def sampling_method(model, method: str | None, platform: str | None = None) -> SamplingMethod:
    """The sampler table entry that ``autoreg.sample(model, ..., method=method)`` runs.

    Args:
      model: a registry model.
      method: a method name, or None for the first one that runs on ``platform``.
      platform: ``"cpu"``, ``"gpu"`` or ``"tpu"``; default: the platform of the model's
        parameters.

    Returns:
      The ``SamplingMethod``; calling it samples.

    Raises:
      InputError: a method the model does not have, or one that does not run on the platform
        (the message names the methods that do), or an unknown platform.

    Examples:
      >>> from autoreg.registry import sampling_method
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> sampling_method(model, None, "cpu") is autoreg.MODELS["pixelcnn"].samplers["cached"]
      True
      >>> sampling_method(model, "fast")
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: sampling method 'fast' is not available for pixelcnn; available:
      cached, naive
    """
    return pick(samplers_for(model), model, method, platform, "sampling method")


def particle_filters(model, platform: str | None = None) -> list[str]:
    """Particle filters of ``model`` that run on ``platform``, the default first.

    Args:
      model: a model or a registry name.
      platform: ``"cpu"``, ``"gpu"`` or ``"tpu"``; default: the platform of the model's
        parameters (of JAX's default device for a registry name).

    Returns:
      Names for ``autoreg.generate.smc_complete(..., method=...)``; the first is the default.

    Raises:
      InputError: an unknown platform.

    Examples:
      >>> from autoreg.registry import particle_filters
      >>> particle_filters("pixelsnail"), particle_filters("wavenet")
      (['cached', 'naive'], ['naive'])
    """
    return runnable(filters_for(model), model, platform)


def particle_filter(model, method: str | None, platform: str | None = None) -> SamplingMethod:
    """The particle filter table entry that completion by SMC with ``method`` runs.

    Args:
      model: a registry model.
      method: a filter's name, or None for the first one that runs on ``platform``.
      platform: ``"cpu"``, ``"gpu"`` or ``"tpu"``; default: the platform of the model's
        parameters.

    Returns:
      The ``SamplingMethod`` of an ``autoreg.sampling.smc.ParticleFilter``.

    Raises:
      InputError: a filter the model does not have, or one that does not run on the platform.

    Examples:
      >>> from autoreg.registry import particle_filter
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> particle_filter(model, None) is autoreg.MODELS["pixelcnn"].particle_filters["cached"]
      True
      >>> particle_filter(model, "incremental")
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: particle filter 'incremental' is not available for pixelcnn;
      available: cached, naive
    """
    return pick(filters_for(model), model, method, platform, "particle filter")


def filters_for(model) -> Mapping[str, SamplingMethod]:
    """The particle filter table of a model (``"naive"`` alone for one not in the registry)."""
    name = model if isinstance(model, str) else model.name
    if name not in MODELS:
        return types.MappingProxyType({"naive": NAIVE_SMC})
    return MODELS[name].particle_filters


def runnable(table: Mapping[str, SamplingMethod], model, platform: str | None) -> list[str]:
    """The names in ``table`` whose entries run on ``platform`` (default: the model's)."""
    platform = normalise_platform(platform) if platform else work_platform(model)
    return [name for name, entry in table.items() if entry.runs_on(platform)]


def pick(table, model, method: str | None, platform: str | None, what: str) -> SamplingMethod:
    """The entry ``method`` of ``table`` (default: the first that runs on ``platform``)."""
    platform = normalise_platform(platform) if platform else work_platform(model)
    names = runnable(table, model, platform)
    method = method or names[0]
    if method not in table:
        raise InputError(
            f"{what} {method!r} is not available for {model.name}; available: {', '.join(names)}"
        )
    if method not in names:
        where = ", ".join(sorted(table[method].platforms))
        raise InputError(
            f"{what} {method!r} of {model.name} runs only on {where}, not on "
            f"{platform}; methods that run on {platform}: {', '.join(names)}"
        )
    return table[method]


def make_config(name: str, preset: str | None = None, **fields):
    """The config of a model family: a preset, with single fields overridden.

    Args:
      name: a key of ``MODELS``.
      preset: a preset of that family (default: its ``default_preset``, ``"reference"``).
      **fields: config fields to override; those given as None keep the preset's value.

    Returns:
      An instance of the family's ``config_cls``.

    Raises:
      InputError: an unknown model, preset or field, or a field out of its bounds.

    Examples:
      >>> from autoreg.registry import make_config
      >>> make_config("pixelcnn", "tiny", levels=4, image_shape=(4, 4, 1))
      PixelCNNConfig(levels=4, image_shape=(4, 4, 1), channels=8, num_blocks=2, ...)
    """
    spec = get_spec(name)
    preset = preset or spec.default_preset
    if preset not in spec.presets:
        raise InputError(
            f"unknown preset {preset!r} for {name}; presets: {', '.join(sorted(spec.presets))}"
        )
    values = {**spec.presets[preset], **{k: v for k, v in fields.items() if v is not None}}
    return config_from_dict(spec.config_cls, values)


def create_model(
    name: str,
    *,
    preset: str | None = None,
    levels: int = 256,
    image_shape: tuple[int, ...] | None = None,
    seed: int = 0,
    **overrides,
) -> AutoregressiveModel:
    """Build a freshly initialised model from the registry.

    Args:
      name: a key of ``autoreg.MODELS`` (e.g. ``"pixelcnn"``).
      preset: named set of hyper-parameters: ``"tiny"`` (tests), ``"reference"`` (default,
        benchmarks) or another preset of that model.
      levels: K, the number of values per variable (256 for 8-bit data, 2 for binarized).
      image_shape: ``(H, W, C)`` for image models (default: the config's, 28x28x1).
      seed: seed of the parameter initialisation.
      **overrides: single config fields, e.g. ``channels=64``.

    Returns:
      The model; ``model(x)`` maps ``(B, H, W, C)`` integers to ``(B, H, W, C, K)`` logits.

    Raises:
      InputError: an unknown model, preset or config field, or a field out of its bounds.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> model.name, model.levels, model.event_shape()
      ('pixelcnn', 4, (4, 4, 1))
      >>> model(np.zeros((2, 4, 4, 1), np.int32)).shape
      (2, 4, 4, 1, 4)
    """
    fields = dict(levels=levels, **overrides)
    if image_shape is not None:
        fields["image_shape"] = tuple(image_shape)
    config = make_config(name, preset, **fields)
    return model_from_config(name, config, seed=seed)


def model_from_config(name: str, config, *, seed: int = 0) -> AutoregressiveModel:
    """A freshly initialised model of family ``name`` with an existing config.

    Args:
      name: a key of ``MODELS``.
      config: an instance of that family's ``config_cls`` (e.g. from ``make_config``).
      seed: seed of the parameter initialisation.

    Returns:
      The model.

    Raises:
      InputError: an unknown model.

    Examples:
      >>> from autoreg.registry import make_config, model_from_config
      >>> config = make_config("pixelcnn", "tiny", levels=4, image_shape=(4, 4, 1))
      >>> model_from_config("pixelcnn", config, seed=1).config == config
      True
    """
    return get_spec(name).model_cls(config, rngs=nnx.Rngs(seed))
