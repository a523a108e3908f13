"""The documentation's examples run: the ``>>>`` blocks of ``docs/*.md`` and of docstrings.

The guides' examples read ``mnist.npz`` from the working directory, where a user downloads it
(the README and the getting-started page say how); here that is a stand-in of the same layout
(64 training and 16 test digits of 28x28, random), written to a temporary directory that is
also where every example writes, so nothing is downloaded and the examples need no data set.
Tiny presets keep the whole file at about half a minute.
"""

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import jax
import numpy as np
import pytest

import autoreg

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "docs").glob("*.md") if ">>>" in p.read_text())
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
KERAS_MNIST = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
FIRST_HOUR = [  # the README, the getting-started page, the notebooks and the pages they lead to
    ROOT / "README.md",
    *(ROOT / "docs" / name for name in ("index.md", "gpu.md", "textures.md", "video.md")),
    *sorted((ROOT / "docs" / "notebooks").glob("*.ipynb")),
]


def modules_with_examples() -> list[str]:
    """Every module of the package whose source holds a ``>>>`` example (found without
    importing the others: ``autoreg.cli.__main__`` would run the command)."""
    names = ["autoreg"]
    for info in pkgutil.walk_packages(autoreg.__path__, "autoreg."):
        names.append(info.name)
    found = []
    for name in names:
        origin = importlib.util.find_spec(name).origin
        if origin and origin.endswith(".py") and ">>>" in Path(origin).read_text():
            found.append(name)
    return found


def write_stand_in_mnist(path: Path) -> None:
    """``x_train``/``y_train``/``x_test``/``y_test`` as in MNIST's ``.npz``, but 80 digits."""
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 64).astype(np.uint8),
        x_test=rng.integers(0, 256, (16, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 16).astype(np.uint8),
    )


def globs() -> dict:
    return {"autoreg": autoreg, "jax": jax, "np": np}


def test_the_guides_have_examples():
    assert {"index.md", "sampling.md", "training.md"} <= {page.name for page in PAGES}


def test_getting_started_says_where_mnist_comes_from():
    """The README and the first page name a download of ``mnist.npz`` (never run here) and the
    TensorFlow Datasets alternative."""
    for name in ("README.md", "docs/index.md"):
        text = (ROOT / name).read_text()
        assert KERAS_MNIST in text and "tfds:mnist --download" in text, name


def test_first_hour_paths_exist_for_a_user():
    """What a newcomer runs first reads data from the working directory, never from a folder
    beside the repository that only its developers have."""
    for path in FIRST_HOUR:
        assert "../shared" not in path.read_text(), path.relative_to(ROOT)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
@pytest.mark.slow
def test_guide_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_stand_in_mnist(tmp_path / "mnist.npz")
    result = doctest.testfile(
        str(page), module_relative=False, globs=globs(), optionflags=OPTIONS, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, extraglobs=globs(), optionflags=OPTIONS, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
