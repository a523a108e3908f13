"""Cached sampling for the PixelCNN (Ramachandran et al. 2017, "Fast Generation for
Convolutional Autoregressive Models").

Every layer's activation at a pixel depends only on the layer below at that pixel and at
earlier pixels. So each step runs the network at the current pixel only: the mask-A input
convolution gathers its taps from the image cache, and each residual block writes its 3x3
convolution's input at this pixel into a per-block cache and gathers the 3x3 taps from it. The
1x1 layers need nothing cached. The arithmetic per pixel is the model's own (``from_patches``,
``spatial_input``, ``finish``, ``output_logits``), so logits match the full forward pass.

``naive_sampler``'s samples for the same key (a ``Sampler``); the registry's default for
``pixelcnn``.
"""

from __future__ import annotations

from autoreg.sampling import activation_cache
from autoreg.sampling.raster_loop import RasterPlan, raster_sampler


@raster_sampler
def cached_pixelcnn_sampler(model, shape, labels) -> RasterPlan:
    """``naive_sampler``'s samples for a PixelCNN, computing each layer once per sub-pixel.

    A ``Sampler`` (of this ``raster_sampler`` plan) for ``nnx.split`` of a ``PixelCNN``; x and
    the samples are (B, H, W, C) images; labels must be None.
    """
    batch, _, width, _ = shape
    blocks = model.step_layers()
    image_pad = activation_cache.taps_reach(model.input_taps)
    pads = [activation_cache.taps_reach(block.spatial_taps) for block in blocks]
    caches = tuple(
        activation_cache.empty_cache(batch, width, block.spatial_features, pad)
        for block, pad in zip(blocks, pads, strict=True)
    )

    def pixel_fn(j, image, caches):
        patches = activation_cache.gather(image, image_pad[1], model.input_taps, j, 1)
        h = model.input_from_patches(patches)  # (B, 1, 1, 2h)
        new_caches = []
        for block, cache, pad in zip(blocks, caches, pads, strict=True):
            cache = activation_cache.write(cache, pad[1], j, block.spatial_input(h))
            patches = activation_cache.gather(cache, pad[1], block.spatial_taps, j, 1)
            h = block.finish(h, block.spatial_from_patches(patches))  # (B, 1, 1, 2h)
            new_caches.append(cache)
        return model.output_logits(h)[:, 0, 0], tuple(new_caches)  # (B, C, K)

    return RasterPlan(image_pad, caches, None, pixel_fn)
