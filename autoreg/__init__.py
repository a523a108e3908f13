"""autoreg: autoregressive generative models (PixelCNN, PixelRNN, WaveNet) in JAX and Flax NNX.

Data are integers 0..K-1, ordered raster scan then R, G, B within a pixel (audio: time order).
Every model maps data to causal K-way logits; on top of that sit an exact likelihood, an exact
jit-compiled ancestral sampler, completion, checkpoints and a CLI (``autoreg --help``).

The public names are imported when first used, so ``import autoreg`` is quick and loads JAX only
when something needs it (``autoreg --help`` never does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoreg.lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers and the API reference read; __getattr__ at run time
    from autoreg import data
    from autoreg.checkpoint import load_checkpoint, save_checkpoint
    from autoreg.evaluation import Evaluation, evaluate
    from autoreg.generate import complete, sample
    from autoreg.likelihood import bits_per_dim, log_prob, log_prob_from_logits
    from autoreg.registry import MODELS, create_model, sampling_methods
    from autoreg.train_config import TrainConfig
    from autoreg.training import train

__version__ = "0.1.0"

__all__ = [
    "MODELS",
    "Evaluation",
    "TrainConfig",
    "bits_per_dim",
    "complete",
    "create_model",
    "data",
    "evaluate",
    "load_checkpoint",
    "log_prob",
    "log_prob_from_logits",
    "sample",
    "sampling_methods",
    "save_checkpoint",
    "train",
]

# The module each public name comes from (the same imports as above, done on first use).
_SOURCES = {
    "MODELS": "autoreg.registry",
    "Evaluation": "autoreg.evaluation",
    "TrainConfig": "autoreg.train_config",
    "bits_per_dim": "autoreg.likelihood",
    "complete": "autoreg.generate",
    "create_model": "autoreg.registry",
    "data": "autoreg.data",  # a subpackage: the module itself
    "evaluate": "autoreg.evaluation",
    "load_checkpoint": "autoreg.checkpoint",
    "log_prob": "autoreg.likelihood",
    "log_prob_from_logits": "autoreg.likelihood",
    "sample": "autoreg.generate",
    "sampling_methods": "autoreg.registry",
    "save_checkpoint": "autoreg.checkpoint",
    "train": "autoreg.training",
}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)
