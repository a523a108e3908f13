"""A video model started from a trained image model: its per-frame decoder is the image model.

Inflation (Carreira & Zisserman 2017, "Quo Vadis, Action Recognition?") starts a video network
from an image network's filters. The Video PixelCNN's decoder is a Gated PixelCNN applied to
each frame (``autoreg.models.video_pixelcnn``), so a trained Gated PixelCNN of the same
decoder shape gives it every decoder weight as it is: its gated layers and output head are
2-D filters that a frame reads unchanged, at any frame size (the filters do not depend on it).
What the image model has no counterpart for starts at random: the frame encoder, the context
over frames (whose 3-D filters read encodings, not pixels, so there is nothing to repeat along
time). The context's convolutions into the gates start at zero (as ControlNet's "zero
convolutions" do), so the inflated model first predicts every frame as the image model does,
and training moves it from there.

    video = inflate(autoreg.load_checkpoint("runs/gated"), preset="small", frames=20)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from autoreg.errors import InputError

__all__ = ["DECODER_FIELDS", "inflate"]

# The Gated PixelCNN fields that shape the Video PixelCNN's decoder.
DECODER_FIELDS = (
    "levels",
    "features",
    "num_layers",
    "skip_channels",
    "head_channels",
    "first_kernel",
    "kernel",
)
LAYER_PARTS = ("vertical", "horizontal", "vertical_to_horizontal", "out")  # a GatedLayer's


def inflate(image_model, *, preset: str = "reference", seed: int = 0, **overrides):
    """A Video PixelCNN whose per-frame decoder is ``image_model``'s trained Gated PixelCNN.

    Args:
      image_model: a ``gated_pixelcnn`` model (or the path of its checkpoint) without dilated
        layers; a class-conditional one's label biases are left out (the video model is
        unconditional).
      preset: the video preset for the fields the image model does not fix (the frame size,
        the encoder, the context, ``frames``).
      seed: seed of the parameters the image model does not give.
      **overrides: other fields of the video config (``image_shape``, ``frames``,
        ``temporal``, ...); the decoder's fields (``DECODER_FIELDS``) are the image model's.

    Returns:
      The ``VideoPixelCNN``.

    Raises:
      InputError: not a Gated PixelCNN, one with dilated layers, another number of colours
        than ``image_shape`` says, or an override of a decoder field.

    Examples:
      >>> from autoreg.video.inflation import inflate
      >>> image = autoreg.create_model("gated_pixelcnn", preset="tiny", image_shape=(4, 4, 1))
      >>> video = inflate(image, preset="tiny", image_shape=(6, 6, 1), frames=2)
      >>> x = np.random.default_rng(0).integers(0, 256, (1, 2, 6, 6, 1))
      >>> logits = video(x)  # (B, T, H, W, C, K): each frame as the image model sees it
      >>> all(np.allclose(logits[:, t], image(x[:, t]), atol=1e-4) for t in range(2))
      True
    """
    from autoreg.checkpoint import load_checkpoint
    from autoreg.registry import create_model

    if not hasattr(image_model, "config"):
        image_model = load_checkpoint(image_model)
    config = image_model.config
    if image_model.name != "gated_pixelcnn":
        raise InputError(f"a video model is inflated from a gated_pixelcnn, not {image_model.name}")
    if config.dilations:
        raise InputError("the video decoder has no dilated layers: inflate an undilated model")
    fixed = sorted(set(overrides) & set(DECODER_FIELDS))
    if fixed:
        raise InputError(f"{', '.join(fixed)} of the decoder are the image model's")
    decoder = {name: getattr(config, name) for name in DECODER_FIELDS}
    video = create_model("video_pixelcnn", preset=preset, seed=seed, **decoder, **overrides)
    colours, frame_colours = config.image_shape[-1], video.config.image_shape[-1]
    if colours != frame_colours:
        raise InputError(f"the image model has {colours} colours, the frames {frame_colours}")
    for video_layer, image_layer in zip(video.layers, image_model.layers, strict=True):
        for part in LAYER_PARTS:
            nnx.update(getattr(video_layer, part), nnx.state(getattr(image_layer, part)))
    nnx.update(video.head, nnx.state(image_model.head))
    for condition in video.conditions:  # no gate bias from the context yet
        nnx.update(condition, jax.tree.map(jnp.zeros_like, nnx.state(condition, nnx.Param)))
    return video
