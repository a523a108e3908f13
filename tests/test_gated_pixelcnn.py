"""Gated PixelCNN: no blind spot, causal with colours and labels, both conv paths equal."""

import functools

import jax
import numpy as np
import pytest
from causality import causality_violations, dependence_on_earlier
from flax import nnx

import autoreg
from autoreg.models.functional import apply_split
from autoreg.models.functional import logits as model_logits
from autoreg.models.gated_pixelcnn import GatedPixelCNN
from autoreg.models.layers import TapConv2D
from autoreg.registry import make_config

LEVELS = 8


@functools.cache
def model(image_shape=(4, 4, 3), num_classes=0, **overrides):
    return autoreg.create_model(
        "gated_pixelcnn",
        preset="tiny",
        levels=LEVELS,
        image_shape=image_shape,
        num_classes=num_classes,
        seed=2,
        **overrides,
    )


def fixed_batch_logits(m, size, labels=None):
    """logits_fn for the causality helpers, padded to one batch size (one compile)."""

    graphdef, state = nnx.split(m)
    labels = None if labels is None else np.resize(labels, size)

    def logits_fn(batch):
        n = len(batch)
        padded = np.concatenate([batch, np.zeros((size - n,) + batch.shape[1:], batch.dtype)])
        return np.asarray(apply_split(graphdef, state, padded, labels))[:n]

    return logits_fn


def image(shape, seed=0):
    return np.random.default_rng(seed).integers(0, LEVELS, size=shape)


@pytest.mark.parametrize("shape", [(8, 8, 1), (5, 5, 3)])
def test_no_blind_spot_every_earlier_position_matters(shape):
    # Reach of the stacks: first_kernel // 2 + (num_layers - 1) = 3 + 4 >= 7 rows and columns.
    m = model(shape, num_layers=5, first_kernel=7, skip_channels=24, head_channels=24)
    d = np.prod(shape)
    logits_fn = fixed_batch_logits(m, d + 1)
    # A ReLU of the head can hide a dependence for one input, so take the union over two.
    images = [image(shape, seed) for seed in (0, 1)]
    for p in range(d):
        seen = set()
        for x in images:
            seen.update(dependence_on_earlier(logits_fn, x, LEVELS, p))
        assert sorted(seen) == list(range(p)), p


def test_pixelcnn_has_the_blind_spot_that_gated_removes():
    # The check above can fail: a PixelCNN of the same reach misses the upper right.
    shape = (8, 8, 1)
    pixelcnn = autoreg.create_model(
        "pixelcnn", preset="tiny", levels=LEVELS, image_shape=shape, num_blocks=4, seed=2
    )
    x = image(shape)
    p = 5 * 8 + 2  # pixel (5, 2)
    seen = dependence_on_earlier(fixed_batch_logits(pixelcnn, p + 1), x, LEVELS, p)
    # Masked 3x3 kernels only move right by also moving up: (4, 4) and (4, 7) are never seen.
    assert 4 * 8 + 1 in seen
    assert 4 * 8 + 4 not in seen
    assert 4 * 8 + 7 not in seen


def test_conditional_model_is_causal_with_colours():
    m = model((4, 4, 3), num_classes=3)
    x = image((4, 4, 3))
    size = x.size + 1
    labels = np.full(size, 2)  # the same label for every perturbed copy
    assert causality_violations(fixed_batch_logits(m, size, labels), x, LEVELS) == []


def test_labels_change_the_logits_and_are_checked():
    m = model((4, 4, 3), num_classes=3)
    x = image((2, 4, 4, 3))
    a = np.asarray(model_logits(m, x, np.array([0, 0])))
    b = np.asarray(model_logits(m, x, np.array([0, 2])))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[1], b[1])
    assert autoreg.log_prob(m, x, labels=[1, 2]).shape == (2,)
    with pytest.raises(ValueError, match="class-conditional"):
        autoreg.log_prob(m, x)
    with pytest.raises(ValueError, match="labels must be in 0..2"):
        autoreg.log_prob(m, x, labels=[0, 3])
    with pytest.raises(ValueError, match="unconditional"):
        autoreg.log_prob(model((4, 4, 3)), x, labels=[0, 1])


@pytest.mark.parametrize("num_classes, dilations", [(0, ()), (3, ()), (0, (2, 3))])
def test_taps_and_conv_paths_are_equal(num_classes, dilations):
    # Same seed, same parameters: only the convolution's implementation differs (with
    # dilations, the conv path uses XLA's kernel dilation).
    taps = model((4, 5, 3), num_classes, conv_impl="taps", dilations=dilations)
    conv = model((4, 5, 3), num_classes, conv_impl="conv", dilations=dilations)
    x = image((3, 4, 5, 3))
    labels = np.array([0, 1, 2]) if num_classes else None
    with jax.default_matmul_precision("highest"):  # no TF32 on GPUs
        np.testing.assert_allclose(
            np.asarray(model_logits(conv, x, labels)),
            np.asarray(model_logits(taps, x, labels)),
            rtol=1e-5,
            atol=1e-5,
        )


def test_stack_conv_paths_agree_on_gradients():
    taps = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0))
    x = jax.random.normal(jax.random.key(1), (2, 5, 6, 4))

    def kernel_grad(impl):
        graphdef, params = nnx.split(TapConv2D(4, 6, taps, impl=impl, rngs=nnx.Rngs(0)))
        grads = jax.jit(jax.grad(lambda p: (nnx.merge(graphdef, p)(x) ** 2).sum()))(params)
        return grads["kernel"][...]

    with jax.default_matmul_precision("highest"):  # no TF32 on GPUs
        np.testing.assert_allclose(kernel_grad("taps"), kernel_grad("conv"), rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_a_dilated_layer_reads_every_dth_row_and_column():
    # The third layer (dilation 2) reads rows i - 2 and i, columns j - 2, j and j + 2; the model
    # stays causal (its cached sampler's equality with naive: the registry tables' kind, below).
    dilated = model((6, 6, 1), 0, dilations=(1, 2))
    layer = dilated.layers[2]
    assert layer.vertical_taps == tuple((dy, dx) for dy in (-2, 0) for dx in (-2, 0, 2))
    assert layer.horizontal_taps == ((0, -2), (0, 0))
    logits_fn = fixed_batch_logits(dilated, 37)
    assert causality_violations(logits_fn, image((6, 6, 1)), LEVELS) == []
    cached = autoreg.sample(dilated, 3, 2, labels=None)
    np.testing.assert_array_equal(cached, autoreg.sample(dilated, 3, 2, method="naive"))


def test_reference_preset_is_about_0_6m_parameters():
    config = make_config("gated_pixelcnn", "reference", levels=256, num_classes=10)
    m = jax.eval_shape(lambda: GatedPixelCNN(config, rngs=nnx.Rngs(0)))
    count = sum(p.size for p in jax.tree.leaves(nnx.state(m, nnx.Param)))
    assert 550_000 < count < 650_000


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(kernel=4), "kernel must be odd"),
        (dict(first_kernel=1), "first_kernel must be odd and at least 3"),
        (dict(features=2), "features must be at least 3 .one per colour, C=3"),
        (dict(num_layers=0), r"num_layers must be in 1\.\.128, got 0"),
        (dict(num_classes=-1), "num_classes"),
        (dict(conv_impl="fft"), "conv_impl"),
        (dict(dilations=(1,)), r"dilations needs one entry per layer after the first \(2\)"),
        (dict(dilations=(1, 0)), r"each of dilations must be in 1\.\.64, got 0"),
    ],
)
def test_bad_config_is_a_clear_error(fields, message):
    with pytest.raises(ValueError, match=message):
        make_config("gated_pixelcnn", "tiny", image_shape=(4, 4, 3), **fields)
