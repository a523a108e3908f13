"""The contract: what every autoregressive model in the registry provides.

``AutoregressiveModel`` is what every sampler, the likelihood and the memory estimates may ask
of a model; ``RasterModel`` what a cached image sampler may ask in addition. The layers that
several families share are in ``layers`` and ``masked_stream``; a config's (de)serialisation in
``config_io``.
"""

from __future__ import annotations

import jax
from flax import nnx

from autoreg.errors import InputError
from autoreg.modalities import IMAGE, Modality

__all__ = ["AutoregressiveModel", "RasterModel"]


class AutoregressiveModel(nnx.Module):
    """Base class: a network mapping integer data to causal K-way logits.

    Subclasses set ``name`` (the registry key) and ``config`` (a frozen dataclass with at least
    ``levels``), and implement ``__call__(x, labels=None) -> logits`` where ``x`` is
    ``(B, *event_shape)`` integers in ``0..levels-1`` and the logits are float32
    ``(B, *event_shape, levels)``. The logits at a position depend only on the positions strictly
    before it in the data order (raster scan, then R, G, B; time order for audio).

    The sampler contract. A sampler (``autoreg.sampling``) reads a model only through documented
    methods, never through its attributes or sub-modules, so that a model may lay out its
    parameters as it likes (the shipped checkpoints fix the layout) and the equality of every
    fast sampler with ``naive_sampler`` guards this contract. Every sampler may use:

    - ``__call__``, ``name``, ``modality``, ``event_shape``, ``levels``, ``num_classes`` and
      ``check_labels`` (below);
    - ``config``: the model's hyper-parameters, read only.

    A cached image sampler (``raster_loop``) may in addition use the methods of ``RasterModel``
    (``input_taps``, ``input_from_patches``, ``step_layers``, ``output_logits``) and the step
    methods each family documents on the layers ``step_layers`` returns. A WaveNet sampler may
    in addition use ``WaveNet.step_weights``, ``output_weights``, ``output_head``,
    ``check_conditioning`` and ``gate_conditioning``.

    The memory answers. ``autoreg.memory`` sizes a model only through the class methods
    ``widest_activation``, ``network_depth`` and ``attention_arrays`` of its config, which each
    family implements (its config's own ``BOUNDS`` bound every field).

    Attributes:
      name: the registry key of the family, e.g. ``"pixelcnn"``.
      config: the frozen dataclass of hyper-parameters (``levels`` at least).
      modality: the kind of data (``autoreg.modalities``): ``IMAGE`` (H, W, C), ``AUDIO``
        (length,) of a length chosen per call (``event_shape(length)``), or ``VIDEO``
        (T, H, W, C): frames, then a raster scan of each frame, then colours.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> isinstance(model, autoreg.models.base.AutoregressiveModel)
      True
      >>> model.levels, model.num_classes, model.event_shape()
      (4, 0, (4, 4, 1))
      >>> model(np.zeros((2, 4, 4, 1), np.int32)).shape  # (B, H, W, C, K) logits
      (2, 4, 4, 1, 4)
    """

    name: str = ""
    config: object
    modality: Modality = IMAGE

    @property
    def levels(self) -> int:
        """Number of values K each variable takes (``config.levels``)."""
        return self.config.levels

    @property
    def num_classes(self) -> int:
        """Number of class labels the model is conditioned on (0: unconditional)."""
        return getattr(self.config, "num_classes", 0)

    def check_labels(self, labels) -> None:
        """Check that labels are given exactly when the model is class-conditional.

        The one place these two messages are written; ``autoreg.validation.check_labels`` adds
        the shape and range checks of user input.

        Args:
          labels: (B,) class labels, or None.

        Raises:
          InputError: a conditional model gets no labels, or an unconditional one gets some.
        """
        if self.num_classes == 0 and labels is not None:
            raise InputError(f"{self.name} is unconditional: it takes no labels")
        if self.num_classes and labels is None:
            raise InputError(
                f"{self.name} is class-conditional: pass labels (0..{self.num_classes - 1})"
            )

    def event_shape(self, length: int | None = None) -> tuple[int, ...]:
        """Shape of one data point.

        Args:
          length: number of time steps, for audio models (which require it); image models
            take None.

        Returns:
          ``(H, W, C)`` for an image model, ``(length,)`` for an audio model.

        Raises:
          InputError: a ``length`` for an image model (an audio model: no ``length``).
        """
        if length is not None:
            raise InputError(f"{self.name} generates fixed-size images; 'length' is for audio")
        return tuple(self.config.image_shape)

    # What a forward pass holds, for ``autoreg.memory``: class methods of a config, so that a
    # config alone (a checkpoint's, before any parameter exists) can be sized.

    @classmethod
    def widest_activation(cls, config) -> int:
        """Features per position of the widest activation of a forward pass.

        Args:
          config: a config of this family.

        Returns:
          The width, e.g. ``max(channels, output_channels)`` for a PixelCNN.

        Raises:
          NotImplementedError: the family does not say (every registry family does).

        Examples:
          >>> from autoreg.models.pixelcnn import PixelCNN
          >>> config = autoreg.registry.make_config("pixelcnn", "tiny")
          >>> PixelCNN.widest_activation(config), PixelCNN.network_depth(config)
          (8, 2)
        """
        raise NotImplementedError(f"{cls.__name__} does not say its widest activation")

    @classmethod
    def network_depth(cls, config) -> int:
        """Layers whose activations a backward pass keeps.

        Args:
          config: a config of this family.

        Returns:
          The number of layers, at least 1.

        Raises:
          NotImplementedError: the family does not say (every registry family does).
        """
        raise NotImplementedError(f"{cls.__name__} does not say its depth")

    @classmethod
    def attention_arrays(cls, config, positions: int) -> tuple[tuple[int, ...], ...]:
        """Shapes of the float32 attention arrays one attention layer holds at once.

        Args:
          config: a config of this family.
          positions: positions of one example (H * W * C for an image).

        Returns:
          One shape per array, ``(heads, D, D)`` for attention over D pixels; ``()``, the
          default, for a model without attention.
        """
        return ()

    def streaming_sampler_bytes(self, positions: int, method: str | None) -> int | None:
        """Bytes per example that the sampler ``method`` (None: the default) holds where it
        streams (keeps less than the network's activations over all positions).

        Args:
          positions: the positions of one example.
          method: a sampling method of the model.

        Returns:
          None, the default: the sampler runs the network over all positions at once, about a
          forward pass (``autoreg.memory.network_sampling_work``).
        """
        return None

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        raise NotImplementedError


class RasterModel(AutoregressiveModel):
    """An image model whose network a cached sampler can run one position at a time.

    ``x`` is (B, H, W, C). The network is an input layer, a sequence of layers
    (``step_layers``) that the stream passes in order, and an output head. What a cached
    sampler may call, beyond ``AutoregressiveModel``'s contract, is defined here; what it may
    call on each layer is documented by the family's layer classes (``*_taps``,
    ``*_from_patches``, ``finish*``, ``cell`` and the like).

    Examples:
      >>> from autoreg.models.base import RasterModel
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> isinstance(model, RasterModel), len(model.step_layers())
      (True, 2)
      >>> model.input_taps  # the (dy, dx) offsets the 3x3 mask-A convolution reads
      ((-1, -1), (-1, 0), (-1, 1), (0, -1))
      >>> model.output_logits(np.zeros((5, 8), np.float32)).shape  # (..., F) -> (..., C, K)
      (5, 1, 4)
    """

    @property
    def input_taps(self) -> tuple:
        """The (dy, dx) taps of the mask-A input convolution, in the order it reads them.

        Models whose first layer is not one mask-A convolution (the Gated PixelCNN: its first
        layer reads the image itself) do not provide it.

        Returns:
          A tuple of ``(dy, dx)`` offsets relative to the pixel being computed.

        Raises:
          NotImplementedError: the model does not provide it.
        """
        raise NotImplementedError

    def input_from_patches(self, patches: jax.Array) -> jax.Array:
        """The input convolution's output from scaled pixels gathered in tap order.

        Args:
          patches: (..., taps * C) scaled pixel values, taps in ``input_taps`` order.

        Returns:
          (..., F) the stream entering the first layer.

        Raises:
          NotImplementedError: the model does not provide it.
        """
        raise NotImplementedError

    def step_layers(self) -> tuple:
        """The layers in the order the stream passes them (each family says what an item is).

        Returns:
          A tuple of the family's layers.
        """
        raise NotImplementedError

    def output_logits(self, h: jax.Array) -> jax.Array:
        """The output head at any positions.

        Args:
          h: (..., F) features of the stream leaving the last layer.

        Returns:
          (..., C, K) float32 logits.
        """
        raise NotImplementedError
