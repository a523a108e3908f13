"""orbax checkpoints: exact round trip, self-describing, clear errors on foreign or damaged dirs."""

import json
import os
import shutil

import numpy as np
import pytest

import autoreg
from autoreg.checkpoint import read_metadata


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


def test_no_pickle_in_checkpoint(saved):
    for root, _, files in os.walk(saved):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                head = f.read(2)
            assert head[:1] != b"\x80", f"{name} looks like a pickle"


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
    with pytest.raises(ValueError, match="could not read the parameters"):
        autoreg.load_checkpoint(copy)


def test_config_mismatch_is_a_clear_error(saved, tmp_path):
    # The parameters on disk no longer fit the recorded config.
    copy = copy_with_metadata(saved, tmp_path, lambda meta: meta["config"].update(channels=16))
    with pytest.raises(ValueError, match="could not read the parameters.* has shape "):
        autoreg.load_checkpoint(copy)
