"""The model families, one file each, on the contract of ``base.AutoregressiveModel``.

- ``pixelcnn``: PixelCNN (mask A then B residual blocks);
- ``gated_pixelcnn``: Gated PixelCNN (vertical and horizontal stacks, class conditioning);
- ``pixelrnn``: what the PixelRNN family shares; ``row_lstm`` and ``diagonal_bilstm`` its models;
- ``pixelsnail``: PixelSNAIL (causal convolutions and causal self-attention);
- ``wavenet``: WaveNet (dilated causal convolutions, gated residual and skip connections;
  speaker and mel conditioning);
- ``video_pixelcnn``: a Video Pixel Network (a ConvLSTM over frames, a Gated PixelCNN decoder);
- ``layers``: the layers they share; ``config_checks``: the checks every config applies to the
  rules of its own ``BOUNDS``;
- ``base``: the contract they keep (``AutoregressiveModel``, ``RasterModel``): what a sampler
  may call, the modality a model names (``autoreg.modalities``), and the memory questions
  each family answers for ``autoreg.memory``.

The registry that lists them with their presets and samplers is ``autoreg.registry``.
"""
