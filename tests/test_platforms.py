"""Samplers know their platforms; the memory budget knows the accelerator's memory.

No GPU is needed: the tests ask for ``platform="gpu"`` directly, or simulate a non-CPU backend by
making every device report the platform "gpu" (then the model's parameters are "on a GPU"), and a
device whose ``memory_stats()`` reports a GPU's limits.
"""

import dataclasses

import numpy as np
import pytest

import autoreg
from autoreg import memory, platforms
from autoreg.registry import MODELS, cpu_only, sampling_method
from autoreg.sampling import wavenet_native

# Where each sampler runs: written out, so that a change to a declaration is a visible change.
EXPECTED_PLATFORMS = {
    ("pixelcnn", "cached"): platforms.EVERYWHERE,
    ("row_lstm", "incremental"): platforms.EVERYWHERE,
    ("diagonal_bilstm", "incremental"): platforms.EVERYWHERE,
    ("gated_pixelcnn", "cached"): platforms.EVERYWHERE,
    ("pixelsnail", "cached"): platforms.EVERYWHERE,
    ("video_pixelcnn", "cached"): platforms.EVERYWHERE,
    ("wavenet", "native"): frozenset({"cpu"}),
    ("wavenet", "fast"): platforms.EVERYWHERE,
}


@pytest.fixture
def simulated_gpu(monkeypatch):
    """Every device reports the platform "gpu": parameters on the CPU count as on a GPU."""
    monkeypatch.setattr(platforms, "device_platform", lambda device: "gpu")


@pytest.fixture
def wavenet():
    return autoreg.create_model("wavenet", preset="tiny", levels=8, seed=2)


@pytest.fixture
def without_native(monkeypatch):
    """A "native" entry that fails if called, so a test can prove it was never chosen."""

    def refuse(*args, **kwargs):
        raise AssertionError("the CPU-only kernel ran")

    spec = MODELS["wavenet"]
    samplers = {"native": cpu_only(refuse), "fast": spec.samplers["fast"]}
    monkeypatch.setitem(MODELS, "wavenet", dataclasses.replace(spec, samplers=samplers))


def test_every_sampler_declares_where_it_runs():
    declared = {
        (name, method): entry.platforms
        for name, spec in MODELS.items()
        for method, entry in spec.samplers.items()
        if method != "naive"
    }
    expected = dict(EXPECTED_PLATFORMS)
    if not wavenet_native.available():  # no C++ compiler at install time: not listed at all
        expected.pop(("wavenet", "native"))
    assert declared == expected
    for spec in MODELS.values():
        assert spec.samplers["naive"].platforms == platforms.EVERYWHERE


def test_sampling_methods_per_platform_default_first():
    native = ["native"] if wavenet_native.available() else []
    assert autoreg.sampling_methods("wavenet", platform="cpu") == [*native, "fast", "naive"]
    for platform in ("gpu", "tpu", "cuda"):
        assert autoreg.sampling_methods("wavenet", platform=platform) == ["fast", "naive"]
    assert autoreg.sampling_methods("pixelcnn", platform="gpu") == ["cached", "naive"]
    with pytest.raises(ValueError, match="unknown platform 'ipu'; platforms: cpu, gpu, tpu"):
        autoreg.sampling_methods("pixelcnn", platform="ipu")


def test_the_default_platform_is_that_of_the_parameters(wavenet, simulated_gpu):
    assert platforms.platform_of(wavenet) == "gpu"
    assert autoreg.sampling_methods(wavenet) == ["fast", "naive"]
    assert autoreg.sampling_methods(wavenet, platform="cpu")[-2:] == ["fast", "naive"]


@pytest.mark.skipif(not wavenet_native.available(), reason="the C++ kernel was not built")
def test_native_on_a_gpu_is_one_clear_error_naming_what_runs_there(wavenet, simulated_gpu):
    message = r"'native' of wavenet runs only on cpu, not on gpu; .* on gpu: fast, naive"
    with pytest.raises(ValueError, match=message):
        autoreg.sample(wavenet, 0, 1, length=8, method="native")
    x = np.zeros((1, 8), np.int32)
    with pytest.raises(ValueError, match=message):
        autoreg.complete(wavenet, 0, x, np.arange(8) < 4, method="native")
    with pytest.raises(ValueError, match=message):
        sampling_method(wavenet, "native", "gpu")


def test_sample_and_complete_pick_the_default_of_the_platform(wavenet, without_native, monkeypatch):
    # On the CPU the (refusing) kernel is the default: the spy works.
    with pytest.raises(AssertionError, match="the CPU-only kernel ran"):
        autoreg.sample(wavenet, 0, 2, length=12)
    monkeypatch.setattr(platforms, "device_platform", lambda device: "gpu")
    drawn = np.asarray(autoreg.sample(wavenet, 0, 2, length=12))
    naive = np.asarray(autoreg.sample(wavenet, 0, 2, length=12, method="naive"))
    np.testing.assert_array_equal(drawn, naive)
    observed = np.arange(12) < 5
    done = autoreg.complete(wavenet, 1, naive, observed)  # "auto": a prefix, the default sampler
    np.testing.assert_array_equal(np.asarray(done)[:, :5], naive[:, :5])


def test_vocode_picks_the_default_of_the_platform(without_native, monkeypatch):
    from autoreg.data.mel import MelAnalysis, log_mel
    from autoreg.vocode import vocode

    mel = dict(sample_rate=8000, n_fft=256, hop_length=64, win_length=256, n_mels=8, fmax=4e3)
    model = autoreg.create_model(
        "wavenet",
        preset="tiny",
        levels=16,
        seed=2,
        local_features=8,
        hop_length=64,
        sample_rate=8000,
        mel=mel,
        upsample_context=1,
    )
    tone = np.sin(np.arange(1600) * 0.3).astype(np.float32) * 0.5
    features = log_mel(tone, MelAnalysis(**mel))
    with pytest.raises(AssertionError, match="the CPU-only kernel ran"):
        vocode(model, features, segment_frames=10)
    monkeypatch.setattr(platforms, "device_platform", lambda device: "gpu")
    audio = vocode(model, features, segment_frames=10)
    assert audio.shape == (len(features) * 64,) and np.isfinite(audio).all()


class FakeAccelerator:
    """A device that reports a GPU's memory statistics."""

    platform = "gpu"
    device_kind = "NVIDIA H100 80GB HBM3"
    id = 0

    def __init__(self, limit: int, in_use: int):
        self.stats = {"bytes_limit": limit, "bytes_in_use": in_use}

    def memory_stats(self):
        return self.stats


def test_on_an_accelerator_the_budget_is_what_it_can_still_allocate(monkeypatch):
    monkeypatch.delenv(memory.ENV, raising=False)
    gpu = FakeAccelerator(limit=2**30, in_use=2**28)
    assert memory.device_free_memory(gpu) == 3 * 2**28
    assert memory.memory_budget(gpu) == min(memory.host_budget(), 3 * 2**28)
    monkeypatch.setenv(memory.ENV, "100M")  # the host's limit when it is the smaller
    assert memory.memory_budget(gpu) == 100 * 2**20
    assert memory.budget_text(gpu) == f"{memory.ENV}=100M"
    full = FakeAccelerator(limit=2**30, in_use=2**31)
    assert memory.memory_budget(full) == 0
    assert memory.device_free_memory(platforms.default_device()) is None  # the CPU: the host's


def test_a_request_too_big_for_the_accelerator_is_refused_before_xla(monkeypatch):
    monkeypatch.delenv(memory.ENV, raising=False)
    gpu = FakeAccelerator(limit=2**20, in_use=0)  # 1 MiB free; the host has gigabytes
    monkeypatch.setattr(platforms, "default_device", lambda: gpu)
    model = autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(8, 8, 1))
    message = r"needs .* more than the memory limit of 1.00 MiB \(the free memory of NVIDIA H100"
    with pytest.raises(memory.MemoryBudgetError, match=message):
        autoreg.sample(model, 0, 10_000)
    plan = memory.sample_plan(model, 64, (8, 8, 1))  # what fits runs, in batches if it must
    assert plan.needed <= 2**20
