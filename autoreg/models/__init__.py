"""The model families, one file each, on the contract of ``base.AutoregressiveModel``.

- ``pixelcnn``: PixelCNN (mask A then B residual blocks);
- ``gated_pixelcnn``: Gated PixelCNN (vertical and horizontal stacks, class conditioning);
- ``pixelrnn``: what the PixelRNN family shares; ``row_lstm`` and ``diagonal_bilstm`` its models;
- ``wavenet``: WaveNet (dilated causal convolutions, gated residual and skip connections);
- ``layers``: the layers they share; ``config_checks``: the config rules they share;
- ``base``: the contract they keep (``AutoregressiveModel``, ``RasterModel``), which states what
  a sampler may call.

The registry that lists them with their presets and samplers is ``autoreg.registry``.
"""
