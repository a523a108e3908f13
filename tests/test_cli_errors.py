"""Bad requests to the command line: one line on stderr, the usage exit code, nothing written.

Every row is refused before any work (no model is run), so the table is fast. The memory limit
is pinned (``AUTOREG_MEMORY_LIMIT=1G``) so that "too large" does not depend on the machine.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

import autoreg
from autoreg.cli import main

RATE = 16_000


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{placeholder: path} of the inputs the table refers to."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    paths = {name: root / name for name in ("image", "audio", "labelled", "clips")}
    models = {
        "image": autoreg.create_model("pixelcnn", preset="tiny", image_shape=(8, 8, 1)),
        "audio": autoreg.create_model("wavenet", preset="tiny"),
        "labelled": autoreg.create_model(
            "gated_pixelcnn", preset="tiny", image_shape=(8, 8, 1), num_classes=10
        ),
    }
    for name, model in models.items():
        autoreg.save_checkpoint(model, paths[name])
    paths["npz"] = root / "digits.npz"
    np.savez(paths["npz"], x_test=rng.integers(0, 256, (6, 8, 8), dtype=np.uint8))
    paths["random_npz"] = root / "random.npz"
    paths["random_npz"].write_bytes(rng.bytes(1000))
    paths["src"] = root / "src.png"
    Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8)).save(paths["src"])
    paths["clips"].mkdir()
    soundfile.write(paths["clips"] / "clip.wav", rng.uniform(-0.5, 0.5, RATE // 2), RATE)
    return paths


def can_create_files_in(folder: Path) -> bool:
    try:
        fd, probe = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


@pytest.fixture
def unwritable(tmp_path):
    """A folder this process cannot create files in, never a skip: a read-only folder, or, for
    root (who ignores permissions), /proc, where no process can create a file."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/proc"), Path("/sys")):
        if candidate.is_dir() and not can_create_files_in(candidate):
            return candidate
    pytest.fail(f"every folder tried takes new files: {folder}, /proc, /sys")


IMAGE = ("--checkpoint", "{image}")
AUDIO = ("--checkpoint", "{audio}")
EVAL_IMAGE = ("eval", *IMAGE, "--data", "{npz}")
EVAL_AUDIO = ("eval", *AUDIO, "--data", "{clips}", "--holdout-seconds", "0.25")
COMPLETE = ("complete", *IMAGE, "--data", "{npz}", "--out", "{out}/c.png")
TEXTURE = ("texture", "--image", "{src}", "--out", "{out}/t.png")

CASES = [
    # Huge sizes are refused before anything is allocated, saying how much and the limit.
    (
        ("sample", *IMAGE, "--num", "1000000000", "--out", "{out}/s.png"),
        "sampling 1000000000 images of 8x8x1 needs 476.84 GiB, more than the memory limit of "
        "1.00 GiB (AUTOREG_MEMORY_LIMIT=1G)",
    ),
    (
        ("sample", *AUDIO, "--seconds", "1e9", "--out", "{out}/s.wav"),
        "sampling 1 clip of 16000000000000 samples needs",
    ),
    ((*COMPLETE, "--num", "1000000000"), "completing 4000000000 images of 8x8x1 needs"),
    (
        (*COMPLETE, "--occlude", "box:2,2,5,6", "--particles", "1000000000"),
        "completing 16 images of 8x8x1 by SMC with 1000000000 particles each needs",
    ),
    ((*TEXTURE, "--size", "1000000"), "the texture of 1000000x1000000 pixels needs"),
    (
        (*TEXTURE, "--size", "10000", "--scale", "1", "--method", "pixelcnn", "--steps", "1"),
        "sampling a 10000x10000 texture needs",  # before the training
    ),
    (
        ("sample", *IMAGE, "--scale", "100000", "--out", "{out}/s.png"),
        "the grid of 16 samples of 4200000x4200000 pixels needs",
    ),
    # Audio --limit is validated as for images.
    ((*EVAL_AUDIO, "--limit", "-1"), "argument --limit: must be a positive integer, got '-1'"),
    ((*EVAL_AUDIO, "--limit", "0"), "argument --limit: must be a positive integer, got '0'"),
    # The model's kind is checked first, by every command that takes --checkpoint.
    (
        ("texture", "--method", "pixelcnn", *AUDIO, "--out", "{out}/t.png"),
        "holds a wavenet, an audio model; texture works on image models",
    ),
    (
        ("complete", *AUDIO, "--image", "{src}", "--out", "{out}/c.png"),
        "holds a wavenet, an audio model; complete works on image models",
    ),
    (
        ("complete", "--model", "wavenet", "--image", "{src}", "--out", "{out}/c.png"),
        "wavenet is an audio model; complete works on image models",
    ),
    # Outputs and option combinations are checked before the work.
    (
        (*EVAL_AUDIO, "--heatmap", "{out}/h.png"),
        "--heatmap is for image models; wavenet is an audio model",
    ),
    (
        (*EVAL_IMAGE, "--heatmap", "{out}/h.png", "--heatmap-count", "0"),
        "argument --heatmap-count: must be a positive integer, got '0'",
    ),
    ((*EVAL_IMAGE, "--heatmap-count", "3"), "--heatmap-count is for --heatmap"),
    ((*EVAL_IMAGE, "--json", "{unwritable}/r.json"), "r.json: cannot write in"),
    (("sample", *IMAGE, "--out", "{unwritable}/s.png"), "s.png: cannot write in"),
    (("sample", *IMAGE, "--out", "{src}/sub/s.png"), "s.png: folder {src}/sub does not exist"),
    ((*EVAL_IMAGE, "--json", "{out}/r.txt"), "r.txt: output must end in .json"),
    (
        (*TEXTURE, "--method", "pixelcnn", "--save-model", "{out}/missing/model"),
        "model: folder {out}/missing does not exist",
    ),
    (
        (*TEXTURE, "--method", "pixelcnn", "--save-model", "{src}"),
        "--save-model {src} exists and is not a checkpoint",
    ),
    # Messages name the problem, not the internals.
    (
        ("sample", *AUDIO, "--seconds", "nan", "--out", "{out}/s.wav"),
        "argument --seconds: must be a positive number, got 'nan'",
    ),
    ((*EVAL_IMAGE, "--patch-size", "0"), "argument --patch-size: must be a positive integer"),
    ((*EVAL_IMAGE, "--patch-size", "4"), "patch_size cuts patches from image files or folders"),
    (
        (*TEXTURE, "--method", "pixelcnn", "--steps", "1"),
        "src.png (24x24 after downscaling to at most 128 px) is smaller than the 32px patch size",
    ),
    (
        ("eval", *IMAGE, "--data", "{random_npz}"),
        "random.npz: not a .npz file (not a zip archive of NumPy arrays)",
    ),
    # Options that would be ignored are refused, saying why.
    (
        ("sample", *IMAGE, "--seconds", "3", "--out", "{out}/s.png"),
        "--seconds is for audio models; pixelcnn is an image model",
    ),
    (
        ("sample", "--checkpoint", "{labelled}", "--num", "2", "--label", "0", "1", "2", "3"),
        "--label gives 4 labels for 2 samples; pass --num 4 or more",
    ),
    (
        ("texture", *IMAGE, "--image", "{src}", "--out", "{out}/t.png"),
        "--image is for training a texture model; --checkpoint loads a trained one",
    ),
    ((*TEXTURE, "--steps", "5"), "--steps is for --method pixelcnn"),
    ((*TEXTURE, "--method", "pixelcnn", "--window", "5"), "--window is for --method efros-leung"),
    (
        ("complete", *IMAGE, "--image", "{src}", "--index", "0", "--out", "{out}/c.png"),
        "--index is for --data",
    ),
    ((*COMPLETE, "--particles", "8"), "--particles is for SMC; bottom is completed exactly"),
    ((*EVAL_IMAGE, "--window", "100"), "--window is for audio models"),
    (
        ("sample", *AUDIO, "--scale", "2", "--out", "{out}/s.wav"),
        "--scale is for image and video models; wavenet is an audio model",
    ),
]


def case_id(value) -> str:
    return " ".join(value)[:60] if isinstance(value, tuple) else ""


@pytest.mark.parametrize("argv, message", CASES, ids=case_id)
def test_refused_with_one_line_and_nothing_written(
    argv, message, files, tmp_path, capsys, monkeypatch, request
):
    monkeypatch.setenv("AUTOREG_MEMORY_LIMIT", "1G")
    names = {**{k: str(v) for k, v in files.items()}, "out": str(tmp_path)}
    if any("{unwritable}" in arg for arg in argv):
        names["unwritable"] = str(request.getfixturevalue("unwritable"))
    before = sorted(tmp_path.rglob("*"))
    code = main([arg.format(**names) for arg in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("autoreg: error: ") and message.format(**names) in err, err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, not even a temporary


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out and "2    usage or validation error" in out
    assert "1    runtime failure" in out
