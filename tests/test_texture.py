"""Efros-Leung texture synthesis: seeded, copies source values, keeps periodic structure."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from autoreg.texture import downscale, efros_leung, gaussian_window


def periodic_source(shape=(24, 24), period=(3, 4), channels=None, seed=0) -> np.ndarray:
    """A random tile of size ``period`` repeated over ``shape``."""
    rng = np.random.default_rng(seed)
    tile_shape = period if channels is None else (*period, channels)
    tile = rng.choice(np.arange(0, 256, 16), size=tile_shape).astype(np.uint8)
    reps = (shape[0] // period[0] + 1, shape[1] // period[1] + 1)
    reps = reps if channels is None else (*reps, 1)
    return np.tile(tile, reps)[: shape[0], : shape[1]]


def windows_of(image: np.ndarray, size) -> set:
    """Every ``size`` window of an (H, W[, C]) image, as bytes."""
    views = sliding_window_view(image, size, axis=(0, 1))
    return {v.tobytes() for v in views.reshape(-1, *views.shape[2:])}


def noise_source(seed=0) -> np.ndarray:
    """A 20x20 texture of blobs with few grey levels."""
    rng = np.random.default_rng(seed)
    blobs = rng.random((5, 5)).repeat(4, 0).repeat(4, 1) + 0.3 * rng.random((20, 20))
    return (np.digitize(blobs, [0.4, 0.7, 1.0]) * 60 + 20).astype(np.uint8)


def test_same_seed_same_texture_other_seed_other_texture():
    source = noise_source()
    a = efros_leung(source, 12, window=5, seed=3)
    assert a.shape == (12, 12) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, efros_leung(source, 12, window=5, seed=3))
    assert not np.array_equal(a, efros_leung(source, 12, window=5, seed=4))


def test_output_values_come_from_the_source():
    source = noise_source(1)
    out = efros_leung(source, (10, 14), window=5, seed=0)
    assert out.shape == (10, 14)
    assert set(np.unique(out)) <= set(np.unique(source))
    # With downscaling, values come from the downscaled source.
    big = np.random.default_rng(2).integers(0, 256, (40, 30), dtype=np.uint8)
    small = downscale(big[..., None], 20)[..., 0]
    assert small.shape == (20, 15)
    out = efros_leung(big, 8, window=5, source_size=20, seed=0)
    assert set(np.unique(out)) <= set(np.unique(small))


@pytest.mark.parametrize("channels", [None, 3])
def test_periodic_source_gives_periodic_texture(channels):
    source = periodic_source(channels=channels)
    out = efros_leung(source, 16, window=5, seed=1, source_size=None)
    assert out.shape == ((16, 16) if channels is None else (16, 16, 3))
    # Every period-sized window of the output is one of the source's: a shifted copy.
    assert windows_of(out, (3, 4)) <= windows_of(source, (3, 4))
    assert windows_of(out, (5, 5)) <= windows_of(source, (5, 5))


def test_gaussian_window_is_normalised_and_peaked():
    g = gaussian_window(11)
    assert g.shape == (11, 11)
    np.testing.assert_allclose(g.sum(), 1.0)
    assert g[5, 5] == g.max() and g[0, 0] < g[5, 0] < g[5, 5]


@pytest.mark.parametrize(
    "source, size, kwargs, match",
    [
        (np.zeros((20, 20), np.float32), 8, {}, "uint8"),
        (np.zeros((20,), np.uint8), 8, {}, r"\(H, W\)"),
        (np.zeros((20, 20, 5), np.uint8), 8, {}, r"\(H, W\)"),
        (np.zeros((20, 20), np.uint8), 0, {}, "size"),
        (np.zeros((20, 20), np.uint8), (4, 4, 4), {}, "size"),
        (np.zeros((20, 20), np.uint8), 8, dict(window=4), "odd"),
        (np.zeros((8, 8), np.uint8), 8, dict(window=11), "smaller than"),
        (np.zeros((20, 20), np.uint8), 8, dict(window=5, source_size=3), "source_size"),
        (np.zeros((20, 20), np.uint8), 8, dict(error_threshold=-1), "error_threshold"),
    ],
)
def test_bad_arguments_are_clear_errors(source, size, kwargs, match):
    with pytest.raises(ValueError, match=match):
        efros_leung(source, size, **kwargs)


def test_brick_texture_runs_on_the_real_image(shared_data):
    source = np.asarray(Image.open(shared_data / "images" / "brick.png"))
    out = efros_leung(source, 16, window=7, source_size=48, seed=0)
    assert out.shape == (16, 16) and out.dtype == np.uint8
    assert set(np.unique(out)) <= set(np.unique(downscale(source[..., None], 48)))
    assert out.std() > 5  # a texture, not a flat patch
