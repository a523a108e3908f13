"""Packages of the optional extras, imported when first needed.

The image models need no audio package: ``soundfile``, ``soxr`` and ``librosa`` come with the
``audio`` extra (``pip install 'autoreg[audio]'``) and are imported by the functions that read,
resample or analyse audio. Without them, such a function raises ``MissingExtraError`` saying
in one line what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from autoreg.errors import AutoregError


class MissingExtraError(AutoregError, ImportError):
    """A package of an optional extra is not installed; the message says what to install."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or say which extra brings it.

    Args:
      module: the package's import name, e.g. ``"soundfile"``.
      extra: the extra of autoreg that installs it, e.g. ``"audio"``.
      purpose: what needs it, for the message, e.g. ``"reading audio"``.

    Raises:
      MissingExtraError: the package cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{purpose} needs the package {module}, which is not installed: "
            f"pip install 'autoreg[{extra}]'",
            name=module,
        ) from error
