"""Pinned behaviour: tiny checkpoints of every registry model and what they give for fixed keys.

``python tests/regression_cases.py`` (run once, before the sampling redesign that brought the
registry's sampler tables) wrote ``tests/fixtures/regression/``: one tiny checkpoint per case
and ``expected.json`` with the sha256 of the samples and completions of every sampling method
for fixed keys, the log-likelihood of fixed data, and the log-likelihood the shipped checkpoints
give. ``test_regression.py`` recomputes them with the current code and asserts that nothing
changed. Only the public API is used, so the same script describes the code before and after a
redesign.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import jax
import numpy as np

import autoreg
from autoreg.modalities import AUDIO

FIXTURE = Path(__file__).parent / "fixtures" / "regression"
LEVELS = 16
AUDIO_LENGTH = 40

# name -> (registry model, create_model overrides); image models on RGB, labels where they apply.
CASES = {
    "pixelcnn": ("pixelcnn", dict(image_shape=(4, 4, 3))),
    "gated_pixelcnn": ("gated_pixelcnn", dict(image_shape=(4, 4, 3))),
    "gated_pixelcnn_labels": ("gated_pixelcnn", dict(image_shape=(4, 4, 3), num_classes=3)),
    "row_lstm": ("row_lstm", dict(image_shape=(4, 4, 3))),
    "diagonal_bilstm": ("diagonal_bilstm", dict(image_shape=(4, 4, 3))),
    "wavenet": ("wavenet", {}),
    "wavenet_labels": ("wavenet", dict(num_classes=2)),
}


def digest(array) -> str:
    """sha256 of an int32 array's bytes and shape."""
    array = np.ascontiguousarray(np.asarray(array, np.int32))
    return hashlib.sha256(str(array.shape).encode() + array.tobytes()).hexdigest()


def fixed_data(model, batch: int) -> np.ndarray:
    """Deterministic data for ``model``: (B, *event) in 0..K-1."""
    shape = (batch, *model.event_shape(None if model.modality is not AUDIO else AUDIO_LENGTH))
    return np.random.default_rng(11).integers(0, model.levels, shape).astype(np.int32)


def prefix_mask(model) -> np.ndarray:
    """Observed: the first half of the data order (a raster prefix, completed exactly)."""
    shape = model.event_shape(None if model.modality is not AUDIO else AUDIO_LENGTH)
    flat = np.zeros(int(np.prod(shape)), bool)
    flat[: flat.size // 2] = True
    return flat.reshape(shape)


def box_mask(model) -> np.ndarray:
    """Observed everywhere but a hole in the middle (not a suffix: SMC territory)."""
    shape = model.event_shape(None if model.modality is not AUDIO else AUDIO_LENGTH)
    mask = np.ones(shape, bool)
    if model.modality is not AUDIO:
        mask[1:3, 1:3] = False
    else:
        mask[10:20] = False
    return mask


def labels_for(model, batch: int):
    return np.arange(batch) % model.num_classes if model.num_classes else None


def behaviour(model) -> dict:
    """Every figure this fixture pins for one model."""
    length = None if model.modality is not AUDIO else AUDIO_LENGTH
    labels = labels_for(model, 3)
    x = fixed_data(model, 3)
    out = {"log_prob": [float(v) for v in np.asarray(autoreg.log_prob(model, x, labels))]}
    for method in autoreg.sampling_methods(model):
        for temperature in (1.0, 0.7):
            drawn = autoreg.sample(
                model,
                jax.random.key(5),
                3,
                labels=labels,
                length=length,
                method=method,
                temperature=temperature,
            )
            out[f"sample/{method}/t{temperature}"] = digest(drawn)
        done = autoreg.complete(
            model, jax.random.key(6), x, prefix_mask(model), labels=labels, method=method
        )
        out[f"complete_prefix/{method}"] = digest(done)
    smc = autoreg.complete(
        model, jax.random.key(7), x, box_mask(model), labels=labels, method="smc", particles=4
    )
    out["complete_box/smc"] = digest(smc)
    out["methods"] = autoreg.sampling_methods(model)
    return out


def shipped_log_probs() -> dict:
    """log_prob of fixed data under every shipped checkpoint."""
    from autoreg.pretrained import load_pretrained, pretrained_path

    out = {}
    for name in autoreg.MODELS:
        if pretrained_path(name) is None:
            continue
        model = load_pretrained(name)
        x = fixed_data(model, 2)  # an audio model's: AUDIO_LENGTH samples already
        labels = labels_for(model, 2)
        out[name] = [float(v) for v in np.asarray(autoreg.log_prob(model, x, labels))]
    return out


def write_fixture() -> None:
    """Create the checkpoints and expected.json (refuses to overwrite an existing fixture)."""
    if FIXTURE.exists():
        sys.exit(f"{FIXTURE} exists: the fixture pins earlier behaviour, delete it deliberately")
    expected = {"cases": {}, "shipped_log_prob": shipped_log_probs()}
    for case, (name, overrides) in CASES.items():
        model = autoreg.create_model(name, preset="tiny", levels=LEVELS, seed=3, **overrides)
        autoreg.save_checkpoint(model, FIXTURE / case)
        expected["cases"][case] = behaviour(model)
    (FIXTURE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_fixture()
