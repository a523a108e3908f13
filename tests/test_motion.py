"""The tests of motion (``autoreg.video.motion``): are a video model's futures using motion?"""

import json

import numpy as np
import pytest

import autoreg
from autoreg.cli import main
from autoreg.video.motion import frame_errors, motion_report, shuffled

LEVELS = 4


@pytest.fixture(scope="module")
def model():
    return autoreg.create_model(
        "video_pixelcnn", preset="tiny", image_shape=(6, 6, 1), levels=LEVELS, seed=2
    )


def static_clips(num: int = 3, frames: int = 4) -> np.ndarray:
    """(num, frames, 6, 6, 1) clips whose frames repeat their first: no motion at all."""
    first = np.random.default_rng(0).integers(0, LEVELS, (num, 1, 6, 6, 1))
    return np.repeat(first, frames, axis=1)


def test_the_decoder_alone_is_the_model_without_its_context(model):
    """Frame 0 has no context: its logits are the model's; a later frame's differ (the model
    reads the frames before it). Catches a "no context" that still reads them, or that
    changes the decoder."""
    x = np.random.default_rng(1).integers(0, LEVELS, (2, 3, 6, 6, 1))
    alone, full = np.asarray(model.single_frame_logits(x)), np.asarray(model(x))
    np.testing.assert_allclose(alone[:, 0], full[:, 0], atol=1e-5)
    assert not np.allclose(alone[:, 2], full[:, 2], atol=1e-3)


def test_shuffling_moves_only_the_observed_frames():
    clips = np.arange(2 * 5).reshape(2, 5, 1, 1, 1) * np.ones((1, 1, 3, 3, 1), int)
    out = shuffled(clips, 3, seed=0)
    np.testing.assert_array_equal(out[:, 3:], clips[:, 3:])  # the future untouched
    for n in range(2):  # the same frames in another order
        assert sorted(out[n, :3, 0, 0, 0]) == sorted(clips[n, :3, 0, 0, 0])
        assert (out[n, :3, 0, 0, 0] != clips[n, :3, 0, 0, 0]).any()


def test_errors_are_summed_over_a_frames_pixels_and_averaged_over_clips():
    truth = np.zeros((2, 3, 4, 4, 1))
    predicted = truth.copy()
    predicted[0, 1] = 1.0  # one clip's second frame all white: 16 pixels off by 1
    mse, ssim = frame_errors(predicted, truth)
    assert mse == [0.0, 8.0, 0.0]  # 16 in one clip of two
    assert ssim[0] == ssim[2] == pytest.approx(1.0) and ssim[1] < 0.6


def test_on_static_clips_the_last_frame_is_exact_and_the_empty_frame_is_not(model):
    """The baselines are wired to what they name: with no motion the last observed frame is
    the future (MSE 0, SSIM 1), and the nearest clip of a database holding the clips is
    themselves."""
    clips = static_clips()
    report = motion_report(model, clips, context=2, samples=2, train_clips=clips, progress=False)
    assert (report.context, report.frames, report.clips, report.samples) == (2, 2, 3, 2)
    assert report.mse["last frame"] == [0.0, 0.0] == report.mse["nearest"]
    assert report.ssim["last frame"] == pytest.approx([1.0, 1.0])
    assert min(report.mse["empty frame"]) > 1.0
    assert set(report.mse) == {"sample", "mean of samples", "nearest", "last frame", "empty frame"}
    # The samples' mean is never further from the truth than their average error (convexity).
    for a, b in zip(report.mse["mean of samples"], report.mse["sample"], strict=True):
        assert a <= b + 1e-9
    assert len({report.nats_per_frame, report.nats_per_frame_no_context}) == 2


def test_a_context_outside_the_clip_is_refused(model):
    with pytest.raises(ValueError, match=r"context must be in 1\.\.3 frames, got 4"):
        motion_report(model, static_clips(), context=4)


def test_eval_of_a_video_model_reports_the_tests_of_motion(model, tmp_path, capsys):
    """``autoreg eval`` prints the report, writes it into the JSON and draws the plot; the
    options are refused for an image model."""
    checkpoint = autoreg.save_checkpoint(model, tmp_path / "video")
    np.save(tmp_path / "clips.npy", (static_clips() * 85).astype(np.uint8)[..., 0])
    argv = ["eval", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "clips.npy")]
    out = ["--json", str(tmp_path / "r.json"), "--plot", str(tmp_path / "m.png")]
    assert main([*argv, "--futures", "1", *out]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "motion: " in printed and "MSE at predicted frame" in printed
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["motion"]["frames"] == 2 and record["motion"]["samples"] == 1
    assert (tmp_path / "m.png").stat().st_size > 1000
    image = ["eval", "--model", "pixelcnn", "--data", str(tmp_path / "clips.npy")]
    assert main([*image, "--futures", "2"]) == 2
    assert "--futures is for video models; pixelcnn is an image model" in capsys.readouterr().err
