"""What the training loop carries from step to step, and what a checkpoint keeps of it to
resume."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from autoreg.distributed import local_copy
from autoreg.train_config import TrainConfig


@dataclasses.dataclass
class LoopState:
    """What the training loop carries from step to step."""

    graphdef: nnx.GraphDef  # the model's structure
    rest: nnx.State  # its non-parameter state, constant during training
    params: nnx.State  # trainable parameters, replicated over the mesh
    opt_state: optax.OptState  # optimiser state, replicated
    ema: nnx.State | None  # EMA of the parameters (None when config.ema_decay is 0)
    step: int  # optimiser steps taken

    def current_model(self):
        """The model to evaluate, sample and export: EMA parameters if kept, else the raw ones."""
        return nnx.merge(self.graphdef, self.params if self.ema is None else self.ema, self.rest)

    def local_model(self):
        """``current_model`` on this process's own copy of the parameters: what evaluation and
        sampling use, in process 0 alone."""
        params = local_copy(self.params if self.ema is None else self.ema)
        return nnx.merge(self.graphdef, params, self.rest)


def initial_state(model, optimizer, config: TrainConfig, mesh: Mesh) -> LoopState:
    """Step 0: the model's parameters (copied), a fresh optimiser state and EMA, replicated."""
    replicated = NamedSharding(mesh, P())
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    # Copies: the step donates its inputs, and the caller's model must stay usable.
    params = jax.tree.map(jnp.copy, jax.device_put(params, replicated))
    opt_state = jax.device_put(optimizer.init(params), replicated)
    ema = jax.tree.map(jnp.copy, params) if config.ema_decay else None
    return LoopState(graphdef, rest, params, opt_state, ema, step=0)


def train_state(params, opt_state, ema) -> dict:
    """What a resume needs beyond the exported model: raw parameters, optimiser state, EMA."""
    state = {"params": params, "opt_state": opt_state}
    return state if ema is None else {**state, "ema": ema}
