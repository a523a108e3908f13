"""What every autoregressive model in the registry provides."""

from __future__ import annotations

import dataclasses

import jax
from flax import nnx

from autoreg.errors import InputError
from autoreg.models.layers import MaskedConv2D, scale_to_unit

__all__ = [
    "AutoregressiveModel",
    "MaskedStreamModel",
    "RasterModel",
    "config_from_dict",
    "config_to_dict",
    "count_params",
    "head_logits",
    "masked_head",
]


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

    - ``__call__``, ``name``, ``fixed_shape``, ``event_shape``, ``levels``, ``num_classes`` and
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
      fixed_shape: True for models of one data shape (images); False for those whose length
        is chosen per call (audio: ``event_shape(length)``).
      kind: the kind of data, ``"image"`` (H, W, C), ``"audio"`` (length,) or ``"video"``
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
    # False for models whose data length is chosen per call (audio): event_shape(length).
    fixed_shape: bool = True
    kind: str = "image"  # "image", "audio" or "video"

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


def masked_head(
    in_features: int, hidden: int, num_colours: int, levels: int, impl: str, rngs: nnx.Rngs
) -> tuple[MaskedConv2D, MaskedConv2D]:
    """The output head of every image family: two 1x1 mask-B convolutions.

    ``in -> hidden -> C * K``, colour-masked so that colour c's logits see colours up to c of
    the stream.

    Args:
      in_features: width of the stream entering the head.
      hidden: width of the hidden 1x1 layer.
      num_colours: C, the image's colour channels.
      levels: K, the values each sub-pixel takes.
      impl: the convolution implementation (``"taps"``, ``"conv"`` or ``"auto"``).
      rngs: the parameter initialisation's random streams.

    Returns:
      ``(hidden_layer, logits_layer)``, for ``head_logits``.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.models.base import masked_head
      >>> hidden, logits = masked_head(8, 8, 1, levels=4, impl="auto", rngs=nnx.Rngs(0))
      >>> type(hidden).__name__, type(logits).__name__
      ('MaskedConv2D', 'MaskedConv2D')
    """
    conv = dict(num_colours=num_colours, impl=impl, rngs=rngs)
    hidden_layer = MaskedConv2D(in_features, hidden, 1, mask_type="B", **conv)
    logits_layer = MaskedConv2D(hidden, num_colours * levels, 1, mask_type="B", **conv)
    return hidden_layer, logits_layer


def head_logits(hidden_layer, logits_layer, h: jax.Array, levels: int) -> jax.Array:
    """The output head at any positions: (..., F) stream -> (..., C, K) logits.

    ReLU, the hidden 1x1 layer, ReLU, the logits layer (its C * K outputs channel-major),
    reshaped to the one output shape of every image model.

    Args:
      hidden_layer: the first layer ``masked_head`` returns.
      logits_layer: the second layer ``masked_head`` returns.
      h: (..., F) features, F the head's ``in_features``.
      levels: K.

    Returns:
      (..., C, K) logits.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.models.base import head_logits, masked_head
      >>> layers = masked_head(8, 8, num_colours=1, levels=4, impl="auto", rngs=nnx.Rngs(0))
      >>> head_logits(*layers, np.zeros((5, 8), np.float32), levels=4).shape
      (5, 1, 4)
    """
    y = hidden_layer.from_patches(jax.nn.relu(h))  # (..., hidden)
    logits = logits_layer.from_patches(jax.nn.relu(y))  # (..., C * K)
    return logits.reshape(*logits.shape[:-1], -1, levels)


class MaskedStreamModel(RasterModel):
    """A ``RasterModel`` whose stream enters through one mask-A convolution of the image and
    leaves through the shared output head (PixelCNN, PixelRNN, PixelSNAIL).

    A subclass's ``__init__`` calls ``init_input`` (first), builds its layers, then calls
    ``init_head``: that order fixes the parameters a seed gives. Its ``__call__`` is
    ``embed``, its layers, then ``output_logits``. The config needs ``image_shape``,
    ``levels``, ``first_kernel``, ``output_channels`` and ``conv_impl``.

    Examples:
      >>> model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(4, 4, 1), levels=4)
      >>> isinstance(model, autoreg.models.base.MaskedStreamModel)
      True
      >>> stream = model.embed(np.zeros((2, 4, 4, 1), np.int32))  # (B, H, W, F), F = channels
      >>> stream.shape, model.output_logits(stream).shape
      ((2, 4, 4, 8), (2, 4, 4, 1, 4))
    """

    def init_input(self, width: int, rngs: nnx.Rngs) -> None:
        """Create the mask-A input convolution: C colours -> a stream of ``width`` features.

        Args:
          width: F, the features of the stream.
          rngs: the parameter initialisation's random streams.
        """
        config = self.config
        c = config.image_shape[2]
        self.input_conv = MaskedConv2D(
            c,
            width,
            config.first_kernel,
            mask_type="A",
            num_colours=c,
            impl=config.conv_impl,
            rngs=rngs,
        )

    def init_head(self, width: int, rngs: nnx.Rngs) -> None:
        """Create the output head (``masked_head``) reading a stream of ``width`` features.

        Args:
          width: F, the features of the stream.
          rngs: the parameter initialisation's random streams.
        """
        config = self.config
        c = config.image_shape[2]
        self.hidden_out, self.logits_out = masked_head(
            width, config.output_channels, c, config.levels, config.conv_impl, rngs
        )

    def embed(self, x: jax.Array) -> jax.Array:  # (B, H, W, C) int -> (B, H, W, F)
        """The input convolution of the scaled image: the stream entering the first layer.

        Args:
          x: (B, H, W, C) integers in 0..K-1.

        Returns:
          (B, H, W, F) features.
        """
        return self.input_conv(scale_to_unit(x, self.levels))

    @property
    def input_taps(self) -> tuple:
        """The (dy, dx) taps of the mask-A input convolution, in the order it reads them.

        Returns:
          A tuple of ``(dy, dx)`` offsets relative to the pixel being computed.
        """
        return self.input_conv.taps

    def input_from_patches(self, patches: jax.Array) -> jax.Array:  # (..., taps * C) -> (..., F)
        """The input convolution's output from scaled pixels gathered in tap order.

        Args:
          patches: (..., taps * C) scaled pixel values, taps in ``input_taps`` order.

        Returns:
          (..., F) the stream entering the first layer.
        """
        return self.input_conv.from_patches(patches)

    def output_logits(self, h: jax.Array) -> jax.Array:  # (..., F) -> (..., C, K)
        """The shared output head (``head_logits``).

        Args:
          h: (..., F) features of the stream leaving the last layer.

        Returns:
          (..., C, K) logits.
        """
        return head_logits(self.hidden_out, self.logits_out, h, self.levels)


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters (entries of ``nnx.Param`` arrays).

    Args:
      model: any Flax NNX module.

    Returns:
      The count.

    Examples:
      >>> from flax import nnx
      >>> from autoreg.models.base import count_params
      >>> count_params(nnx.Linear(3, 2, rngs=nnx.Rngs(0)))  # a 3x2 kernel and 2 biases
      8
    """
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def config_to_dict(config) -> dict:
    """A JSON-ready dict of a config dataclass (tuples become lists).

    Args:
      config: a config dataclass instance.

    Returns:
      Field name -> value.

    Examples:
      >>> from autoreg.models.base import config_to_dict
      >>> config = autoreg.registry.make_config("pixelcnn", "tiny", image_shape=(4, 4, 1))
      >>> config_to_dict(config)
      {'levels': 256, 'image_shape': [4, 4, 1], 'channels': 8, 'num_blocks': 2, ...}
    """
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def config_from_dict(config_cls, fields: dict):
    """Rebuild a config dataclass from ``config_to_dict`` output (lists become tuples).

    Args:
      config_cls: the config dataclass.
      fields: field name -> value; fields left out take their defaults.

    Returns:
      A ``config_cls`` instance.

    Raises:
      InputError: fields ``config_cls`` does not have, or (from the config's own checks) a
        value out of its bounds.

    Examples:
      >>> from autoreg.models.base import config_from_dict, config_to_dict
      >>> config = autoreg.registry.make_config("pixelcnn", "tiny", image_shape=(4, 4, 1))
      >>> config_from_dict(type(config), config_to_dict(config)) == config
      True
      >>> config_from_dict(type(config), {"colour": 3})
      Traceback (most recent call last):
      ...
      autoreg.errors.InputError: unknown PixelCNNConfig fields: colour
    """
    known = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise InputError(f"unknown {config_cls.__name__} fields: {', '.join(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    return config_cls(**values)
