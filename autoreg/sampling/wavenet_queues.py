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

Samples are those of ``naive_sampler`` for the same key (a ``Sampler``; the registry's default
for ``wavenet``): the same positions in the same order,
the same noise, and logits equal to the model's up to float rounding (sums taken in another
order), so a sample could differ only where two noisy logits tie within rounding (tested equal).
Observed positions (completion) go through the same loop, so the queues see the observed data.

Local conditioning (a mel-conditioned WaveNet): once per block, the features of the block's
samples are upsampled and projected into every layer's gate in one product
(``WaveNet.gate_conditioning``); the long layers add it to their per-block past products, the
short layers take it, with their biases, as one per-step bias. With nearest-neighbour
upsampling and a hop that is a multiple of the block (the vocoder: 256 and 16) a block lies in
one frame, so its conditioning is computed once and rides in the class-bias slot: a
conditioned step costs what a class-conditioned one does. Nothing of it is kept between
blocks, so the state still does not grow with the length.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from autoreg.errors import InputError
from autoreg.models.layers import gated_activation
from autoreg.models.wavenet import StepWeights
from autoreg.sampling.ancestral import draw_with_noise, position_noise
from autoreg.validation import check_count

BLOCK = 16  # samples per block: layers with dilation >= BLOCK batch their past products


def ring_layout(dilations) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a stacked ring buffer: layer j owns rows ``offsets[j] .. offsets[j] + d_j - 1``.

    Row ``offsets[j] + (t mod d_j)`` holds what layer j wrote at the latest time congruent to
    t mod d_j; at time t, until overwritten, that is the value from t - d_j.
    """
    dilations = np.asarray(dilations, np.int32)
    offsets = np.concatenate([[0], np.cumsum(dilations)[:-1]]).astype(np.int32)
    return dilations, offsets


class QueuePlan(NamedTuple):
    """Which layers batch their past products per block, and the rows of the two rings."""

    block: int  # samples per block
    long: list  # indices of the layers with dilation >= block (past products per block)
    short: list  # indices of the layers with dilation < block (past products per sample)
    long_d: np.ndarray  # (Ll,) dilations of the long layers
    long_offsets: np.ndarray  # (Ll,) first row of each long layer in the ring of inputs h
    block_rows: np.ndarray  # (Ll, block) ring rows of a block starting at a multiple of d
    short_d: np.ndarray  # (Ls,) dilations of the short layers
    short_offsets: np.ndarray  # (Ls,) first row of each short layer in the ring of products


def plan_queues(dilations, block: int) -> QueuePlan:
    """Split the layers at ``block`` and lay out their rings."""
    long = [i for i, d in enumerate(dilations) if d >= block]
    short = [i for i, d in enumerate(dilations) if d < block]
    long_d, long_offsets = ring_layout([dilations[i] for i in long])
    short_d, short_offsets = ring_layout([dilations[i] for i in short])
    block_rows = long_offsets[:, None] + np.arange(block, dtype=np.int32)
    return QueuePlan(block, long, short, long_d, long_offsets, block_rows, short_d, short_offsets)


class QueueWeights(NamedTuple):
    """The step weights, plus what the two kinds of layer need stacked or joined."""

    step: StepWeights
    past_long: jax.Array | None  # (Ll, R, G) past kernels of the long layers
    long_bias: jax.Array | None  # (1, Ll, B or 1, G) conv bias (+ class bias) of the long layers
    both_kernels: dict  # short layer i -> (R, 2G): [W_current | W_past]


def prepare_weights(model, labels, plan: QueuePlan) -> QueueWeights:
    """Regroup the model's parameters for the queue loop (once per call, outside the loop)."""
    w = model.step_weights(labels)
    past_long = long_bias = None
    if plan.long:
        past_long = jnp.stack([w.past[i] for i in plan.long])
        long_bias = jnp.stack([w.conv_bias[i] for i in plan.long])[None, :, None]
    both = {i: jnp.concatenate([w.current[i], w.past[i]], axis=1) for i in plan.short}
    return QueueWeights(w, past_long, long_bias, both)


def one_sample(model, weights, plan, temperature, *args):
    """All layers at time t for one example, then its value at t.

    Args (after the bound ones): history (k,) last samples; class_bias (L, G) or None;
    past_short (Ls, G) past products of the short layers; past_pre (Ll, G) past products plus
    biases of the long layers; noise (K,); x_t, obs_t: the observed value and whether it is
    observed; short_bias (Ls, G): the short layers' whole gate bias at t (conv bias, class bias
    and local conditioning), or None (then conv bias and class bias are added here).

    Returns:
      The value (), the short layers' new past products (Ls, G) and the long layers' inputs
      h[t] (Ll, R).
    """
    history, class_bias, past_short, past_pre, noise, x_t, obs_t, short_bias = args
    w, short, long = weights.step, plan.short, plan.long
    r, g = w.input_bias.shape[0], w.conv_bias[0].shape[0]
    h = w.input_bias
    for j in range(w.input_tables.shape[0]):
        h = h + w.input_tables[j][history[j]]  # (R,)
    products_short, inputs_long, skips = [], [], []
    for i in range(len(w.current)):
        if i in short:
            both = h @ weights.both_kernels[i]  # (2G,): current product, past product for t + d
            z = both[:g] + past_short[short.index(i)]
            if short_bias is not None:
                z = z + short_bias[short.index(i)]
            else:
                z = z + w.conv_bias[i]
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
    drawn = draw_with_noise(noise, logits, temperature)
    value = jnp.where(obs_t, x_t, drawn)
    return (
        value,
        jnp.stack(products_short) if short else jnp.zeros((0, g)),
        jnp.stack(inputs_long) if long else jnp.zeros((0, r)),
    )


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


def sample_step(step_examples, plan: QueuePlan, class_bias, carry, inputs, *, block_bias=None):
    """One time step for the batch: read the short ring, run the layers, write it back.

    ``block_bias``: (Ls, B, G) whole gate bias of the short layers, the same for every step of
    the block, used when the inputs carry no per-step one.
    """
    short_ring, history = carry  # (sum of short d, B, G); last k samples (B, k)
    t, past_pre, short_bias, noise, x_t, obs_t = inputs  # (), (Ll, B, G), (Ls, B, G) or None,
    # (B, K), (B,), (B,)
    short_bias = block_bias if short_bias is None else short_bias
    rows = plan.short_offsets + t % plan.short_d
    value, products_short, inputs_long = step_examples(
        history, class_bias, short_ring[rows], past_pre, noise, x_t, obs_t, short_bias
    )
    if plan.short:
        short_ring = short_ring.at[rows].set(products_short)
    history = jnp.concatenate([value[:, None], history[:, :-1]], axis=1)
    return (short_ring, history), (value, inputs_long)


def long_past_products(weights: QueueWeights, plan: QueuePlan, long_ring, start):
    """The long layers' past products plus biases for the block at ``start``.

    Returns:
      (block, Ll, B, G) pre-activations, and the (Ll, block) ring rows of the block.
    """
    rows = plan.block_rows + (start % plan.long_d)[:, None]  # (Ll, block)
    past_h = long_ring[rows]  # (Ll, block, B, R): inputs at t - d for the block's t
    products = jnp.einsum("lnbr,lrg->nlbg", past_h, weights.past_long)  # (block, Ll, B, G)
    past_pre = products + weights.long_bias
    if weights.step.class_bias is not None:
        past_pre = past_pre + weights.step.class_bias[np.array(plan.long)][None]
    return past_pre, rows


def conditioned_biases(weights: QueueWeights, plan: QueuePlan, gate, past_pre):
    """Add a block's local conditioning: (long layers' past_pre, short layers' per-step bias).

    Args:
      gate: (block, L, B, G) every layer's gate input from the features (one product).
      past_pre: (block, Ll, B, G) the long layers' past products plus biases.

    Returns:
      (block, Ll, B, G) past_pre with the conditioning added, and (block, Ls, B, G) the short
      layers' whole gate bias: conv bias, class bias and conditioning.
    """
    w, short = weights.step, plan.short
    past_pre = past_pre + gate[:, np.array(plan.long, np.int32)]
    short_bias = gate[:, np.array(short, np.int32)]
    if short:
        short_bias = short_bias + jnp.stack([w.conv_bias[i] for i in short])[None, :, None]
        if w.class_bias is not None:
            short_bias = short_bias + w.class_bias[np.array(short)][None]
    return past_pre, short_bias


def block_biases(weights: QueueWeights, plan: QueuePlan, gates, per_frame: bool, past_pre, start):
    """The block's local conditioning (``gates(positions)``: (N, L, B, G)) added to the biases.

    ``per_frame``: the block lies within one frame of nearest-neighbour upsampling, so its
    conditioning is one vector per layer: computed once (``gates`` at the block's start) and
    folded, with the conv and class biases, into one bias per short layer for the block, so
    that a conditioned step costs what an unconditioned one does. Otherwise every sample's
    conditioning is computed (one product for the block) and the short layers take a per-step
    bias.

    Returns:
      (past_pre (block, Ll, B, G), class bias (L, B, G) or None, per-step short bias
      (block, Ls, B, G) or None, block short bias (Ls, B, G) or None).
    """
    if gates is None:
        return past_pre, weights.step.class_bias, None, None
    if per_frame:
        gate = gates(start[None])  # (1, L, B, G)
        past_pre, block_bias = conditioned_biases(weights, plan, gate, past_pre)
        return past_pre, None, None, block_bias[0]
    positions = start + jnp.arange(past_pre.shape[0])
    past_pre, short_bias = conditioned_biases(weights, plan, gates(positions), past_pre)
    return past_pre, None, short_bias, None


def block_step(
    step_examples, weights, plan: QueuePlan, gates, per_frame: bool, unroll: int, carry, inputs
):
    """``block`` samples: batched past products of the long layers (and the block's local
    conditioning, ``gates(positions)`` (N, L, B, G), when not None), then the samples (their
    loop unrolled by ``unroll``)."""
    long_ring, short_ring, history = carry
    start, noise, x_blk, obs_blk = inputs  # (), (block, B, K), (block, B), (block, B)
    block, batch = noise.shape[0], noise.shape[1]
    if plan.long:
        past_pre, rows = long_past_products(weights, plan, long_ring, start)
    else:
        past_pre = jnp.zeros((block, 0, batch, short_ring.shape[-1]))
    past_pre, class_bias, short_bias, block_bias = block_biases(
        weights, plan, gates, per_frame, past_pre, start
    )
    step = functools.partial(sample_step, step_examples, plan, class_bias, block_bias=block_bias)
    positions = start + jnp.arange(block)
    (short_ring, history), (values, new_h) = jax.lax.scan(
        step,
        (short_ring, history),
        (positions, past_pre, short_bias, noise, x_blk, obs_blk),
        unroll=unroll,
    )
    if plan.long:
        long_ring = long_ring.at[rows].set(jnp.swapaxes(new_h, 0, 1))  # (Ll, block, B, R)
    return (long_ring, short_ring, history), values


def block_function(model, x, labels, features, temperature, block: int, unroll: int = 1):
    """``(block_step for this model and conditioning, its QueuePlan)``, checking the labels
    and features for ``x`` (B, T)."""
    cfg = model.config
    frames = model.check_conditioning(x, labels, features)  # (B, context + T/hop, F) or None
    plan = plan_queues(cfg.dilations, block)
    weights = prepare_weights(model, labels, plan)
    layer_step = functools.partial(one_sample, model, weights, plan, temperature)
    step_examples = map_examples(layer_step, (0, 1, 1, 1, 0, 0, 0, 1), (0, 1, 1), x.shape[0])
    gates = None if frames is None else functools.partial(model.gate_conditioning, frames)
    per_frame = cfg.upsample == "nearest" and cfg.hop_length % block == 0
    blocks = functools.partial(block_step, step_examples, weights, plan, gates, per_frame, unroll)
    return blocks, plan


def generate(
    graphdef,
    state,
    key,
    x,
    observed,
    labels,
    temperature,
    *,
    features=None,
    block: int = BLOCK,
    chunk=256,
    unroll: int = 1,
):
    """Sample ``x``'s unobserved positions in time order with per-layer queues.

    Args:
      graphdef, state: ``nnx.split`` of a WaveNet.
      key: PRNG key; position t uses the noise of ``draw_categorical(key, t, ...)``.
      x: (B, T) int32, read where ``observed``.
      observed: (B, T) bool.
      labels: (B,) class ids for a class-conditional model, else None.
      temperature: scalar float32.
      features: (B, T // hop_length, F) frames for a locally conditioned model, else None.
      block: samples per block (a power of two): layers with dilation >= block compute their
        past products once per block.
      chunk: samples whose sampling noise is drawn together (rounded to whole blocks).
      unroll: unroll the loop over a block's samples by this factor (``block``: fully), which
        a GPU, bound by kernel launches, may favour; the samples are the same.

    Returns:
      (B, T) int32 samples, those of ``naive_sampler`` for the same key.

    Raises:
      InputError: missing, unexpected or mis-shaped labels or features, or a block size that
        is not a power of two (the dilations are).
    """
    if block < 1 or block & (block - 1):
        raise InputError(f"block must be a power of two, got {block}")
    unroll = check_count(unroll, "unroll")
    model = nnx.merge(graphdef, state)
    cfg = model.config
    blocks, plan = block_function(model, x, labels, features, temperature, block, unroll)
    batch, length = x.shape
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
        noise = position_noise(key, index * chunk, chunk, (batch, cfg.levels))  # (chunk, B, K)
        return noise.reshape(blocks_per_chunk, block, batch, cfg.levels)

    def chunk_step(carry, inputs):
        """``chunk`` samples block by block; the next chunk's noise is drawn meanwhile."""
        queues, noise = carry
        index, x_chunk, obs_chunk = inputs
        next_noise = chunk_noise(index + 1)  # does not depend on this chunk's samples
        starts = index * chunk + block * jnp.arange(blocks_per_chunk)
        queues, values = jax.lax.scan(blocks, queues, (starts, noise, x_chunk, obs_chunk))
        return (queues, next_noise), values

    long_ring = jnp.zeros((int(plan.long_d.sum()), batch, cfg.residual_channels), jnp.float32)
    short_ring = jnp.zeros((int(plan.short_d.sum()), batch, cfg.gate_channels), jnp.float32)
    # index K: before the start (zero input)
    history = jnp.full((batch, cfg.input_kernel), cfg.levels, jnp.int32)
    _, values = jax.lax.scan(
        chunk_step,
        ((long_ring, short_ring, history), chunk_noise(0)),
        (jnp.arange(num_chunks), x_pad, obs_pad),
    )  # (chunks, blocks per chunk, block, B)
    return values.reshape(padded, batch).T[:, :length]


fast_sampler = jax.jit(functools.partial(generate, block=BLOCK), static_argnums=0)


@functools.cache
def fast_variant(block: int = BLOCK, unroll: int = 1):
    """``fast_sampler`` with another block size or unrolling (a ``Sampler``; same samples).

    For the speed comparisons on a GPU (``experiments/device_speed.py``).
    """
    return jax.jit(functools.partial(generate, block=block, unroll=unroll), static_argnums=0)
