"""Every config field of every model has a type and bounds: floats, bools and huge values fail."""

import dataclasses

import pytest

import autoreg
from autoreg.models.config_checks import BOUNDS, MAX_SIDE, check_fields
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


# A value of the wrong type for each field that is not a plain integer (integers: a string).
WRONG = {"speakers": (5,), "mel": "not a mel analysis"}
EVERY_FIELD = [
    (name, field)
    for name in sorted(autoreg.MODELS)
    for field in (f.name for f in dataclasses.fields(make_config(name, "tiny")))
]


@pytest.mark.parametrize("name, field", EVERY_FIELD)
def test_every_field_refuses_a_value_of_the_wrong_type(name, field):
    with pytest.raises((TypeError, ValueError), match=field):
        make_config(name, "tiny", **{field: WRONG.get(field, "8")})


@pytest.mark.parametrize("speakers", [5, "alice"])
def test_speakers_must_be_a_sequence_of_names(speakers):
    with pytest.raises(TypeError, match="speakers must be a tuple of names"):
        make_config("wavenet", "tiny", speakers=speakers)


def test_a_field_without_a_rule_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Config:
        levels: int = 4
        novelty: int = 3

    with pytest.raises(TypeError, match="Config.novelty has no bounds in config_checks"):
        check_fields(Config())


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
