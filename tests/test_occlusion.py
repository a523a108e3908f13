"""Occlusion specs -> observed masks, and which of them exact completion handles."""

import numpy as np
import pytest
from PIL import Image

from autoreg.occlusion import occlusion_mask
from autoreg.sampling.ancestral import observed_is_prefix


def is_raster_suffix(observed):
    """The hidden pixels of an (H, W) mask are a suffix of the raster order."""
    return observed_is_prefix(observed[None])


def test_bottom_is_a_raster_suffix_and_right_and_box_are_not():
    assert is_raster_suffix(occlusion_mask("bottom", 6, 4))
    assert not is_raster_suffix(occlusion_mask("right", 6, 4))
    box = occlusion_mask("box:1,1,3,3", 6, 4)
    assert not is_raster_suffix(box)
    assert (~box).sum() == 4 and not box[1:3, 1:3].any()


def test_everything_after_a_pixel_is_a_suffix():
    observed = np.ones((3, 3), bool)
    observed.reshape(-1)[4:] = False
    assert is_raster_suffix(observed)


def test_prefix_is_checked_per_example():
    observed = np.ones((2, 3, 3), bool)
    observed[0, 2] = False  # example 0: bottom row hidden, a prefix observed
    assert observed_is_prefix(observed)
    observed[1, 0, 0] = False  # example 1: a hole before observed pixels
    assert not observed_is_prefix(observed)


def test_mask_png_white_is_hidden(tmp_path):
    mask = np.zeros((4, 5), np.uint8)
    mask[2:, 1] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    observed = occlusion_mask(str(tmp_path / "m.png"), 4, 5)
    np.testing.assert_array_equal(observed, mask == 0)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("left", "unknown occlusion"),
        ("box:1,2,3", "box:Y0"),
        ("box:0,0,9,9", "outside"),
        ("box:2,2,2,3", "empty"),
        ("missing.png", "no such file"),
    ],
)
def test_bad_specs_are_clear_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        occlusion_mask(spec, 6, 6)
