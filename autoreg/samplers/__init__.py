"""Cached samplers (Ramachandran et al. 2017), registered in ``autoreg.sampling.SAMPLERS``.

Importing this package registers ``method="cached"`` for ``pixelcnn`` and ``gated_pixelcnn``;
each gives the same samples as ``naive_sampler`` for the same key at about the cost of one
forward pass.
"""

from autoreg.samplers.gated_pixelcnn_cached import cached_gated_pixelcnn_sampler
from autoreg.samplers.pixelcnn_cached import cached_pixelcnn_sampler
from autoreg.sampling import SAMPLERS

SAMPLERS.setdefault("pixelcnn", {})["cached"] = cached_pixelcnn_sampler
SAMPLERS.setdefault("gated_pixelcnn", {})["cached"] = cached_gated_pixelcnn_sampler

__all__ = ["cached_gated_pixelcnn_sampler", "cached_pixelcnn_sampler"]
