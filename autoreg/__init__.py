"""autoreg: autoregressive generative models (PixelCNN, PixelRNN, WaveNet) in JAX and Flax NNX.

Data are integers 0..K-1, ordered raster scan then R, G, B within a pixel (audio: time order).
Every model maps data to causal K-way logits; on top of that sit an exact likelihood, an exact
jit-compiled ancestral sampler, completion, checkpoints and a CLI (``autoreg --help``).
"""

from autoreg import data
from autoreg.checkpoint import load_checkpoint, save_checkpoint
from autoreg.evaluation import Evaluation, evaluate
from autoreg.generate import complete, sample
from autoreg.likelihood import bits_per_dim, log_prob, log_prob_from_logits
from autoreg.registry import MODELS, create_model, sampling_methods
from autoreg.training import TrainConfig, train

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
