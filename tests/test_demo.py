"""The demo page (autoreg demo), driven tab by tab through gradio_client on a local port.

The page serves the shipped 28x28 models; every request is tiny (a few samples, a 12 px
texture, 0.3 s of audio). Bad inputs must come back as errors while the next request works.
"""

import os
import socket

import numpy as np
import pytest
from PIL import Image

import autoreg

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
pytest.importorskip("gradio")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from autoreg.demo import DemoModels, launch  # noqa: E402
from autoreg.demo.inputs import flatten, model_image, region_mask  # noqa: E402
from autoreg.image_io import PAD  # noqa: E402
from autoreg.pretrained import load_pretrained  # noqa: E402

pytestmark = pytest.mark.slow  # about a minute on two cores: models load and compile

RATE = 16000  # the shipped vocoder's sample rate
HOP = 256  # and its hop length


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Inputs of every tab, good and bad, as files."""
    import soundfile

    folder = tmp_path_factory.mktemp("demo_inputs")
    digit = np.zeros((28, 28), np.uint8)
    digit[5:23, 11:17] = 255  # a light "1" on dark, as in MNIST
    Image.fromarray(digit).save(folder / "digit.png")
    mask = np.zeros((280, 280, 4), np.uint8)
    mask[100:180, 60:220] = (255, 0, 255, 255)  # painted strokes over the middle
    Image.fromarray(mask).save(folder / "mask.png")
    rng = np.random.default_rng(0)
    stripes = np.zeros((24, 24, 3), np.uint8)
    stripes[:, ::4] = (200, 80, 40)
    stripes += rng.integers(0, 30, stripes.shape, dtype=np.uint8)
    Image.fromarray(stripes).save(folder / "texture.png")
    photo = rng.integers(60, 200, (28, 28), dtype=np.uint8)  # mid-grey noise: no digit
    Image.fromarray(photo).save(folder / "photo.png")
    (folder / "notes.png").write_text("not an image, only text\n")
    t = np.arange(int(0.3 * RATE)) / RATE
    speech = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(len(t))
    soundfile.write(folder / "speech.wav", speech.astype(np.float32), RATE)
    soundfile.write(folder / "silent.wav", np.zeros(len(t), np.float32), RATE)
    (folder / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" + bytes(64))
    return folder


@pytest.fixture(scope="module")
def client():
    """The page with the shipped models on 127.0.0.1 and a free port, and a client of it."""
    port = free_port()
    page = launch(  # no warm-up: a request measures its model's cost on first use
        DemoModels.shipped(),
        host="127.0.0.1",
        port=port,
        prevent_thread_lock=True,
        quiet=True,
        warm_up=False,
    )
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=True)
    finally:
        page.close()


def editor(path, layer=None) -> dict:
    """An image-editor value as the page sends it: the picture, and painted layers."""
    return {
        "background": handle_file(str(path)),
        "layers": [] if layer is None else [handle_file(str(layer))],
        "composite": handle_file(str(path)),
        "id": None,
    }


EMPTY_EDITOR = {"background": None, "layers": [], "composite": None, "id": None}


def read_rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def grid_tiles(grid: np.ndarray, columns: int, size: int = 28, rows: int = 1) -> np.ndarray:
    """(rows * columns, size, size, 3) tiles of the first ``rows`` rows of an upscaled grid
    (PAD between), row-major."""
    scale = grid.shape[1] // (columns * (size + PAD) + PAD)
    native = grid[::scale, ::scale]
    assert native.shape[1] == columns * (size + PAD) + PAD
    corners = [
        (PAD + i * (size + PAD), PAD + j * (size + PAD))
        for i in range(rows)
        for j in range(columns)
    ]
    return np.stack([native[y : y + size, x : x + size] for y, x in corners])


def bits_of_each(model, images: np.ndarray, labels=None) -> list:
    """The model's own ``autoreg.bits_per_dim`` of each image, one at a time."""
    return [
        float(
            autoreg.bits_per_dim(model, image[None], None if labels is None else labels[i : i + 1])
        )
        for i, image in enumerate(images)
    ]


def test_sample_tab(client):
    """Each sample's bits/dim on the page is the shipped model's ``autoreg.bits_per_dim`` of
    the sample shown in its tile, in the same order.

    Catches bits/dim in other units (nats, bits per image, divided by the levels), scores of
    other images than those shown, and scores listed in another order than the grid's.
    """
    grid, stats = client.predict("pixelcnn", 0, 1.0, 0, 4, api_name="/sample")
    assert read_rgb(grid).shape == (310, 310, 3)  # 2x2 tiles of 28 px with 2 px gaps, x5
    shown = grid_tiles(read_rgb(grid), 2, rows=2)[..., :1]  # (4, 28, 28, 1): K = 256, as drawn
    expected = bits_of_each(load_pretrained("pixelcnn"), shown)
    assert stats["bits_per_dim"] == pytest.approx(expected, abs=1e-4)  # shown to 4 decimals
    assert len(set(stats["bits_per_dim"])) == 4  # four different samples, each scored
    assert stats["seconds"] > 0


def test_sample_tab_refuses_a_bad_label_then_serves(client):
    with pytest.raises(AppError, match=r"^gated_pixelcnn takes labels 0\.\.9, got 12$"):
        client.predict("gated_pixelcnn", 12, 1.0, 0, 1, api_name="/sample")
    _, stats = client.predict("gated_pixelcnn", 3, 1.0, 0, 1, api_name="/sample")
    assert len(stats["bits_per_dim"]) == 1


@pytest.mark.parametrize(
    "hidden, method, painted, hidden_pixels, smc",
    [
        ("bottom half", "auto", False, 14 * 28, False),  # a raster suffix: exact
        ("box", "auto", False, 12 * 16, True),  # rows 8..19, columns 6..21: SMC
        ("painted", "exact", True, 8 * 16, False),  # rows 10..17, columns 6..21, forced exact
    ],
)
def test_complete_tab_keeps_the_observed_pixels(
    client, files, hidden, method, painted, hidden_pixels, smc
):
    mask = editor(files / "digit.png", files / "mask.png") if painted else EMPTY_EDITOR
    count = 2
    grid, stats = client.predict(
        "pixelcnn", 0, editor(files / "digit.png"), True, hidden, "8,6,20,22", mask, method,
        4, count, 0, api_name="/complete",
    )  # fmt: skip
    tiles = grid_tiles(read_rgb(grid), count + 2)  # occluded, completions, original
    occluded, completions, original = tiles[0], tiles[1:-1], tiles[-1]
    digit = np.asarray(Image.open(files / "digit.png"))
    assert (original[..., 0] == digit).all()
    hidden_mask = (occluded == (255, 0, 255)).all(-1)
    assert hidden_mask.sum() == stats["hidden_pixels"] == hidden_pixels
    observed = ~hidden_mask
    for completion in completions:
        assert (completion[observed] == original[observed]).all()
    assert (stats["method"] == "smc") == smc


def test_complete_tab_limits_particles_by_the_measured_cost(client, files, monkeypatch):
    from autoreg.demo import complete

    args = ("pixelcnn", 0, editor(files / "digit.png"), True, "box", "8,6,20,22", EMPTY_EDITOR)
    _, stats = client.predict(*args, "smc", 4, 2, 0, api_name="/complete")
    assert stats["particle_limit"] >= 4  # measured on the model's first completion
    monkeypatch.setattr(complete, "TIME_BUDGET", 1e-6)  # a machine far too slow for 4
    with pytest.raises(AppError, match=r"particles must be in 1\.\.1 for 2 completions"):
        client.predict(*args, "smc", 4, 2, 0, api_name="/complete")


def test_complete_tab_refuses_a_missing_painting_and_a_bad_box(client, files):
    args = ("pixelcnn", 0, editor(files / "digit.png"), True)
    with pytest.raises(AppError, match="^paint the region to hide on the mask canvas first$"):
        client.predict(*args, "painted", "", EMPTY_EDITOR, "auto", 4, 1, 0, api_name="/complete")
    with pytest.raises(
        AppError, match=r"^the box must be Y0,X0,Y1,X1 \(four integers\), got '1,2'$"
    ):
        client.predict(*args, "box", "1,2", EMPTY_EDITOR, "auto", 4, 1, 0, api_name="/complete")


def test_likelihood_tab(client, files):
    """Each model's bits/dim on the page is its own ``autoreg.bits_per_dim`` of the picture
    as ``model_image`` makes it that model's input; the class-conditional model's, under the
    label it finds most likely (the one the page names).

    Catches bits/dim in other units or of another input (not resized, inverted, or quantised
    as the model needs), the scores of one model shown under another's name, and a label
    other than the most likely one.
    """
    gallery, stats = client.predict(editor(files / "digit.png"), True, -1, api_name="/likelihood")
    assert len(gallery) == 5  # the input, then one heatmap per shipped image model
    for item in gallery:
        assert read_rgb(item["image"]).shape == (224, 224, 3)
    bits = stats["bits_per_dim"]
    assert set(bits) == {"pixelcnn", "gated_pixelcnn", "row_lstm", "pixelsnail"}
    picture = np.asarray(Image.open(files / "digit.png"))
    for name, shown in bits.items():
        model = load_pretrained(name)
        image = model_image(picture, model)[None]  # (1, 28, 28, 1)
        labels = None
        if model.num_classes:
            every = np.arange(model.num_classes, dtype=np.int32)
            best = int(np.argmax(autoreg.log_prob(model, image.repeat(len(every), 0), every)))
            assert stats["labels"][name] == best
            labels = np.array([best], np.int32)
        assert shown == pytest.approx(bits_of_each(model, image, labels)[0], abs=1e-4), name
    assert len(set(bits.values())) == 4  # each model scored the picture itself


def test_a_picture_that_is_no_digit_gets_a_note(client, files):
    _, stats = client.predict(editor(files / "photo.png"), True, -1, api_name="/likelihood")
    assert "does not look like a digit" in stats["note"]
    _, stats = client.predict(editor(files / "digit.png"), True, -1, api_name="/likelihood")
    assert "note" not in stats


def test_likelihood_tab_refuses_a_text_file(client, files):
    with pytest.raises(AppError, match=r"cannot identify image file .*notes\.png"):
        client.predict(editor(files / "notes.png"), True, -1, api_name="/likelihood")


def test_texture_tab_and_a_bad_upload(client, files):
    with pytest.raises(AppError, match=r"cannot identify image file .*notes\.png"):
        client.predict(handle_file(str(files / "notes.png")), 12, 2, 5, 0, api_name="/texture")
    efros, pixelcnn, stats = client.predict(
        handle_file(str(files / "texture.png")), 12, 2, 5, 0, api_name="/texture"
    )
    assert read_rgb(efros).shape == read_rgb(pixelcnn).shape == (264, 264, 3)  # 12 px, x22
    assert set(stats["seconds"]) == {"efros_leung", "pixelcnn_training", "pixelcnn_sampling"}


def test_vocoder_tab_and_bad_audio(client, files):
    import soundfile

    silent = r"^the audio is silent \(peak below -60 dBFS\): nothing to vocode$"
    with pytest.raises(AppError, match=silent):
        client.predict(handle_file(str(files / "silent.wav")), 1.0, 0, api_name="/vocode")
    with pytest.raises(AppError, match=r"^cannot read audio file .*corrupt\.wav: .*Malformed"):
        client.predict(handle_file(str(files / "corrupt.wav")), 1.0, 0, api_name="/vocode")
    original, wavenet, griffin_lim, spectrograms, stats = client.predict(
        handle_file(str(files / "speech.wav")), 1.0, 0, api_name="/vocode"
    )
    samples = (int(0.3 * RATE) // HOP) * HOP  # whole frames of the 0.3 s input
    for path in (original, wavenet, griffin_lim):
        audio, rate = soundfile.read(path)
        assert rate == RATE and len(audio) == samples
    assert np.abs(soundfile.read(wavenet)[0]).max() > 0
    assert read_rgb(spectrograms).shape[2] == 3
    assert stats["samples"] == samples


def test_pictures_become_model_inputs():
    from autoreg.pretrained import load_pretrained

    model = load_pretrained("pixelcnn")
    drawing = np.zeros((280, 280, 4), np.uint8)  # transparent canvas: white paper
    drawing[50:230, 120:160] = (0, 0, 0, 255)  # a dark stroke
    flat = flatten(drawing)
    assert flat.shape == (280, 280, 3) and flat[0, 0].tolist() == [255, 255, 255]
    image = model_image(drawing, model)
    assert image.shape == (28, 28, 1) and image[0, 0, 0] == 0 and image[14, 14, 0] == 255
    painted = np.zeros((280, 280), bool)
    painted[140:] = True
    assert region_mask(painted, 28, 28).sum() == 14 * 28
    with pytest.raises(ValueError, match="expected an image"):
        flatten(np.zeros((3, 3, 2)))


def test_demo_command_without_gradio_says_what_to_install(monkeypatch, capsys):
    import autoreg.demo.widgets as widgets
    from autoreg.cli import build_parser, main
    from autoreg.optional import MissingExtraError

    def missing(module, extra, purpose):
        raise MissingExtraError(f"{purpose} needs {module}: pip install 'autoreg[{extra}]'")

    args = build_parser().parse_args(["demo"])
    assert (args.host, args.port, args.checkpoint) == ("127.0.0.1", 7860, None)  # local only
    monkeypatch.setattr(widgets, "require", missing)
    assert main(["demo", "--port", "7999"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "pip install 'autoreg[demo]'" in error[0]
    assert main(["demo", "--port", "0"]) == 2  # not a port: refused by the parser


def test_checkpoints_the_page_cannot_show_are_named(tmp_path):
    import autoreg

    for name, shape in (("video_pixelcnn", (4, 4, 1)), ("wavenet", None)):
        model = autoreg.create_model(name, preset="tiny", levels=4, image_shape=shape)
        autoreg.save_checkpoint(model, tmp_path / name)
    with pytest.raises(ValueError, match="video_pixelcnn holds a video model"):
        DemoModels.from_checkpoints([tmp_path / "video_pixelcnn"])
    with pytest.raises(ValueError, match="wavenet that is not a mel vocoder"):
        DemoModels.from_checkpoints([tmp_path / "wavenet"])
