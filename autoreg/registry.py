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
from autoreg.sampling import wavenet_native
from autoreg.sampling.ancestral import Sampler, naive_sampler
from autoreg.sampling.diagonal_bilstm_incremental import diagonal_bilstm_sampler
from autoreg.sampling.gated_pixelcnn_cached import cached_gated_pixelcnn_sampler
from autoreg.sampling.pixelcnn_cached import cached_pixelcnn_sampler
from autoreg.sampling.pixelsnail_cached import cached_pixelsnail_sampler
from autoreg.sampling.row_lstm_incremental import incremental_sampler
from autoreg.sampling.wavenet_queues import fast_sampler


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How to build and sample one model family.

    ``samplers`` maps method names to ``Sampler`` functions, the default first; ``"naive"``
    (re-run the network per position) is appended when a family does not list it, so it is
    always available.
    """

    name: str  # registry key, e.g. "pixelcnn"
    model_cls: Callable[..., AutoregressiveModel]  # Model(config, *, rngs)
    config_cls: type  # frozen dataclass of hyper-parameters
    presets: dict  # preset name -> config overrides ("tiny" and "reference" at least)
    samplers: Mapping[str, Sampler] = dataclasses.field(default_factory=dict)
    default_preset: str = "reference"

    def __post_init__(self):
        table = {**self.samplers}
        table.setdefault("naive", naive_sampler)
        object.__setattr__(self, "samplers", types.MappingProxyType(table))


MODELS: dict[str, ModelSpec] = {
    "pixelcnn": ModelSpec(
        "pixelcnn",
        pixelcnn.PixelCNN,
        pixelcnn.PixelCNNConfig,
        pixelcnn.PRESETS,
        samplers={"cached": cached_pixelcnn_sampler},
    ),
    "row_lstm": ModelSpec(
        "row_lstm",
        row_lstm.RowLSTM,
        row_lstm.RowLSTMConfig,
        row_lstm.PRESETS,
        samplers={"incremental": incremental_sampler},
    ),
    "diagonal_bilstm": ModelSpec(
        "diagonal_bilstm",
        diagonal_bilstm.DiagonalBiLSTM,
        diagonal_bilstm.DiagonalBiLSTMConfig,
        diagonal_bilstm.PRESETS,
        samplers={"incremental": diagonal_bilstm_sampler},
    ),
    "gated_pixelcnn": ModelSpec(
        "gated_pixelcnn",
        gated_pixelcnn.GatedPixelCNN,
        gated_pixelcnn.GatedPixelCNNConfig,
        gated_pixelcnn.PRESETS,
        samplers={"cached": cached_gated_pixelcnn_sampler},
    ),
    "pixelsnail": ModelSpec(
        "pixelsnail",
        pixelsnail.PixelSNAIL,
        pixelsnail.PixelSNAILConfig,
        pixelsnail.PRESETS,
        samplers={"cached": cached_pixelsnail_sampler},
    ),
    "wavenet": ModelSpec(
        "wavenet",
        wavenet.WaveNet,
        wavenet.WaveNetConfig,
        wavenet.PRESETS,
        # "native" (the C++ kernel) where it was built at install time, else the XLA queues.
        samplers=(
            {"native": wavenet_native.native_sampler, "fast": fast_sampler}
            if wavenet_native.available()
            else {"fast": fast_sampler}
        ),
    ),
}


def get_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``, or a ValueError listing the known models."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def samplers_for(model) -> Mapping[str, Sampler]:
    """The sampler table of ``model`` (a model or a registry name), the default first.

    A model that is not in the registry (one of the user's own on the same contract) can
    always be sampled with ``"naive"``.
    """
    name = model if isinstance(model, str) else model.name
    if name not in MODELS:
        return types.MappingProxyType({"naive": naive_sampler})
    return MODELS[name].samplers


def sampling_methods(model) -> list[str]:
    """Sampling methods available for ``model`` (a model or a registry name), the default first."""
    return list(samplers_for(model))


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
