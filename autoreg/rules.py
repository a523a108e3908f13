"""Rules on one value, each written once and shared by the API, the configs and the CLI.

A ``Rule`` is a requirement in words and the test of it. ``rule.check(value, name)`` refuses
a value of the API or of a config with ``InputError("<name> <requirement>, got <value>")``;
``rule.argparse_type(parse)`` is the argparse type of a command-line option under the same
rule, which refuses the text given with ``"<requirement>, got '<text>'"`` (argparse names the
option). No module here loads NumPy, so the CLI can build its parser without it.

Examples:
  >>> from autoreg.rules import POSITIVE_INT
  >>> POSITIVE_INT.check(3, "steps")
  3
  >>> POSITIVE_INT.check(0, "steps")
  Traceback (most recent call last):
  ...
  autoreg.errors.InputError: steps must be a positive integer, got 0
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import numbers
from collections.abc import Callable

from autoreg.errors import InputError

__all__ = [
    "FRACTION",
    "MAX_SEED",
    "NON_NEGATIVE_INT",
    "NON_NEGATIVE_NUMBER",
    "POSITIVE_INT",
    "POSITIVE_NUMBER",
    "SEED",
    "Rule",
    "int_at_least",
    "one_of",
]

MAX_SEED = 2**63 - 1  # the largest seed a JAX key takes (a signed 64-bit integer)


def is_int(value) -> bool:
    """An integer, Python's or NumPy's, but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    """A finite real number, Python's or NumPy's, but not a bool."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


@dataclasses.dataclass(frozen=True)
class Rule:
    """A requirement on one value.

    Attributes:
      requirement: what a value must be, in words (``"must be a positive integer"``).
      holds: True for the values that meet it.
      convert: the type a value that meets it is returned as (``int``, ``float``, ``str``).
    """

    requirement: str
    holds: Callable[[object], bool]
    convert: Callable = lambda value: value

    def check(self, value, name: str):
        """``value`` converted, or an InputError naming ``name``.

        Raises:
          InputError: the value does not meet the requirement.
        """
        if not self.holds(value):
            raise InputError(f"{name} {self.requirement}, got {value!r}")
        return self.convert(value)

    def argparse_type(self, parse: Callable[[str], object]) -> Callable[[str], object]:
        """The argparse type of an option under this rule: its text read by ``parse``
        (``int``, ``float``, ``str``), then checked."""

        def option_type(text: str):
            try:
                value = parse(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{self.requirement}, got {text!r}") from None
            if not self.holds(value):
                raise argparse.ArgumentTypeError(f"{self.requirement}, got {text!r}")
            return self.convert(value)

        option_type.__name__ = parse.__name__  # argparse's name for the type
        return option_type


def int_at_least(least: int) -> Rule:
    """The rule of an integer ``>= least``."""
    return Rule(f"must be an integer >= {least}", lambda v: is_int(v) and v >= least, int)


def one_of(choices: tuple) -> Rule:
    """The rule of a value among ``choices``."""
    return Rule(f"must be one of {', '.join(map(str, choices))}", lambda v: v in choices)


POSITIVE_INT = Rule("must be a positive integer", lambda v: is_int(v) and v >= 1, int)
NON_NEGATIVE_INT = int_at_least(0)
POSITIVE_NUMBER = Rule("must be a positive number", lambda v: is_number(v) and v > 0, float)
NON_NEGATIVE_NUMBER = Rule("must be a number >= 0", lambda v: is_number(v) and v >= 0, float)
FRACTION = Rule("must be a number in [0, 1)", lambda v: is_number(v) and 0 <= v < 1, float)
SEED = Rule(f"must be an integer in 0..{MAX_SEED}", lambda v: is_int(v) and 0 <= v <= MAX_SEED, int)
