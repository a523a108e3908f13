"""Files on disk: nothing written through a link or over what is not ours, bounded reads of
checkpoints that may be crafted, and a full disk during a write as one line, nothing left behind.

A full disk is simulated in a subprocess by a file-size limit (``RLIMIT_FSIZE``, with SIGXFSZ
ignored): every write past it fails with EFBIG, through the same calls a full disk fails.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import nnx

import autoreg
from autoreg.checkpoint import read_metadata, restore_items
from autoreg.checkpoint_checks import DamagedCheckpointError, named_leaves, saved_shapes
from autoreg.cli import main
from autoreg.workdir import Run


@pytest.fixture(scope="module")
def model():
    return autoreg.create_model("pixelcnn", preset="tiny", image_shape=(8, 8, 1))


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory):
    """A checkpoint of ``model``."""
    path = tmp_path_factory.mktemp("saved") / "model"
    autoreg.save_checkpoint(model, path)
    return path


def copy_of(path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / path.name
    shutil.copytree(path, copy, symlinks=True)
    return copy


def cli_train(workdir, data, *options) -> list:
    """``autoreg train`` argv: the tiny model on ``data`` (random 6x6 images), checkpoints
    every 3."""
    argv = ["train", "--model", "pixelcnn", "--preset", "tiny", "--levels", "4", "--data"]
    argv += [str(data), "--workdir", str(workdir), "--steps", "6", "--batch-size", "8"]
    argv += ["--checkpoint-every", "3", "--warmup-steps", "2", "--eval-every", "0"]
    return [*argv, "--sample-every", "-1", "--no-progress", *options]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "d.npz"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4, (24, 6, 6), dtype=np.uint8)
    np.savez(path, x_train=images[:16], x_test=images[16:])
    return path


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """A work directory trained 6 steps on the command line (checkpoints at 3 and 6)."""
    workdir = tmp_path_factory.mktemp("trained") / "work"
    assert main(cli_train(workdir, data)) == 0
    return workdir


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("autoreg: error: "), err
    return err


def tree_of(root: Path) -> dict:
    """{relative path: bytes} of every file under ``root`` (links not followed)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# Never write through a link or over what is not ours.


def test_a_linked_lock_file_is_refused_and_its_target_kept(data, tmp_path, capsys):
    precious = tmp_path / "bashrc"
    precious.write_text("precious\n")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "train.lock").symlink_to(precious)
    assert main(cli_train(workdir, data)) == 2
    err = one_error_line(capsys)
    assert f"{workdir / 'train.lock'} is a symbolic link" in err
    assert precious.read_text() == "precious\n"
    assert not (workdir / "checkpoints").exists()


@pytest.mark.parametrize(
    "entry", ["checkpoints/3", "checkpoints", "metrics.jsonl", "damaged", "tensorboard"]
)
def test_a_linked_entry_of_a_workdir_is_refused_before_training(
    trained, data, tmp_path, capsys, entry
):
    workdir = copy_of(trained, tmp_path / "copy")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = workdir / entry
    if linked.exists():
        shutil.move(linked, elsewhere / linked.name)
    else:
        (elsewhere / linked.name).mkdir()
    linked.symlink_to(elsewhere / linked.name)
    before = tree_of(elsewhere)
    assert main(cli_train(workdir, data, "--resume", "--steps", "8")) == 2
    assert f"{linked} is a symbolic link" in one_error_line(capsys)
    assert tree_of(elsewhere) == before
    assert not (workdir / "checkpoints" / "8").exists()


def unwritable_folder(tmp_path) -> Path:
    """A folder this process cannot create files in (read-only; /sys when running as root)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").touch()
    except OSError:
        return folder
    (folder / "probe").unlink()  # root ignores permissions: use a read-only file system
    try:
        Path("/sys/.autoreg-probe").touch()
    except OSError:
        return Path("/sys")
    Path("/sys/.autoreg-probe").unlink()
    pytest.skip("no unwritable folder available")


@pytest.mark.parametrize(
    "where, message",
    [
        ("file", "is not a directory"),
        ("read-only", "is not writable"),
        ("inside read-only", "cannot create the work directory"),
    ],
)
def test_a_workdir_that_is_a_file_or_read_only_is_refused(data, tmp_path, capsys, where, message):
    if where == "file":
        workdir = tmp_path / "work"
        workdir.write_text("not a folder\n")
    else:
        workdir = unwritable_folder(tmp_path)
        workdir = workdir / "work" if where == "inside read-only" else workdir
    assert main(cli_train(workdir, data)) == 2
    err = one_error_line(capsys)
    assert str(workdir) in err and message in err
    if where == "file":
        assert workdir.read_text() == "not a folder\n"


@pytest.mark.parametrize("what", ["directory", "file", "link to a checkpoint"])
def test_overwrite_replaces_only_an_autoreg_checkpoint(model, saved, tmp_path, what):
    path = tmp_path / "target"
    if what == "directory":
        path.mkdir()
        (path / "thesis.tex").write_text("years of work\n")
    elif what == "file":
        path.write_text("years of work\n")
    else:
        path.symlink_to(copy_of(saved, tmp_path / "real"))
    before = tree_of(tmp_path)
    with pytest.raises(ValueError, match=f"{path} is not an autoreg checkpoint"):
        autoreg.save_checkpoint(model, path, overwrite=True)
    assert tree_of(tmp_path) == before and path.is_symlink() == (what == "link to a checkpoint")


def test_overwrite_replaces_a_checkpoint_and_leaves_nothing_beside_it(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    other = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(8, 8, 1), seed=1)
    autoreg.save_checkpoint(other, path, overwrite=True)
    loaded = autoreg.load_checkpoint(path)
    jax.tree.map(
        np.testing.assert_array_equal,
        nnx.to_pure_dict(nnx.state(loaded, nnx.Param)),
        nnx.to_pure_dict(nnx.state(other, nnx.Param)),
    )
    assert os.listdir(tmp_path) == [path.name]


# Bounded reads of checkpoints that may be crafted.


def first_data_file(checkpoint: Path) -> str:
    return str(sorted((checkpoint / "params").rglob("d/*"))[0].relative_to(checkpoint))


def link_out(checkpoint: Path, member: str, target: str | None, tmp_path: Path) -> None:
    """Replace ``member`` by a link to ``target``, or to a copy of itself outside."""
    if target is None:
        target = tmp_path / "outside" / Path(member).name
        target.parent.mkdir(exist_ok=True)
        shutil.copy(checkpoint / member, target)
    (checkpoint / member).unlink()
    (checkpoint / member).symlink_to(target)


LINKS = [
    ("params/_METADATA", "/dev/null"),
    ("metadata/metadata", None),
    ("params/array_metadatas/process_0", None),
    ("data file", None),
]


@pytest.mark.parametrize("member, target", LINKS, ids=[m for m, _ in LINKS])
def test_a_linked_file_in_a_checkpoint_is_refused_before_it_is_read(
    saved, tmp_path, member, target
):
    copy = copy_of(saved, tmp_path / "copy")
    member = first_data_file(copy) if member == "data file" else member
    link_out(copy, member, target, tmp_path)
    named = f"{copy / member} is a symbolic link"
    for read in (autoreg.load_checkpoint, read_metadata):
        with pytest.raises(DamagedCheckpointError, match=named):
            read(copy)


def test_every_reader_checks_the_files_first(saved, model, tmp_path):
    workdir = tmp_path / "work"
    checkpoint = workdir / "checkpoints" / "5"
    shutil.copytree(saved, checkpoint)
    link_out(checkpoint, "metadata/metadata", None, tmp_path)
    with pytest.raises(DamagedCheckpointError, match="metadata/metadata is a symbolic link"):
        Run(workdir, keep=2).metadata(5)
    member = first_data_file(checkpoint)
    link_out(checkpoint, member, None, tmp_path)
    with pytest.raises(DamagedCheckpointError, match=f"{member} is a symbolic link"):
        saved_shapes(checkpoint / "params")
    target = jax.tree.map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
        nnx.to_pure_dict(nnx.state(model, nnx.Param)),
    )
    with pytest.raises(DamagedCheckpointError, match=f"{member} is a symbolic link"):
        restore_items(checkpoint, {"params": target}, {})


def pad_json(path: Path, size: int) -> None:
    """``path`` followed by whitespace up to ``size`` bytes: still the same JSON document."""
    with open(path, "a") as f:
        f.write(" " * (size - path.stat().st_size))


def extend_sparse(path: Path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


@pytest.mark.parametrize(
    "member, grow, message",
    [
        ("params/_METADATA", pad_json, "over the 8 MiB a checkpoint's metadata file may have"),
        ("metadata/metadata", pad_json, "over the 8 MiB a checkpoint's metadata file may have"),
        ("data file", extend_sparse, "of array data, more than the"),
    ],
    ids=["orbax-metadata", "our-metadata", "data"],
)
def test_an_oversized_file_in_a_checkpoint_is_refused_before_it_is_read(
    saved, tmp_path, member, grow, message
):
    copy = copy_of(saved, tmp_path)
    member = first_data_file(copy) if member == "data file" else member
    grow(copy / member, 9 * 2**20 if grow is pad_json else 64 * 2**20)
    with pytest.raises(DamagedCheckpointError, match=message):
        autoreg.load_checkpoint(copy)


@pytest.mark.parametrize("member", ["metadata/metadata", "params/_METADATA"])
def test_deeply_nested_json_is_a_damaged_checkpoint(saved, tmp_path, capsys, member):
    copy = copy_of(saved, tmp_path)
    (copy / member).write_text("[" * 100_000 + "]" * 100_000)
    too_deep = f"{copy / member} is damaged .nested too deep"
    with pytest.raises(DamagedCheckpointError, match=too_deep):
        autoreg.load_checkpoint(copy)
    argv = ["sample", "--checkpoint", str(copy), "--out", str(tmp_path / "s.png")]
    assert main(argv) == 2
    assert f"{member} is damaged" in one_error_line(capsys)


def test_non_finite_parameters_are_refused_on_load(tmp_path):
    model = autoreg.create_model("pixelcnn", preset="tiny", image_shape=(8, 8, 1))
    params = nnx.state(model, nnx.Param)
    pure = nnx.to_pure_dict(params)
    name, _ = named_leaves(pure)[1]
    leaf = pure
    *parents, last = name.split("/")
    for key in parents:
        leaf = leaf[int(key) if key.isdigit() and key not in leaf else key]
    leaf[last] = np.asarray(leaf[last]).copy()
    leaf[last].flat[0] = np.nan
    nnx.replace_by_pure_dict(params, pure)
    nnx.update(model, params)
    autoreg.save_checkpoint(model, tmp_path / "nan")  # the checksums record the NaN
    with pytest.raises(DamagedCheckpointError, match=f"{name} holds NaN or inf values") as caught:
        autoreg.load_checkpoint(tmp_path / "nan")
    assert "\n" not in str(caught.value)


# A full disk.

FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
    from autoreg.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def on_a_full_disk(limit: int, argv: list) -> subprocess.CompletedProcess:
    """``autoreg *argv`` in a process that cannot write files past ``limit`` bytes."""
    command = [sys.executable, "-c", FULL_DISK, str(limit), *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_a_full_disk_during_a_checkpoint_is_one_line_and_resume_is_exact(
    trained, data, tmp_path, capsys
):
    workdir = copy_of(trained, tmp_path)
    shutil.rmtree(workdir / "checkpoints" / "6")
    kept = tree_of(workdir / "checkpoints" / "3")
    # Step 3's metadata files (up to ~25 KB) cannot be written again past 9000 bytes.
    done = on_a_full_disk(9000, cli_train(workdir, data, "--resume"))
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr.count("\n") == 1, done.stderr[-3000:]
    assert done.stderr.startswith(
        f"autoreg: error: cannot write the checkpoint {workdir / 'checkpoints' / '6'}: "
    )
    assert os.listdir(workdir / "checkpoints") == ["3"]  # no orbax temporary directory
    assert tree_of(workdir / "checkpoints" / "3") == kept
    # Space freed: the resume retrains steps 4..6 exactly as the uninterrupted run did.
    assert main(cli_train(workdir, data, "--resume")) == 0
    capsys.readouterr()
    resumed, uninterrupted = (autoreg.load_checkpoint(w) for w in (workdir, trained))
    jax.tree.map(
        np.testing.assert_array_equal,
        nnx.to_pure_dict(nnx.state(resumed, nnx.Param)),
        nnx.to_pure_dict(nnx.state(uninterrupted, nnx.Param)),
    )


@pytest.mark.slow
def test_a_full_disk_while_writing_a_wav_names_the_output(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "mel.npy", rng.normal(-4.0, 1.0, (40, 80)).astype(np.float32))
    out = tmp_path / "out.wav"
    argv = ["vocode", "--mel", str(tmp_path / "mel.npy"), "--method", "griffin-lim"]
    # librosa's numba functions write their compiled-code cache on first use; a first run with
    # room to spare fills it, so the limited run below meets only the WAV's own write.
    assert main([*argv, "--out", str(tmp_path / "first.wav")]) == 0
    (tmp_path / "first.wav").unlink()
    done = on_a_full_disk(1000, [*argv, "--out", str(out)])
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr == f"autoreg: error: cannot write {out}: File too large\n"
    assert os.listdir(tmp_path) == ["mel.npy"]
