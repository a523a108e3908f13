"""PixelRNN (Row LSTM, Diagonal BiLSTM): receptive fields, the incremental sampler, configs.

Causality (RGB included) and shapes are covered for every registered model in test_models.py.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import autoreg
from autoreg.models.config_io import count_params
from autoreg.models.diagonal_bilstm import skew, unskew
from autoreg.models.functional import logits as model_logits

LEVELS = 8


@functools.cache
def tiny(name: str, shape: tuple, **overrides):
    return autoreg.create_model(
        name, preset="tiny", levels=LEVELS, image_shape=shape, seed=2, **overrides
    )


def dependence_matrix(model, shape: tuple, trials: int = 3) -> np.ndarray:
    """(D, D) bool: [p, q] whether changing only q changes the logits at p, for some of a few
    random inputs (one input can hide a dependence behind ReLUs that are off)."""
    d = int(np.prod(shape))
    deps = np.zeros((d, d), bool)
    for seed in range(trials):
        flat = np.random.default_rng(seed).integers(0, LEVELS, d)
        batch = np.repeat(flat[None], d + 1, axis=0)
        batch[np.arange(1, d + 1), np.arange(d)] = (flat + LEVELS // 2) % LEVELS
        logits = np.asarray(model_logits(model, batch.reshape((d + 1, *shape))))
        logits = logits.reshape(d + 1, d, -1)
        deps |= (logits[1:] != logits[0]).any(-1).T  # [q, p] -> [p, q]
    return deps


def row_lstm_field(height, width, first_kernel, kernel, num_layers) -> dict:
    """Pixels each pixel's logits depend on, derived from the Row LSTM's wiring (one colour)."""
    ry, rx, p = first_kernel // 2, first_kernel // 2, kernel // 2

    def inside(r, c):
        return 0 <= r < height and 0 <= c < width

    @functools.cache
    def stream(layer, r, c):  # data pixels the residual stream entering ``layer`` sees
        if layer == 0:  # mask-A input convolution: rows above and the left of the current row
            taps = [
                (dy, dx) for dy in range(-ry, 1) for dx in range(-rx, rx + 1) if (dy, dx) < (0, 0)
            ]
            return frozenset((r + dy, c + dx) for dy, dx in taps if inside(r + dy, c + dx))
        return stream(layer - 1, r, c) | hidden(layer - 1, r, c)

    @functools.cache
    def hidden(layer, r, c):  # input-to-state over (r, c-p..c), state-to-state over row r-1
        seen = [stream(layer, r, c + dx) for dx in range(-p, 1) if inside(r, c + dx)]
        seen += [hidden(layer, r - 1, c + dx) for dx in range(-p, p + 1) if inside(r - 1, c + dx)]
        return frozenset().union(*seen)

    return {(r, c): stream(num_layers, r, c) for r in range(height) for c in range(width)}


def test_row_lstm_receptive_field_is_the_triangle():
    height, width = 6, 6
    model = tiny("row_lstm", (height, width, 1))
    config = model.config
    deps = dependence_matrix(model, (height, width, 1))
    field = row_lstm_field(height, width, config.first_kernel, config.kernel, config.num_layers)
    for (r, c), pixels in field.items():
        expected = sorted(q * width + s for q, s in pixels)
        assert np.flatnonzero(deps[r * width + c]).tolist() == expected, (r, c)
    # The upper right of the first pixel of row 3 and the far left of the last row are unseen.
    assert (0, 5) not in field[3, 0] and (5, 0) not in field[5, 5]


@pytest.mark.parametrize("colours", [1, 3])
def test_diagonal_bilstm_sees_the_full_context(colours):
    height, width = (6, 6) if colours == 1 else (4, 5)
    # A wider head than "tiny": 2 ReLU units per colour can all be off for some inputs.
    model = tiny("diagonal_bilstm", (height, width, colours), output_channels=24)
    deps = dependence_matrix(model, (height, width, colours))
    d = deps.shape[0]
    assert deps[-1, :-1].all()  # the last sub-pixel depends on every earlier one
    reach = model.config.first_kernel // 2
    for p in range(d):
        i, j = divmod(p // colours, width)
        expected = np.arange(d) < p
        if i >= 1 and j < width - 1 - reach:  # the previous row's last sub-pixel (docstring)
            expected[i * width * colours - 1] = False
        np.testing.assert_array_equal(deps[p], expected, err_msg=f"pixel {(i, j)}")


def test_skew_puts_diagonals_in_columns_and_unskew_inverts_it():
    x = jnp.arange(2 * 3 * 4 * 1).reshape(2, 3, 4, 1)
    skewed = skew(x)  # (2, 3, 6, 1)
    assert skewed.shape == (2, 3, 6, 1)
    for i in range(3):
        np.testing.assert_array_equal(skewed[:, i, i : i + 4], x[:, i])
        assert (np.delete(np.asarray(skewed[:, i]), np.s_[i : i + 4], axis=1) == 0).all()
    np.testing.assert_array_equal(unskew(skewed, 4), x)


def test_labels_are_rejected():
    model = tiny("row_lstm", (3, 3, 1))
    x = np.zeros((1, 3, 3, 1), np.int32)
    with pytest.raises(ValueError, match="unconditional"):
        model(jnp.asarray(x), jnp.zeros((1,), jnp.int32))
    graphdef, state = nnx.split(model)
    with pytest.raises(ValueError, match="unconditional"):
        autoreg.MODELS["row_lstm"].samplers["incremental"](
            graphdef, state, jax.random.key(0), x, x > 0, jnp.zeros(1, jnp.int32), 1.0
        )


@pytest.mark.parametrize("name", ["row_lstm", "diagonal_bilstm"])
def test_bad_configs_are_clear_errors(name):
    with pytest.raises(ValueError, match="multiple of C=3"):
        autoreg.create_model(name, preset="tiny", image_shape=(4, 4, 3), hidden=4)
    with pytest.raises(ValueError, match="first_kernel"):
        autoreg.create_model(name, preset="tiny", first_kernel=4)
    with pytest.raises(ValueError, match="num_layers"):
        autoreg.create_model(name, preset="tiny", num_layers=0)


def test_row_lstm_kernel_must_be_odd():
    with pytest.raises(ValueError, match="kernel must be odd"):
        autoreg.create_model("row_lstm", preset="tiny", kernel=2)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
@pytest.mark.parametrize("name", ["row_lstm", "diagonal_bilstm"])
def test_reference_presets_match_pixelcnn_size_within_20_percent(name, shape):
    def size(model_name):
        abstract = nnx.eval_shape(
            lambda: autoreg.create_model(model_name, preset="reference", image_shape=shape)
        )
        return count_params(abstract)

    assert abs(size(name) / size("pixelcnn") - 1) < 0.2
