"""Every config field of every model has a type and bounds: floats, bools and huge values fail.

Each family's config declares its fields' rules in its own ``BOUNDS`` (``config_checks``)."""

import dataclasses
from typing import ClassVar

import pytest

import autoreg
from autoreg.models.config_checks import MAX_SIDE, WIDTH, check_fields
from autoreg.registry import make_config


def bounds(name) -> dict:
    """The rules of the family ``name``'s config fields."""
    return autoreg.MODELS[name].config_cls.BOUNDS


def int_fields(name):
    """The fields of ``name``'s config with a (minimum, maximum) rule."""
    config = make_config(name, "tiny")
    rules = bounds(name)
    return [f.name for f in dataclasses.fields(config) if isinstance(rules[f.name], tuple)]


CASES = [(name, field) for name in sorted(autoreg.MODELS) for field in int_fields(name)]


@pytest.mark.parametrize("name", sorted(autoreg.MODELS))
def test_every_field_has_a_rule_and_every_rule_a_field(name):
    fields = {f.name for f in dataclasses.fields(autoreg.MODELS[name].config_cls)}
    assert set(bounds(name)) == fields
    assert int_fields(name), name  # every family has integer fields under test


@pytest.mark.parametrize("name, field", CASES)
def test_integer_fields_refuse_floats_bools_and_values_out_of_bounds(name, field):
    value = getattr(make_config(name, "tiny"), field)
    with pytest.raises(TypeError, match=f"{field} must be an integer, got {float(value)!r}"):
        make_config(name, "tiny", **{field: float(value)})
    with pytest.raises(TypeError, match=f"{field} must be an integer, got True"):
        make_config(name, "tiny", **{field: True})
    low, high = bounds(name)[field]
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

        BOUNDS: ClassVar[dict] = dict(levels=(2, 256))

    with pytest.raises(TypeError, match=r"Config.novelty has no bounds: .* in Config\.BOUNDS"):
        check_fields(Config())


def test_a_family_owns_its_bounds():
    """The same name may have other bounds in another family: the table is the config's."""

    @dataclasses.dataclass(frozen=True)
    class Narrow:
        channels: int = 8

        BOUNDS: ClassVar[dict] = dict(channels=(4, 16))

    @dataclasses.dataclass(frozen=True)
    class Wide:
        channels: int = 8

        BOUNDS: ClassVar[dict] = dict(channels=WIDTH)

    check_fields(Wide(channels=32))
    with pytest.raises(ValueError, match=r"channels must be in 4\.\.16, got 32"):
        check_fields(Narrow(channels=32))


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
