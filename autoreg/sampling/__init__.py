"""Sampling and completion: every sampler of every model, and the functions that pick one.

- ``ancestral``: the rule all samplers share (the noise of flat position i, ``draw_categorical``),
  the ``Sampler`` signature, the generic ``naive_sampler`` and ``unobserved_range``; a leaf that
  imports nothing else of the package;
- ``raster_loop`` and ``activation_cache``: the row / pixel / colour loop and rolling caches the
  cached image samplers share;
- one module per fast sampler: ``pixelcnn_cached``, ``gated_pixelcnn_cached``,
  ``pixelsnail_cached``, ``row_lstm_incremental``, ``diagonal_bilstm_incremental``,
  ``video_cached``, ``wavenet_queues``, ``wavenet_native``;
- ``smc``: completion of arbitrary holes by sequential Monte Carlo: the rules every particle
  filter follows and the reference filter; ``smc_raster`` and ``video_smc``: the filter on the
  cached samplers' loop, at about the cost of sampling the particles;
- ``progress``: the loops' reports of finished rows, turned into a progress bar on the host.

The registry (``autoreg.registry``) lists which of these samplers and particle filters each
model has, and ``autoreg.generate`` (``autoreg.sample``, ``autoreg.complete``) runs them: the
imports go models -> sampling -> registry -> generate, never back.
"""
