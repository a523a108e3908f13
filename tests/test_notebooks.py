"""The notebooks in docs/notebooks/ run top to bottom, with tiny settings, and are stored with
small outputs.

Each notebook's first code cell is tagged ``parameters`` (papermill's convention); the test
replaces its source with the tiny settings of ``TINY`` and runs the notebook with nbclient in a
temporary working directory (a python3 kernel from ipykernel), then looks for the outputs that
show the notebook did its job: an image, a finite bits/dim, audio players.

The stored notebooks carry the outputs of one run with their own parameters (the site shows
them as stored; ``python tests/test_notebooks.py --mnist mnist.npz`` makes them), so they are
checked too: one run top to bottom, no errors, nothing the site cannot show, and small.
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


def write_kernelspec(root: Path) -> None:
    """Write the kernelspec ``KERNEL`` under ``root`` (a JUPYTER_PATH entry): ipykernel with this
    Python, so that a user's own ``python3`` kernelspec, which may point at another Python, is
    not the one that runs the notebooks."""
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel_json = {"argv": argv, "display_name": "Python 3 (tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel_json))


@pytest.fixture
def kernel(tmp_path_factory, monkeypatch) -> str:
    """The kernelspec ``KERNEL``, found first on JUPYTER_PATH.

    Returns:
      The kernel name to pass to nbclient.
    """
    root = tmp_path_factory.mktemp("jupyter")
    write_kernelspec(root)
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


@pytest.mark.slow
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


MAX_OUTPUT_CHARS = 200_000  # one stored output (a PNG or a 2 s audio player is well under)
MAX_NOTEBOOK_BYTES = 800_000  # a whole stored notebook
MAX_STREAM_LINES = 30  # printed text per output: results, not logs
WIDGETS = "application/vnd.jupyter.widget-view+json"  # progress bars: not shown on the site


@pytest.mark.parametrize("name", sorted(TINY))
def test_notebook_stored_with_small_outputs(name):
    """Stored as one clean run: parameters first, every code cell run once in order, no errors
    or widgets, small outputs, and the outputs that show what the notebook is about."""
    path = NOTEBOOKS / f"{name}.ipynb"
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    parameters_cell(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", cell.source[:80]
            assert WIDGETS not in out.get("data", {}), cell.source[:80]
            assert len(json.dumps(out)) <= MAX_OUTPUT_CHARS, cell.source[:80]
            if out.output_type == "stream":
                assert out.name == "stdout", out.text[:200]  # no warnings or progress bars
                assert out.text.count("\n") <= MAX_STREAM_LINES, cell.source[:80]
    assert bits_printed(printed(notebook)), "the stored run shows its bits/dim"
    assert has_mime(notebook, "image/png")
    assert notebook.metadata.kernelspec.name == "python3"
    assert "widgets" not in notebook.metadata


def test_every_notebook_is_tested():
    """Every notebook in docs/notebooks/ has tiny settings here, so the tests above run it."""
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(TINY)


def store_outputs(name: str, workdir: Path, kernel: str) -> float:
    """Run a notebook with its own parameters and store its outputs in it (not a test).

    Args:
      name: the notebook's file name without ``.ipynb``.
      workdir: the kernel's working directory, standing for ``docs/notebooks``.
      kernel: the name of the kernelspec to run it with.

    Returns:
      Seconds the run took. Warnings and progress bars (stderr, widgets) are dropped, and the
      notebook's metadata is kept as it was.
    """
    path = NOTEBOOKS / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    metadata = notebook.metadata
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=600,
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                out
                for out in cell.outputs
                if not (out.output_type == "stream" and out.name == "stderr")
                and WIDGETS not in out.get("data", {})
            ]
    notebook.metadata = metadata
    path.write_text(nbformat.writes(notebook) + "\n")
    return seconds


def main(argv: list[str] | None = None) -> None:
    """``python tests/test_notebooks.py --mnist mnist.npz [NAME ...]``: store the notebooks'
    outputs (all of them by default), each run in a fresh temporary folder that stands for
    ``docs/notebooks``, with MNIST two folders up where the notebooks look for it."""
    import argparse
    import os
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("names", nargs="*", help=f"notebooks (default: all of {sorted(TINY)})")
    parser.add_argument("--mnist", type=Path, help="MNIST as .npz (default: none, no digits)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(TINY))
    if unknown:
        parser.error(f"no such notebook: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory() as tmp:
        write_kernelspec(Path(tmp, "jupyter"))
        os.environ["JUPYTER_PATH"] = str(Path(tmp, "jupyter"))
        for name in args.names or sorted(TINY):
            root = Path(tmp, name)
            workdir = root / "docs" / "notebooks"
            workdir.mkdir(parents=True)
            if args.mnist is not None:
                (root / "mnist.npz").symlink_to(args.mnist.resolve())
            print(f"{name}: {store_outputs(name, workdir, KERNEL):.1f} s")


if __name__ == "__main__":
    main()
