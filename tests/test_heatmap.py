"""Per-pixel bits add up to the likelihood; the heatmap PNG shows image and bits side by side."""

import math

import numpy as np
import pytest
from PIL import Image

import autoreg
from autoreg.heatmap import bits_per_position, colour_map, render_heatmap


@pytest.mark.parametrize("colours", [1, 3])
def test_bits_per_pixel_sum_to_minus_log2_likelihood(colours):
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=8, image_shape=(4, 5, colours))
    x = np.random.default_rng(0).integers(0, 8, (3, 4, 5, colours))
    bits = bits_per_position(model, x)
    assert bits.shape == (3, 4, 5) and bits.dtype == np.float32
    assert (bits > 0).all()
    total = -np.asarray(autoreg.log_prob(model, x), np.float64) / math.log(2)
    np.testing.assert_allclose(bits.sum((1, 2)), total, rtol=1e-5)
    # A different image changes the bits where it differs and at positions that see it.
    y = x.copy()
    y[:, 3, 4] = (y[:, 3, 4] + 1) % 8  # the last pixel: only its own bits can change
    changed = bits_per_position(model, y) != bits
    assert changed[:, 3, 4].all() and not changed[:, :3].any() and not changed[:, 3, :4].any()


def test_bits_reject_bad_data():
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=8, image_shape=(4, 4, 1))
    with pytest.raises(ValueError, match="outside 0..7"):
        bits_per_position(model, np.full((1, 4, 4, 1), 9))
    with pytest.raises(ValueError, match="expects"):
        bits_per_position(model, np.zeros((1, 5, 4, 1), np.int32))


def inferno(t):
    """matplotlib's inferno at ``t`` in [0, 1], as uint8 RGB."""
    from matplotlib import colormaps

    return np.asarray(colormaps["inferno"](t, bytes=True)[:3])


def test_colour_map_runs_from_dark_to_bright():
    rgb = colour_map(np.array([0.0, 0.5, 1.0, 2.0]), vmax=1.0)
    np.testing.assert_array_equal(rgb[1], inferno(0.5))
    np.testing.assert_array_equal(rgb[0], inferno(0.0))
    np.testing.assert_array_equal(rgb[2], inferno(1.0))
    np.testing.assert_array_equal(rgb[3], inferno(1.0))  # clipped
    assert rgb[0].sum() < rgb[1].sum() < rgb[2].sum()


def test_render_writes_image_and_heatmap_side_by_side(tmp_path):
    images = np.zeros((2, 4, 4, 1), np.int32)
    images[0, 1, 2] = 7
    bits = np.zeros((2, 4, 4))
    bits[1, 3, 0] = 5.0  # the only surprising pixel
    path = render_heatmap(images, bits, tmp_path / "heat.png", levels=8, scale=10)
    assert path == tmp_path / "heat.png"
    assert [p.name for p in tmp_path.iterdir()] == ["heat.png"]  # no temporary left behind
    out = np.asarray(Image.open(path).convert("RGB"))
    gap = 4
    assert out.shape[0] == 2 * 40 + 3 * gap
    # Image 0: pixel (1, 2) is white (7 of 0..7), (0, 0) black.
    np.testing.assert_array_equal(out[gap + 15, gap + 25], [255, 255, 255])
    np.testing.assert_array_equal(out[gap + 5, gap + 5], [0, 0, 0])
    # Heatmap of image 1: pixel (3, 0) at the top of the scale, the others at the bottom.
    top, left = 2 * gap + 40, 2 * gap + 40
    np.testing.assert_array_equal(out[top + 35, left + 5], inferno(1.0))
    np.testing.assert_array_equal(out[top + 5, left + 5], inferno(0.0))


def test_render_rejects_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match="bits must have shape"):
        render_heatmap(np.zeros((2, 4, 4), np.int32), np.zeros((2, 4, 5)), tmp_path / "a.png")
    with pytest.raises(ValueError, match="C 1 or 3"):
        render_heatmap(np.zeros((2, 4, 4, 2), np.int32), np.zeros((2, 4, 4)), tmp_path / "a.png")
    with pytest.raises(ValueError, match="does not exist"):
        render_heatmap(np.zeros((1, 4, 4), np.int32), np.ones((1, 4, 4)), tmp_path / "x" / "a.png")
    with pytest.raises(ValueError, match="outside 0..255"):
        render_heatmap(np.full((1, 4, 4), 300), np.ones((1, 4, 4)), tmp_path / "a.png")
