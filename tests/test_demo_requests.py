"""The demo's request functions without a server: measured particle limits, progress, the
out-of-domain note, grey textures and one-line refusals (the page itself: test_demo.py)."""

import logging

import numpy as np
import pytest

pytest.importorskip("gradio")

import autoreg  # noqa: E402
from autoreg.demo import complete, inputs, texture  # noqa: E402
from autoreg.demo.models import DemoModels  # noqa: E402
from autoreg.demo.widgets import surfaced  # noqa: E402
from autoreg.errors import InputError  # noqa: E402


def tiny_models() -> DemoModels:
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(6, 6, 1))
    return DemoModels({"tiny": lambda: model})


def test_warming_up_measures_the_cost_of_a_completion():
    models = tiny_models()
    assert not models.is_warm("tiny")
    said = []
    models.warm_up(report=said.append)
    assert models.is_warm("tiny") and said and said[0].startswith("warmed up tiny")
    cost = models.completion_cost("tiny")  # seconds per chain and row, measured
    assert 0 < cost < 1


def test_the_other_models_warm_up_in_the_background():
    models = tiny_models()
    thread = models.warm_up_in_background()
    thread.join(timeout=120)
    assert not thread.is_alive() and models.is_warm("tiny")


def test_the_particle_limit_follows_the_measured_cost_and_is_enforced():
    assert complete.particle_limit(0.01, count=4, rows=28) == 53  # 60 s / (4 * 28 * 0.01 s)
    assert complete.particle_limit(0.01, count=8, rows=28) == 26
    assert complete.particle_limit(10.0, count=8, rows=28) == 1
    models = tiny_models()
    model = models.image("tiny")
    image = np.zeros((6, 6, 1), np.int32)
    observed = np.ones((6, 6), bool)
    observed[2:4, 2:4] = False
    with pytest.raises(ValueError, match=r"particles must be in 1\.\.3 for 2 completions"):
        complete.complete_image(model, image, observed, count=2, particles=4, max_particles=3)


def test_a_completion_reports_its_rows():
    model = tiny_models().image("tiny")
    observed = np.ones((6, 6), bool)
    observed[1:3, 1:5] = False
    seen = []
    result = complete.complete_image(
        model,
        np.zeros((6, 6, 1), np.int32),
        observed,
        count=2,
        particles=3,
        on_progress=lambda fraction, text: seen.append(fraction),
    )
    assert result.method == "smc"
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 6  # one report a row


def test_a_photograph_gets_a_note_and_digits_do_not(shared_data):
    with np.load(shared_data / "mnist.npz") as data:
        digits = data["x_test"][:200]
    assert all(inputs.digit_note(d[..., None], 256) is None for d in digits)
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=256)  # 28x28x1
    from autoreg.data.images import read_image

    photo = inputs.model_image(read_image(shared_data / "images" / "astronaut.png"), model)
    note = inputs.digit_note(photo, 256)
    assert note is not None and "does not look like a digit" in note


@pytest.mark.slow
def test_a_grey_texture_saved_as_rgb_stays_grey():
    grey = np.random.default_rng(0).integers(0, 256, (24, 24, 1), dtype=np.uint8)
    as_rgb = np.repeat(grey, 3, axis=-1)  # what a browser upload may re-save it as
    result = texture.synthesise_textures(as_rgb, size=10, steps=2, window=5, seed=0)
    grey_shapes = {(10, 10), (10, 10, 1)}  # one channel, not three that must agree
    assert result.pixelcnn.shape in grey_shapes and result.efros_leung.shape in grey_shapes


def test_a_refused_request_is_one_line_in_the_log(caplog):
    import gradio as gr

    def handler():
        raise InputError("gated_pixelcnn takes labels 0..9, got 12\nmore detail")

    with caplog.at_level(logging.WARNING, logger="autoreg"), pytest.raises(gr.Error) as refused:
        surfaced(handler)()
    assert [r.getMessage() for r in caplog.records] == [
        "demo request refused: gated_pixelcnn takes labels 0..9, got 12"
    ]
    assert refused.value.print_exception is False  # Gradio prints no traceback


def test_the_page_builds_each_tab_without_a_server():
    """``build_app`` lays out the five tabs for the models given (nothing is launched).

    Catches a tab that fails to build (a component or event wired wrongly) and a tab left out.
    """
    from autoreg.demo.app import build_app

    page = build_app(tiny_models())
    labels = [
        block.label for block in page.blocks.values() if type(block).__name__ in ("Tab", "TabItem")
    ]
    assert labels == ["Sample", "Complete", "Likelihood", "Texture", "Vocoder"], labels


def test_the_likelihood_tab_reports_the_models_own_bits_per_dim():
    """Catches bits in other units, a heatmap that does not add up to the image's bits, and a
    class-conditional model scored under another label than its most likely one."""
    from autoreg.demo.likelihood import heatmap_tiles, image_likelihood

    model = autoreg.create_model(
        "gated_pixelcnn", preset="tiny", levels=4, image_shape=(6, 6, 1), num_classes=3, seed=1
    )
    image = np.random.default_rng(0).integers(0, 4, (6, 6, 1))
    result = image_likelihood("tiny", model, image)
    scores = [float(autoreg.bits_per_dim(model, image[None], np.array([c]))) for c in range(3)]
    assert result.label == int(np.argmin(scores))
    assert result.bits_per_dim == pytest.approx(scores[result.label], rel=1e-5)
    assert result.bits.sum() / image.size == pytest.approx(result.bits_per_dim, rel=1e-5)
    tiles, vmax = heatmap_tiles(image, [result], levels=4)
    assert len(tiles) == 2 and vmax == pytest.approx(float(result.bits.max()))


def test_the_vocoder_tab_resynthesises_the_start_of_a_file(tmp_path):
    """The input, the WaveNet's and Griffin-Lim's audio of the first ``max_seconds``, at the
    model's rate, with a spectrogram picture of the three. Catches a tab that uses the whole
    file, or another rate, or loses a method."""
    pytest.importorskip("librosa")
    from autoreg.data.audio import write_wav
    from autoreg.demo.vocoder import resynthesise

    mel = dict(sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=8, fmax=4000.0)
    model = autoreg.create_model(
        "wavenet", preset="tiny", levels=16, local_features=8, hop_length=64, sample_rate=8000,
        mel=mel, upsample_context=1,
    )  # fmt: skip
    t = np.arange(8000) / 8000  # one second of a tone
    write_wav(tmp_path / "tone.wav", 0.4 * np.sin(2 * np.pi * 220 * t), 8000)
    out = resynthesise(model, tmp_path / "tone.wav", max_seconds=0.25)
    assert out.sample_rate == 8000 and len(out.original) == 2000 // 64 * 64  # whole frames of 1/4 s
    assert len(out.wavenet) == len(out.griffin_lim) == len(out.original)
    assert np.abs(out.original).max() > 0.3 and np.isfinite(out.wavenet).all()
    assert out.spectrograms.ndim == 3 and out.spectrograms.dtype == np.uint8
