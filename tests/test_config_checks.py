"""Every config field of every model has a type and bounds: floats, bools and huge values fail."""

import dataclasses

import pytest

import autoreg
from autoreg.models.config_checks import BOUNDS, CHECKED_BY_THE_CONFIG, MAX_SIDE
from autoreg.registry import make_config


def int_fields(name):
    config = make_config(name, "tiny")
    return [f.name for f in dataclasses.fields(config) if f.name in BOUNDS]


CASES = [(name, field) for name in sorted(autoreg.MODELS) for field in int_fields(name)]


@pytest.mark.parametrize("name, field", CASES)
def test_integer_fields_refuse_floats_bools_and_values_out_of_bounds(name, field):
    value = getattr(make_config(name, "tiny"), field)
    with pytest.raises(TypeError, match=f"{field} must be an integer, got {float(value)!r}"):
        make_config(name, "tiny", **{field: float(value)})
    with pytest.raises(TypeError, match=f"{field} must be an integer, got True"):
        make_config(name, "tiny", **{field: True})
    low, high = BOUNDS[field]
    for outside in (low - 1, high + 1):
        with pytest.raises(ValueError, match=rf"{field} must be in {low}\.\.{high}, got {outside}"):
            make_config(name, "tiny", **{field: outside})


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_every_field_has_a_rule(name):
    # check_fields refuses a field it has no rule for, so building each config proves coverage.
    config = make_config(name, "tiny")
    ruled = set(BOUNDS) | {"image_shape", "conv_impl", "dilations", *CHECKED_BY_THE_CONFIG}
    assert {f.name for f in dataclasses.fields(config)} <= ruled


@pytest.mark.parametrize(
    "shape, message",
    [
        ((100_000, 100_000, 1), f"image_shape H must be in 1..{MAX_SIDE}, got 100000"),
        ((8, 8, 1.0), "image_shape C must be an integer, got 1.0"),
        ((8, 8), "image_shape must be"),
    ],
)
def test_image_shape_is_bounded(shape, message):
    with pytest.raises((TypeError, ValueError), match=message.replace(".", r"\.")):
        make_config("pixelcnn", "tiny", image_shape=shape)
