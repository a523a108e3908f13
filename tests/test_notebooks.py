"""The notebooks in docs/notebooks/ run top to bottom, with tiny settings, and are stored clean.

Each notebook's first code cell is tagged ``parameters`` (papermill's convention); the test
replaces its source with the tiny settings of ``TINY`` and runs the notebook with nbclient in a
temporary working directory (a python3 kernel from ipykernel), then looks for the outputs that
show the notebook did its job: an image, a finite bits/dim, audio players.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
MNIST = str(SHARED_MNIST) if SHARED_MNIST.is_file() else None  # real digits where they exist

# Tiny settings per notebook: a few samples, a few training steps, a tenth of a second of audio.
TINY = {
    "quickstart": "num_samples = 6\nnum_digits = 2\ncompletions = 3\nmnist_path = None\nseed = 0",
    "train_on_your_images": (
        f"image_folder = None\nmnist_path = {MNIST!r}\nnum_images = 8\nsteps = 3\n"
        "batch_size = 4\nnum_samples = 2\nworkdir = 'runs/my_images'\nseed = 0"
    ),
    "vocoder": "audio_path = None\nseconds = 0.1\nseed = 0",
}
TIMEOUT = 120  # seconds per cell
KERNEL = "autoreg-test-python3"  # a kernelspec for this interpreter, made by ``kernel`` below


@pytest.fixture
def kernel(tmp_path_factory, monkeypatch) -> str:
    """A kernelspec that starts ipykernel with this test's Python, found first on JUPYTER_PATH.

    A user's own ``python3`` kernelspec may point at another Python; this one runs the
    notebooks in the environment under test.

    Returns:
      The kernel name to pass to nbclient.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel_json = {"argv": argv, "display_name": "Python 3 (tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel_json))
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    return KERNEL


def parameters_cell(notebook) -> int:
    """Index of the notebook's cell tagged ``parameters``.

    Args:
      notebook: an ``nbformat.NotebookNode``.

    Returns:
      The index of the first code cell, which must be the one tagged ``parameters``.
    """
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    tagged = [i for i in code if "parameters" in notebook.cells[i].metadata.get("tags", [])]
    assert tagged == code[:1], "the first code cell, and only it, is tagged 'parameters'"
    return tagged[0]


def run_notebook(name: str, parameters: str, workdir: Path, kernel: str = "python3"):
    """Execute a notebook with its parameters cell replaced.

    Args:
      name: the notebook's file name without ``.ipynb``.
      parameters: Python source that replaces the ``parameters`` cell.
      workdir: the kernel's working directory (files the notebook writes go here).
      kernel: the name of the kernelspec to run it with.

    Returns:
      (the executed ``NotebookNode``, seconds it took). A cell that raises fails the test
      through nbclient's ``CellExecutionError``.
    """
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    notebook.cells[parameters_cell(notebook)].source = parameters
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=TIMEOUT,
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()
    client.execute()
    return notebook, time.perf_counter() - start


def outputs(notebook) -> list:
    """Every output of every code cell, in order."""
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def printed(notebook) -> str:
    """Everything the notebook's cells wrote to stdout, joined."""
    return "".join(o.text for o in outputs(notebook) if o.output_type == "stream")


def bits_printed(text: str) -> list[float]:
    """The numbers printed just before ``bits/dim`` or ``bits/sample``."""
    return [float(x) for x in re.findall(r"(-?[\d.]+|nan|inf) bits/(?:dim|sample)", text)]


def has_mime(notebook, mime: str) -> bool:
    """Whether some display or result output carries ``mime`` (e.g. ``image/png``)."""
    return any(mime in out.get("data", {}) for out in outputs(notebook))


def check_ran(notebook) -> None:
    """Every code cell ran (an execution count) and none wrote an error output."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None, cell.source[:80]
            assert all(out.output_type != "error" for out in cell.outputs), cell.source[:80]


@pytest.mark.parametrize("name", sorted(TINY))
def test_notebook_runs(name, tmp_path, kernel):
    """Runs top to bottom with tiny settings and shows what it is about (images, bits, audio)."""
    notebook, seconds = run_notebook(name, TINY[name], tmp_path, kernel)
    print(f"{name}: {seconds:.1f} s")
    check_ran(notebook)
    text = printed(notebook)
    bits = bits_printed(text)
    assert bits and all(math.isfinite(b) and b > 0 for b in bits), text
    if name == "quickstart":
        assert has_mime(notebook, "image/png")  # sample grids and the heatmap
        assert (tmp_path / "heatmap.png").is_file()
        digits, noise = bits[0], bits[-1]
        assert noise > digits  # noise costs the model more than digits do
    elif name == "train_on_your_images":
        assert has_mime(notebook, "image/png")
        assert len(list((tmp_path / "my_images" / "train").glob("*.png"))) == 7
        steps = [
            json.loads(line)["step"]
            for line in (tmp_path / "runs/my_images/metrics.jsonl").read_text().splitlines()
        ]
        assert max(steps) == 6  # trained 3 steps, resumed to 6
    else:
        players = [
            o for o in outputs(notebook) if "<audio" in o.get("data", {}).get("text/html", "")
        ]
        assert len(players) == 4  # the clip, then original, WaveNet, Griffin-Lim
        assert "log-mel distance" in text


@pytest.mark.parametrize("name", sorted(TINY))
def test_notebook_stored_clean(name):
    """Stored without outputs (small repository, clean diffs), parameters first."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    parameters_cell(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]
    assert notebook.metadata.kernelspec.name == "python3"


def test_every_notebook_is_tested():
    """Every notebook in docs/notebooks/ has tiny settings here, so the tests above run it."""
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(TINY)
