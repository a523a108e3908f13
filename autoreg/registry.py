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

from autoreg.models import (
    diagonal_bilstm,
    gated_pixelcnn,
    pixelcnn,
    pixelsnail,
    row_lstm,
    wavenet,
)
from autoreg.models.base import AutoregressiveModel, config_from_dict
from autoreg.platforms import EVERYWHERE, default_platform, normalise_platform, platform_of
from autoreg.sampling import wavenet_native
from autoreg.sampling.ancestral import Sampler, naive_sampler
from autoreg.sampling.diagonal_bilstm_incremental import diagonal_bilstm_sampler
from autoreg.sampling.gated_pixelcnn_cached import cached_gated_pixelcnn_sampler
from autoreg.sampling.pixelcnn_cached import cached_pixelcnn_sampler
from autoreg.sampling.pixelsnail_cached import cached_pixelsnail_sampler
from autoreg.sampling.row_lstm_incremental import incremental_sampler
from autoreg.sampling.wavenet_queues import fast_sampler


@dataclasses.dataclass(frozen=True)
class SamplingMethod:
    """One entry of a sampler table: the ``Sampler`` and the platforms it runs on.

    Calling it calls the sampler. Samplers written in JAX alone run wherever XLA does
    (``EVERYWHERE``); one that calls a kernel of its own (the C++ WaveNet kernel) only where
    that kernel is registered with XLA.
    """

    sampler: Sampler
    platforms: frozenset[str] = EVERYWHERE  # subset of autoreg.platforms.PLATFORMS

    def runs_on(self, platform: str) -> bool:
        """True when the sampler runs on ``platform`` ("cpu", "gpu" or "tpu")."""
        return normalise_platform(platform) in self.platforms

    def __call__(self, *args, **kwargs):
        return self.sampler(*args, **kwargs)


def xla(sampler: Sampler) -> SamplingMethod:
    """A sampler written in JAX alone: it runs on every platform."""
    return SamplingMethod(sampler, EVERYWHERE)


def cpu_only(sampler: Sampler) -> SamplingMethod:
    """A sampler whose custom kernel is registered with XLA for the CPU only."""
    return SamplingMethod(sampler, frozenset({"cpu"}))


NAIVE = xla(naive_sampler)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How to build and sample one model family.

    ``samplers`` maps method names to ``SamplingMethod`` entries (a sampler and the platforms it
    runs on), the default first; ``"naive"`` (re-run the network per position) is appended when
    a family does not list it, so every model can be sampled on every platform.
    """

    name: str  # registry key, e.g. "pixelcnn"
    model_cls: Callable[..., AutoregressiveModel]  # Model(config, *, rngs)
    config_cls: type  # frozen dataclass of hyper-parameters
    presets: dict  # preset name -> config overrides ("tiny" and "reference" at least)
    samplers: Mapping[str, SamplingMethod] = dataclasses.field(default_factory=dict)
    default_preset: str = "reference"

    def __post_init__(self):
        table = {**self.samplers}
        table.setdefault("naive", NAIVE)
        object.__setattr__(self, "samplers", types.MappingProxyType(table))


MODELS: dict[str, ModelSpec] = {
    "pixelcnn": ModelSpec(
        "pixelcnn",
        pixelcnn.PixelCNN,
        pixelcnn.PixelCNNConfig,
        pixelcnn.PRESETS,
        samplers={"cached": xla(cached_pixelcnn_sampler)},
    ),
    "row_lstm": ModelSpec(
        "row_lstm",
        row_lstm.RowLSTM,
        row_lstm.RowLSTMConfig,
        row_lstm.PRESETS,
        samplers={"incremental": xla(incremental_sampler)},
    ),
    "diagonal_bilstm": ModelSpec(
        "diagonal_bilstm",
        diagonal_bilstm.DiagonalBiLSTM,
        diagonal_bilstm.DiagonalBiLSTMConfig,
        diagonal_bilstm.PRESETS,
        samplers={"incremental": xla(diagonal_bilstm_sampler)},
    ),
    "gated_pixelcnn": ModelSpec(
        "gated_pixelcnn",
        gated_pixelcnn.GatedPixelCNN,
        gated_pixelcnn.GatedPixelCNNConfig,
        gated_pixelcnn.PRESETS,
        samplers={"cached": xla(cached_gated_pixelcnn_sampler)},
    ),
    "pixelsnail": ModelSpec(
        "pixelsnail",
        pixelsnail.PixelSNAIL,
        pixelsnail.PixelSNAILConfig,
        pixelsnail.PRESETS,
        samplers={"cached": xla(cached_pixelsnail_sampler)},
    ),
    "wavenet": ModelSpec(
        "wavenet",
        wavenet.WaveNet,
        wavenet.WaveNetConfig,
        wavenet.PRESETS,
        # "native" (the C++ kernel, CPU only) where it was built at install time; the XLA queues
        # ("fast") everywhere, so they are the default on a GPU or TPU.
        samplers=(
            {"native": cpu_only(wavenet_native.native_sampler), "fast": xla(fast_sampler)}
            if wavenet_native.available()
            else {"fast": xla(fast_sampler)}
        ),
    ),
}


def get_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``, or a ValueError listing the known models."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def samplers_for(model) -> Mapping[str, SamplingMethod]:
    """The whole sampler table of ``model`` (a model or a registry name), the default first,
    whatever the platform.

    A model that is not in the registry (one of the user's own on the same contract) can
    always be sampled with ``"naive"``.
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
      ValueError: an unknown platform.

    Example:
      >>> autoreg.sampling_methods("wavenet", platform="gpu")
      ['fast', 'naive']
    """
    platform = normalise_platform(platform) if platform else work_platform(model)
    return [name for name, entry in samplers_for(model).items() if entry.runs_on(platform)]


def sampling_method(model, method: str | None, platform: str | None = None) -> SamplingMethod:
    """The table entry of ``method`` (None: the default) for ``model`` on ``platform``.

    Raises:
      ValueError: a method the model does not have, or one that does not run on the platform
        (the message names the methods that do).
    """
    platform = normalise_platform(platform) if platform else work_platform(model)
    table = samplers_for(model)
    runnable = sampling_methods(model, platform)
    method = method or runnable[0]
    if method not in table:
        raise ValueError(
            f"sampling method {method!r} is not available for {model.name}; "
            f"available: {', '.join(runnable)}"
        )
    if method not in runnable:
        where = ", ".join(sorted(table[method].platforms))
        raise ValueError(
            f"sampling method {method!r} of {model.name} runs only on {where}, not on "
            f"{platform}; methods that run on {platform}: {', '.join(runnable)}"
        )
    return table[method]


def make_config(name: str, preset: str | None = None, **fields):
    """The config of model ``name``: its preset, then ``fields`` overriding single entries."""
    spec = get_spec(name)
    preset = preset or spec.default_preset
    if preset not in spec.presets:
        raise ValueError(
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

    Example:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(8, 8, 1))
    """
    fields = dict(levels=levels, **overrides)
    if image_shape is not None:
        fields["image_shape"] = tuple(image_shape)
    config = make_config(name, preset, **fields)
    return model_from_config(name, config, seed=seed)


def model_from_config(name: str, config, *, seed: int = 0) -> AutoregressiveModel:
    """Instantiate model ``name`` with an existing config object."""
    return get_spec(name).model_cls(config, rngs=nnx.Rngs(seed))
