"""What every autoregressive model in the registry provides."""

from __future__ import annotations

import dataclasses

import jax
from flax import nnx


class AutoregressiveModel(nnx.Module):
    """Base class: a network mapping integer data to causal K-way logits.

    Subclasses set ``name`` (the registry key) and ``config`` (a frozen dataclass with at least
    ``levels``), and implement ``__call__(x, labels=None) -> logits`` where ``x`` is
    ``(B, *event_shape)`` integers in ``0..levels-1`` and the logits are float32
    ``(B, *event_shape, levels)``. The logits at a position depend only on the positions strictly
    before it in the data order (raster scan, then R, G, B; time order for audio).
    """

    name: str = ""
    config: object
    # False for models whose data length is chosen per call (audio): event_shape(length).
    fixed_shape: bool = True

    @property
    def levels(self) -> int:
        """Number of values K each variable takes."""
        return self.config.levels

    @property
    def num_classes(self) -> int:
        """Number of class labels the model is conditioned on (0: unconditional)."""
        return getattr(self.config, "num_classes", 0)

    def check_labels(self, labels) -> None:
        """ValueError when a conditional model gets no labels or an unconditional one gets some.

        The one place these two messages are written; ``autoreg.validation.check_labels`` adds
        the shape and range checks of user input.
        """
        if self.num_classes == 0 and labels is not None:
            raise ValueError(f"{self.name} is unconditional: it takes no labels")
        if self.num_classes and labels is None:
            raise ValueError(
                f"{self.name} is class-conditional: pass labels (0..{self.num_classes - 1})"
            )

    def event_shape(self, length: int | None = None) -> tuple[int, ...]:
        """Shape of one data point. Image models ignore ``length``; audio models require it."""
        if length is not None:
            raise ValueError(f"{self.name} generates fixed-size images; 'length' is for audio")
        return tuple(self.config.image_shape)

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        raise NotImplementedError


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters (entries of ``nnx.Param`` arrays)."""
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def config_to_dict(config) -> dict:
    """A JSON-ready dict of a config dataclass."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def config_from_dict(config_cls, fields: dict):
    """Rebuild a config dataclass from ``config_to_dict`` output; unknown fields are an error."""
    known = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(f"unknown {config_cls.__name__} fields: {', '.join(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    return config_cls(**values)
