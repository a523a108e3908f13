"""orbax checkpoints: exact round trip, self-describing, clear errors on foreign or damaged dirs."""

import json
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autoreg
from autoreg.checkpoint import read_metadata
from autoreg.checkpoint_checks import DamagedCheckpointError
from autoreg.cli import main


@pytest.fixture(scope="module")
def model():
    return autoreg.create_model(
        "pixelcnn", preset="tiny", levels=8, image_shape=(4, 4, 3), seed=2, channels=12
    )


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "model"
    autoreg.save_checkpoint(model, path, extra={"step": 7})
    return path


def test_round_trip_preserves_log_prob_exactly(model, saved):
    x = np.random.default_rng(0).integers(0, 8, size=(3, 4, 4, 3))
    loaded = autoreg.load_checkpoint(saved)
    np.testing.assert_array_equal(autoreg.log_prob(loaded, x), autoreg.log_prob(model, x))
    assert loaded.config == model.config and loaded.name == "pixelcnn"


def test_metadata_records_name_config_and_extra(saved):
    metadata = read_metadata(saved)
    assert metadata["model"] == "pixelcnn"
    assert metadata["config"]["channels"] == 12 and metadata["step"] == 7


PICKLE_HEADERS = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))  # PROTO 2..5


def test_no_file_of_a_checkpoint_is_a_pickle(saved):
    """No file of a saved checkpoint starts with a pickle protocol header (PROTO 2..5).

    Catches a save that pickles any part of the checkpoint (the record, the parameters, a
    tree of them, an extra file beside them), whatever its name or folder. The files are
    counted first, so that a walk of the wrong directory cannot pass by finding nothing.
    """
    files = sorted(p for p in saved.rglob("*") if p.is_file())
    names = {str(p.relative_to(saved)) for p in files}
    assert {"metadata/metadata", "params/_METADATA"} <= names, names
    assert any("/d/" in name for name in names), names  # the arrays' data files
    for path in files:
        head = path.read_bytes()[:2]
        assert head not in PICKLE_HEADERS, f"{path.relative_to(saved)} starts like a pickle"


def test_loading_a_checkpoint_never_unpickles(model, saved, monkeypatch):
    """``load_checkpoint`` gives the saved model while every way into pickle raises.

    Catches a load that unpickles anything (a record or a tree read with ``pickle.load``,
    a deep copy through ``pickle.loads``, ``np.load(allow_pickle=True)`` of an object array),
    which would run code from an untrusted checkpoint.
    """

    def refuse(*args, **kwargs):
        raise AssertionError("load_checkpoint called pickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    loaded = autoreg.load_checkpoint(saved)
    monkeypatch.undo()
    x = np.random.default_rng(1).integers(0, 8, size=(2, 4, 4, 3))
    np.testing.assert_array_equal(autoreg.log_prob(loaded, x), autoreg.log_prob(model, x))


def test_refuses_to_overwrite(model, saved):
    with pytest.raises(ValueError, match="already exists"):
        autoreg.save_checkpoint(model, saved)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no checkpoint"):
        autoreg.load_checkpoint(tmp_path / "nothing")


def test_foreign_directory_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="not an autoreg checkpoint"):
        autoreg.load_checkpoint(tmp_path)


def copy_with_metadata(saved, tmp_path, edit):
    """A copy of the checkpoint ``saved`` whose JSON metadata went through ``edit(dict)``."""
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    meta_file = copy / "metadata" / "metadata"
    meta = json.loads(meta_file.read_text())
    edit(meta)
    meta_file.write_text(json.dumps(meta))
    return copy


def test_unknown_model_in_metadata_is_a_clear_error(saved, tmp_path):
    copy = copy_with_metadata(saved, tmp_path, lambda meta: meta.update(model="transformer"))
    with pytest.raises(ValueError, match="unknown model"):
        autoreg.load_checkpoint(copy)


def test_damaged_parameters_are_a_clear_error(saved, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    shutil.rmtree(copy / "params")
    (copy / "params").mkdir()
    with pytest.raises(ValueError, match="params is damaged: .*_METADATA"):
        autoreg.load_checkpoint(copy)


def test_config_mismatch_is_a_clear_error(saved, tmp_path):
    # The parameters on disk no longer fit the recorded config.
    copy = copy_with_metadata(saved, tmp_path, lambda meta: meta["config"].update(channels=16))
    with pytest.raises(ValueError, match="params does not fit its metadata: .* has shape "):
        autoreg.load_checkpoint(copy)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("num_blocks", 1_000_000, r"num_blocks must be in 0\.\.128, got 1000000"),
        ("levels", 1e9, r"levels must be an integer, got 1000000000\.0 \(float\)"),
        ("channels", 1e7, r"channels must be an integer, got 10000000\.0 \(float\)"),
        ("image_shape", [100_000, 100_000, 1], r"image_shape H must be in 1\.\.4096"),
        ("levels", True, "levels must be an integer, got True"),
        # Within the bounds, but not what the arrays hold: found from metadata files alone.
        ("num_blocks", 100, r"does not fit its metadata: blocks/\d+/expand/bias has shape None"),
    ],
)
def test_crafted_metadata_fails_at_once_in_one_line(saved, tmp_path, field, value, message):
    copy = copy_with_metadata(saved, tmp_path, lambda meta: meta["config"].update({field: value}))
    start = time.monotonic()
    with pytest.raises(ValueError, match=message) as caught:
        autoreg.load_checkpoint(copy)
    assert time.monotonic() - start < 5, "loading must refuse before building anything"
    assert "\n" not in str(caught.value)


def test_model_over_the_memory_budget_is_refused_before_it_is_built(saved, tmp_path):
    # Convolution weights do not depend on the image size: only the budget catches this one.
    big = copy_with_metadata(
        saved, tmp_path, lambda m: m["config"].update(image_shape=[512] * 2 + [3])
    )
    with pytest.raises(ValueError, match=r"needs [0-9.]+ MiB .* over the 102\.40 MiB budget"):
        autoreg.load_checkpoint(big, memory_budget=2**30 // 10)
    assert autoreg.load_checkpoint(big).config.image_shape == (512, 512, 3)  # default budget


def test_crafted_checkpoint_on_the_command_line_is_one_line(saved, tmp_path, capsys):
    copy = copy_with_metadata(saved, tmp_path, lambda meta: meta["config"].update(num_blocks=10**6))
    out = tmp_path / "s.png"
    assert main(["sample", "--checkpoint", str(copy), "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "num_blocks must be in 0..128" in err
    assert not out.exists()


class Planted:
    """A pickle that, if anything ever unpickled it, would create the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


@pytest.mark.parametrize("planted", ["metadata/metadata", "params/_METADATA", "params/checkpoint"])
def test_a_planted_pickle_is_never_run(saved, tmp_path, planted):
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    marker = tmp_path / "pickle-ran"
    (copy / planted).write_bytes(pickle.dumps(Planted(marker)))
    try:
        autoreg.load_checkpoint(copy)
    except ValueError as error:
        assert planted in str(error)  # a damaged file, named
    assert not marker.exists()


def data_files(checkpoint: Path) -> list:
    """The TensorStore data files of the parameters (orbax keeps copies per process)."""
    params = checkpoint / "params"
    return sorted(params.glob("d/*")) + sorted(params.glob("ocdbt.process_*/d/*"))


def damage_all(paths, damage) -> None:
    for path in paths:
        damage(path)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda c: damage_all(data_files(c), truncate),
            r"params is damaged: .*not valid for value",
        ),
        (lambda c: damage_all(data_files(c), flip_bytes), r"params is damaged"),
        (lambda c: flip_bytes(c / "params" / "manifest.ocdbt"), r"params/manifest.ocdbt"),
        (lambda c: (c / "params" / "_METADATA").write_bytes(b"\x80garbage"), "params/_METADATA"),
        (lambda c: (c / "metadata" / "metadata").write_bytes(b"\x80"), "metadata/metadata is"),
    ],
    ids=["truncated", "flipped", "manifest", "orbax-metadata", "our-metadata"],
)
def test_damaged_file_is_named_in_one_line(saved, tmp_path, damage, message):
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    damage(copy)
    with pytest.raises(DamagedCheckpointError, match=message) as caught:
        autoreg.load_checkpoint(copy)
    assert "\n" not in str(caught.value) and "tensorstore_spec" not in str(caught.value)


def test_damaged_checkpoint_prints_one_line_and_nothing_after(saved, tmp_path):
    # In a fresh process, so that what orbax's abandoned reads print on the way out is seen.
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    damage_all(data_files(copy), truncate)
    command = [sys.executable, "-m", "autoreg.cli", "sample", "--checkpoint", str(copy)]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "s.png")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1, done.stderr[:3000]
    assert done.stderr.startswith("autoreg: error: ") and "params is damaged" in done.stderr
