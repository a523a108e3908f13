"""Queue-based fast WaveNet generation (Paine et al. 2016, "Fast Wavenet Generation Algorithm").

The naive sampler re-runs the whole network for every new sample. Here every dilated layer keeps
a queue of what it needs from d steps back, so a new sample costs one pass through the layers at
a single time step (O(layers) work), and the state (the queues: the receptive field) does not
grow with the output length. On a CPU one sample is a chain of ~40 small matrix-vector products
whose cost is mostly fixed overhead per operation, so the loop is arranged to have few of them:

- Time runs in blocks of ``block`` samples. A layer of dilation ``d >= block`` needs
  ``h[t - d]`` for the whole block, all computed before the block starts: its "past" products
  run once per block, for all such layers in one batched matrix product, from a stacked ring
  buffer of their inputs read and written once per block.
- A layer of dilation ``d < block`` computes its past product for step ``t + d`` together with
  its current product, ``h[t] @ [W_current | W_past]``, and keeps it in a small ring until then.
- The sampling noise of a chunk of samples is drawn in one vectorised call, a chunk ahead: the
  Gumbel noise that ``draw_categorical`` adds at flat position ``t`` (``jax.random.categorical``
  with key ``fold_in(key, t)``). A batch of one runs on 1-D vectors (no layout copies).

Samples are those of ``naive_sampler`` for the same key: the same positions in the same order,
the same noise, and logits equal to the model's up to float rounding (sums taken in another
order), so a sample could differ only where two noisy logits tie within rounding (tested equal).
Observed positions (completion) go through the same loop, so the queues see the observed data.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.models.wavenet import gated_activation
from autoreg.sampling import SAMPLERS

BLOCK = 16  # samples per block: layers with dilation >= BLOCK batch their past products


class Weights(NamedTuple):
    """The model's parameters regrouped for one time step (L layers)."""

    input_tables: jax.Array  # (k, K + 1, R) causal input convolution, row K = before the start
    input_bias: jax.Array  # (R,)
    current: tuple  # L x (R, G): weight of h[t] in each dilated convolution
    past: tuple  # L x (R, G): weight of h[t - d]
    conv_bias: tuple  # L x (G,)
    class_bias: jax.Array | None  # (L, B, G) gate bias of each example's class, or None
    out_kernel: tuple  # L x (G/2, R + S): residual and skip 1x1 convolutions
    out_bias: tuple  # L x (R + S,)


def gather_weights(model, labels) -> Weights:
    """Split the parameters of ``model`` per layer, with the class bias of ``labels``."""
    layers = model.layers
    class_bias = None
    if model.config.num_classes:
        class_bias = jnp.stack([layer.conditioning(labels, None)[:, 0] for layer in layers])
    return Weights(
        input_tables=model.input_conv.padded_tables(),
        input_bias=model.input_conv.bias[...],
        current=tuple(layer.conv.kernel[...][1] for layer in layers),
        past=tuple(layer.conv.kernel[...][0] for layer in layers),
        conv_bias=tuple(layer.conv.bias[...] for layer in layers),
        class_bias=class_bias,
        out_kernel=tuple(layer.out_kernel[...] for layer in layers),
        out_bias=tuple(layer.out_bias[...] for layer in layers),
    )


def sampling_noise(key, start, count: int, shape) -> jax.Array:
    """(count, *shape) Gumbel noise of flat positions start .. start + count - 1.

    Row i is the noise that ``draw_categorical(key, start + i, logits, temperature)`` adds to
    ``logits / temperature`` before its argmax (``jax.random.categorical``).
    """
    positions = start + jnp.arange(count)
    return jax.vmap(lambda p: jax.random.gumbel(jax.random.fold_in(key, p), shape))(positions)


def ring_layout(dilations) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a stacked ring buffer: layer j owns rows ``offsets[j] .. offsets[j] + d_j - 1``.

    Row ``offsets[j] + (t mod d_j)`` holds what layer j wrote at the latest time congruent to
    t mod d_j; at time t, until overwritten, that is the value from t - d_j.
    """
    dilations = np.asarray(dilations, np.int32)
    offsets = np.concatenate([[0], np.cumsum(dilations)[:-1]]).astype(np.int32)
    return dilations, offsets


def map_examples(fn, in_axes: tuple, out_axes: tuple, batch: int):
    """``jax.vmap(fn)`` over the batch; for a batch of one, ``fn`` on the squeezed example.

    One example then runs as matrix-vector products of 1-D vectors, which on CPUs avoids a
    layout copy before every product.
    """
    if batch > 1:
        return jax.vmap(fn, in_axes, out_axes)

    def single(*args):
        args = [
            a if ax is None or a is None else jnp.squeeze(a, ax)
            for a, ax in zip(args, in_axes, strict=True)
        ]
        return tuple(jnp.expand_dims(out, ax) for out, ax in zip(fn(*args), out_axes, strict=True))

    return single


def generate(
    graphdef, state, key, x, observed, labels, temperature, *, block: int = BLOCK, chunk=256
):
    """Sample ``x``'s unobserved positions in time order with per-layer queues.

    Args:
      graphdef, state: ``nnx.split`` of a WaveNet.
      key: PRNG key; position t uses the noise of ``draw_categorical(key, t, ...)``.
      x: (B, T) int32, read where ``observed``.
      observed: (B, T) bool.
      labels: (B,) class ids for a class-conditional model, else None.
      temperature: scalar float32.
      block: samples per block (a power of two): layers with dilation >= block compute their
        past products once per block.
      chunk: samples whose sampling noise is drawn together (rounded to whole blocks).

    Returns:
      (B, T) int32 samples, those of ``naive_sampler`` for the same key.

    Raises:
      ValueError: a locally conditioned model, missing or unexpected labels, or a block size
        that is not a power of two (the dilations are).
    """
    if block < 1 or block & (block - 1):
        raise ValueError(f"block must be a power of two, got {block}")
    model = nnx.merge(graphdef, state)
    cfg = model.config
    if cfg.local_features:
        raise ValueError("fast generation does not take local conditioning features")
    model.check_conditioning(x, labels, None)
    w = gather_weights(model, labels)
    batch, length = x.shape
    r, g, k, levels = cfg.residual_channels, cfg.gate_channels, cfg.input_kernel, cfg.levels
    dilations = cfg.dilations
    long = [i for i, d in enumerate(dilations) if d >= block]  # past products per block
    short = [i for i, d in enumerate(dilations) if d < block]  # past products per sample

    # Long layers: a ring of their inputs h, read and written a block at a time.
    long_d, long_offsets = ring_layout([dilations[i] for i in long])
    block_rows = long_offsets[:, None] + np.arange(block, dtype=np.int32)  # (Ll, block)
    past_long = jnp.stack([w.past[i] for i in long]) if long else None  # (Ll, R, G)
    # Short layers: a ring of their past products h[t] @ W_past, computed together with the
    # current product h[t] @ W_current in one matrix product and used d steps later.
    short_d, short_offsets = ring_layout([dilations[i] for i in short])
    both_kernels = {i: jnp.concatenate([w.current[i], w.past[i]], axis=1) for i in short}

    def one_sample(history, class_bias, past_short, past_pre, noise, x_t, obs_t):
        """All layers at time t for one example, then its value at t.

        Args: history (k,) last samples; class_bias (L, G) or None; past_short (Ls, G) past
        products of the short layers; past_pre (Ll, G) past products plus biases of the long
        layers; noise (K,); x_t, obs_t: the observed value and whether it is observed.
        Returns: the value (), the short layers' new past products (Ls, G) and the long
        layers' inputs h[t] (Ll, R).
        """
        h = w.input_bias
        for j in range(k):
            h = h + w.input_tables[j][history[j]]  # (R,)
        products_short, inputs_long, skips = [], [], []
        for i in range(len(dilations)):
            if i in short:
                both = h @ both_kernels[i]  # (2G,): current product, past product for t + d
                z = (both[:g] + past_short[short.index(i)]) + w.conv_bias[i]
                if class_bias is not None:
                    z = z + class_bias[i]
                products_short.append(both[g:])
            else:  # past product and biases computed for the whole block
                z = h @ w.current[i] + past_pre[long.index(i)]
                inputs_long.append(h)
            y = gated_activation(z) @ w.out_kernel[i] + w.out_bias[i]  # (R + S,)
            h = h + y[:r]
            skips.append(y[r:])
        skip = functools.reduce(jnp.add, skips)  # summed in layer order, as the model does
        logits = model.output_head(skip)  # (K,)
        drawn = jnp.argmax(noise + logits / temperature).astype(jnp.int32)
        value = jnp.where(obs_t, x_t, drawn)
        return (
            value,
            jnp.stack(products_short) if short else jnp.zeros((0, g)),
            jnp.stack(inputs_long) if long else jnp.zeros((0, r)),
        )

    step_examples = map_examples(one_sample, (0, 1, 1, 1, 0, 0, 0), (0, 1, 1), batch)

    def sample_step(carry, inputs):
        """One time step for the batch: read the short ring, run the layers, write it back."""
        short_ring, history = carry  # (sum of short d, B, G); last k samples (B, k)
        t, past_pre, noise, x_t, obs_t = inputs  # (), (Ll, B, G), (B, K), (B,), (B,)
        rows = short_offsets + t % short_d
        value, products_short, inputs_long = step_examples(
            history, w.class_bias, short_ring[rows], past_pre, noise, x_t, obs_t
        )
        if short:
            short_ring = short_ring.at[rows].set(products_short)
        history = jnp.concatenate([value[:, None], history[:, :-1]], axis=1)
        return (short_ring, history), (value, inputs_long)

    def block_step(carry, inputs):
        """``block`` samples: batched past products of the long layers, then the samples."""
        long_ring, short_ring, history = carry
        start, noise, x_blk, obs_blk = inputs  # (), (block, B, K), (block, B), (block, B)
        if long:
            rows = block_rows + (start % long_d)[:, None]  # (Ll, block)
            past_h = long_ring[rows]  # (Ll, block, B, R): inputs at t - d for the block's t
            products = jnp.einsum("lnbr,lrg->nlbg", past_h, past_long)  # (block, Ll, B, G)
            bias = jnp.stack([w.conv_bias[i] for i in long])[None, :, None]  # (1, Ll, 1, G)
            past_pre = products + bias
            if w.class_bias is not None:
                past_pre = past_pre + w.class_bias[np.array(long)][None]
        else:
            past_pre = jnp.zeros((block, 0, batch, g))
        positions = start + jnp.arange(block)
        (short_ring, history), (values, new_h) = jax.lax.scan(
            sample_step, (short_ring, history), (positions, past_pre, noise, x_blk, obs_blk)
        )
        if long:
            long_ring = long_ring.at[rows].set(jnp.swapaxes(new_h, 0, 1))  # (Ll, block, B, R)
        return (long_ring, short_ring, history), values

    blocks_per_chunk = max(1, min(chunk // block, -(-length // block)))
    chunk = blocks_per_chunk * block
    num_chunks = -(-length // chunk)
    padded = num_chunks * chunk
    x_pad = jnp.pad(jnp.where(observed, x, 0), ((0, 0), (0, padded - length)))
    obs_pad = jnp.pad(observed, ((0, 0), (0, padded - length)), constant_values=True)
    x_pad = x_pad.T.reshape(num_chunks, blocks_per_chunk, block, batch)
    obs_pad = obs_pad.T.reshape(num_chunks, blocks_per_chunk, block, batch)

    def chunk_noise(index):
        """(blocks per chunk, block, B, K) sampling noise of chunk ``index``."""
        noise = sampling_noise(key, index * chunk, chunk, (batch, levels))  # (chunk, B, K)
        return noise.reshape(blocks_per_chunk, block, batch, levels)

    def chunk_step(carry, inputs):
        """``chunk`` samples block by block; the next chunk's noise is drawn meanwhile."""
        queues, noise = carry
        index, x_chunk, obs_chunk = inputs
        next_noise = chunk_noise(index + 1)  # does not depend on this chunk's samples
        starts = index * chunk + block * jnp.arange(blocks_per_chunk)
        queues, values = jax.lax.scan(block_step, queues, (starts, noise, x_chunk, obs_chunk))
        return (queues, next_noise), values

    long_ring = jnp.zeros((int(long_d.sum()), batch, r), jnp.float32)
    short_ring = jnp.zeros((int(short_d.sum()), batch, g), jnp.float32)
    history = jnp.full((batch, k), levels, jnp.int32)  # index K: before the start (zero input)
    _, values = jax.lax.scan(
        chunk_step,
        ((long_ring, short_ring, history), chunk_noise(0)),
        (jnp.arange(num_chunks), x_pad, obs_pad),
    )  # (chunks, blocks per chunk, block, B)
    return values.reshape(padded, batch).T[:, :length]


fast_sampler = jax.jit(functools.partial(generate, block=BLOCK), static_argnums=0)

SAMPLERS.setdefault("wavenet", {})["fast"] = fast_sampler
