"""Public names of a package imported on first use (PEP 562), so that importing the package,
or any module inside it, runs none of the modules it exports from."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, sources: dict[str, str]) -> tuple[Callable, Callable]:
    """The ``__getattr__`` and ``__dir__`` of a package whose public names are imported when
    first used.

    Args:
      package: the package's ``__name__``.
      sources: public name -> the module it comes from (a name that is the module's own last
        part, e.g. ``"data": "autoreg.data"``, stands for the module itself).

    Returns:
      ``(__getattr__, __dir__)``, to assign in the package's ``__init__``.

    Examples:
      >>> import autoreg.data
      >>> autoreg.data.load.__module__  # imported from autoreg.data.sources when first read
      'autoreg.data.sources'
    """

    def __getattr__(name: str):
        """Import the public name ``name`` from its module (then set on the package).

        Raises:
          AttributeError: ``name`` is not a public name of the package.
        """
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(source)
        value = module if source == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        """The package's attributes with the public names not yet imported."""
        return sorted({*vars(sys.modules[package]), *sources})

    return __getattr__, __dir__
