"""WaveNet generation through a small C++ kernel (``wavenet_native.cc``) called by XLA's FFI.

The queue sampler in ``wavenet_queues`` runs on XLA alone; at batch 1 on a CPU its speed is set
by the fixed cost of the ~60 small operations of each time step. This sampler runs the same
computation per chunk of ``CHUNK`` samples in one FFI call (one C++ loop over the chunk's time
steps, layers and examples), keeping the per-layer history in ring buffers that the call updates
in place, so the state does not grow with the output length. The sampling noise is the ancestral
rule's own (``position_noise``, drawn in JAX per chunk), so samples are ``naive_sampler``'s for
the same key, unless two noisy logits tie within float rounding (tested equal).

The kernel is compiled when the package is installed (``setup.py``); where that was not
possible (no C++ compiler), ``available()`` is False and the registry lists only the XLA
samplers.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.sampling.ancestral import position_noise

TARGET = "autoreg_wavenet_generate_chunk"
CHUNK = 256  # samples per FFI call


@functools.cache
def library_path() -> Path | None:
    """The compiled kernel beside this module, or None if the build did not produce one.

    Run from a source checkout (the tests), this module is not the installed one: the kernel
    that ``pip install .`` built then lies in the installed copy, found on ``sys.path``.
    """
    places = [Path(__file__).parent] + [Path(p) / "autoreg" / "sampling" for p in sys.path if p]
    for place in places:
        found = sorted(place.glob("_wavenet_native*.so"))
        if found:
            return found[0]
    return None


def available() -> bool:
    """True if the compiled kernel was built (it registers with XLA when first used)."""
    return library_path() is not None


@functools.cache
def register() -> bool:
    """Load the kernel and register it with XLA (once per process)."""
    try:
        library = ctypes.cdll.LoadLibrary(str(library_path()))
        jax.ffi.register_ffi_target(
            TARGET, jax.ffi.pycapsule(library.WavenetGenerateChunk), platform="cpu"
        )
    except (OSError, AttributeError, TypeError):
        return False
    return True


def kernel_weights(model, labels, batch: int) -> tuple:
    """The parameters in the kernel's layout, and the per-example gate bias (1, B, L, G)."""
    cfg = model.config
    w = model.step_weights(labels)
    layers = len(w.current)
    conv = jnp.stack([jnp.stack([w.past[i], w.current[i]]) for i in range(layers)])
    weights = (
        w.input_tables,  # (k, K + 1, R)
        w.input_bias,  # (R,)
        conv,  # (L, 2, R, G): weight of h[t - d], then of h[t]
        jnp.stack(w.conv_bias),  # (L, G)
        jnp.stack(w.out_kernel),  # (L, G/2, R + S)
        jnp.stack(w.out_bias),  # (L, R + S)
        *model.output_weights(),  # hidden kernel (S, S), bias (S,); logits kernel (S, K), bias (K,)
        jnp.asarray(cfg.dilations, jnp.int32),
    )
    if w.class_bias is None:
        step_bias = jnp.zeros((1, batch, layers, cfg.gate_channels), jnp.float32)
    else:
        step_bias = jnp.swapaxes(w.class_bias, 0, 1)[None]  # (L, B, G) -> (1, B, L, G)
    return weights, step_bias


def chunk_call(weights, step_bias, x, observed, noise, temperature, start, ring, history):
    """One FFI call: ``x.shape[0]`` samples; returns (values (T, B), ring, history)."""
    out_types = (
        jax.ShapeDtypeStruct(x.shape, jnp.int32),
        jax.ShapeDtypeStruct(ring.shape, jnp.float32),
        jax.ShapeDtypeStruct(history.shape, jnp.int32),
    )
    args = (*weights, step_bias, x, observed, noise, temperature, start, ring, history)
    ring_index = len(args) - 2
    call = jax.ffi.ffi_call(
        TARGET, out_types, input_output_aliases={ring_index: 1, ring_index + 1: 2}
    )
    return call(*args)


@functools.partial(jax.jit, static_argnums=0)
def native_sampler(graphdef, state, key, x, observed, labels, temperature, *, features=None):
    """``naive_sampler``'s samples for a WaveNet, one kernel call per chunk of samples.

    A ``Sampler`` (arguments as documented there) for ``nnx.split`` of a ``WaveNet``; x and the
    samples are (B, T) int32. With local conditioning (a vocoder), each chunk's per-step gate
    biases (class bias plus every layer's projection of the upsampled features,
    ``WaveNet.gate_conditioning``) are computed in one product before the call.
    """
    model = nnx.merge(graphdef, state)
    cfg = model.config
    frames = model.check_conditioning(x, labels, features)  # (B, context + T/hop, F) or None
    if not register():
        raise RuntimeError(f"could not load the WaveNet kernel {library_path()}")
    batch, length = x.shape
    weights, step_bias = kernel_weights(model, labels, batch)
    per_frame = cfg.upsample == "nearest" and cfg.hop_length % CHUNK == 0
    num_chunks = -(-length // CHUNK)
    padded = num_chunks * CHUNK
    x_pad = jnp.pad(jnp.where(observed, x, 0), ((0, 0), (0, padded - length))).astype(jnp.int32)
    obs_pad = jnp.pad(observed, ((0, 0), (0, padded - length)), constant_values=True)
    x_pad = x_pad.T.reshape(num_chunks, CHUNK, batch)
    obs_pad = obs_pad.T.reshape(num_chunks, CHUNK, batch).astype(jnp.int32)
    temperature = jnp.reshape(temperature, (1,)).astype(jnp.float32)

    def chunk(carry, inputs):
        ring, history = carry
        index, x_chunk, obs_chunk = inputs
        start = index * CHUNK
        noise = position_noise(key, start, CHUNK, (batch, cfg.levels))  # (CHUNK, B, K)
        bias = step_bias  # (1, B, L, G)
        if frames is not None:
            # Repeated frames whose hop is a multiple of the chunk: one value for the chunk.
            positions = start + jnp.arange(1 if per_frame else CHUNK)
            gates = model.gate_conditioning(frames, positions)  # (CHUNK or 1, L, B, G)
            bias = step_bias + jnp.swapaxes(gates, 1, 2)  # (CHUNK or 1, B, L, G): class, mel
        values, ring, history = chunk_call(
            weights,
            bias,
            x_chunk,
            obs_chunk,
            noise,
            temperature,
            jnp.reshape(start, (1,)).astype(jnp.int32),
            ring,
            history,
        )
        return (ring, history), values

    ring = jnp.zeros((batch, int(np.sum(cfg.dilations)), cfg.residual_channels), jnp.float32)
    history = jnp.full((batch, cfg.input_kernel), cfg.levels, jnp.int32)
    _, values = jax.lax.scan(
        chunk, (ring, history), (jnp.arange(num_chunks), x_pad, obs_pad)
    )  # (chunks, CHUNK, B)
    return values.reshape(padded, batch).T[:, :length]
