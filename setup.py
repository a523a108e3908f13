"""Builds the optional C++ WaveNet generation kernel (autoreg/sampling/wavenet_native.cc).

Everything else is declared in pyproject.toml. The kernel is an XLA FFI handler compiled against
the FFI headers that jaxlib ships; it is loaded with ctypes (no Python C API), so it builds as a
plain shared library. Where it cannot be built (no C++ compiler), installation goes on without
it and WaveNet generation uses the XLA queue sampler (``autoreg.sampling.wavenet_native``).
"""

import os
import sys
from importlib.util import find_spec
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def jaxlib_include() -> str:
    """jaxlib's include folder (xla/ffi/api/ffi.h), without importing jax."""
    spec = find_spec("jaxlib")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(Path(next(iter(spec.submodule_search_locations))) / "include")


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns instead of failing when the kernel cannot be compiled."""

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:  # compiler missing or failing: the XLA path remains
            print(
                f"autoreg: not building {ext.name} ({error}); using the XLA sampler",
                file=sys.stderr,
            )


# -march=native: the kernel is built on the machine that runs it (pip install); set
# AUTOREG_NATIVE_FLAGS to build for another target (e.g. "-mavx2 -mfma").
flags = os.environ.get("AUTOREG_NATIVE_FLAGS", "-march=native").split()

setup(
    ext_modules=[
        Extension(
            "autoreg.sampling._wavenet_native",
            sources=["autoreg/sampling/wavenet_native.cc"],
            include_dirs=[jaxlib_include()],
            language="c++",
            extra_compile_args=["-O3", "-std=c++17", "-pthread", "-w", *flags],
            extra_link_args=["-pthread"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
