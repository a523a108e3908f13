"""Masked convolutions: kept taps, colour masks, both implementations equal, causal guarantee."""

import jax.numpy as jnp
import numpy as np
import pytest
from causality import causality_violations
from flax import nnx

from autoreg.models.layers import MaskedConv2D, centre_mask, kept_taps


def test_kept_taps_count():
    assert len(kept_taps((3, 3), "B", 1)) == 5
    assert len(kept_taps((7, 7), "A", 1)) == 24
    assert len(kept_taps((7, 7), "A", 3)) == 25  # the centre tap, colour-masked
    assert len(kept_taps((1, 1), "B", 1)) == 1


def test_centre_masks_for_rgb():
    np.testing.assert_array_equal(centre_mask(3, 3, 3, "A").array(), np.triu(np.ones((3, 3)), 1))
    np.testing.assert_array_equal(centre_mask(3, 3, 3, "B").array(), np.triu(np.ones((3, 3))))


@pytest.mark.parametrize("mask_type, size, colours", [("A", 7, 1), ("A", 5, 3), ("B", 3, 3)])
def test_taps_and_conv_implementations_agree(mask_type, size, colours):
    kw = dict(mask_type=mask_type, num_colours=colours)
    taps = MaskedConv2D(colours * 2, colours * 4, size, impl="taps", rngs=nnx.Rngs(0), **kw)
    conv = MaskedConv2D(colours * 2, colours * 4, size, impl="conv", rngs=nnx.Rngs(0), **kw)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 6, 5, colours * 2)), jnp.float32)
    np.testing.assert_allclose(taps(x), conv(x), atol=1e-5)


@pytest.mark.parametrize("impl", ["taps", "conv"])
def test_mask_a_layer_is_causal_and_mask_b_is_not(impl):
    colours, levels = 3, 4
    x = np.random.default_rng(0).integers(0, levels, size=(3, 3, colours))

    def layer_logits(mask_type):
        layer = MaskedConv2D(
            colours,
            colours,
            3,
            mask_type=mask_type,
            num_colours=colours,
            impl=impl,
            rngs=nnx.Rngs(0),
        )
        return lambda batch: layer(jnp.asarray(batch, jnp.float32))[..., None]

    assert causality_violations(layer_logits("A"), x, levels) == []
    # Mask B lets a sub-pixel see itself: the checker must catch it at every position.
    assert len(causality_violations(layer_logits("B"), x, levels)) == x.size
