"""The nearest-neighbour video predictor: exact matches, order, ties, chunking, checks, memory."""

import numpy as np
import pytest

from autoreg import memory
from autoreg.video import nearest_futures


def brute_force(clips, observed, frames, num, context):
    """Every window's SSD in exact int64, sorted by (SSD, clip, offset): the reference."""
    clips64 = clips.astype(np.int64)
    results = []
    for seen in observed.astype(np.int64)[:, -context:]:
        found = []
        for n, clip in enumerate(clips64):
            for s in range(clip.shape[0] - context - frames + 1):
                found.append((int(((seen - clip[s : s + context]) ** 2).sum()), n, s + context))
        results.append(sorted(found)[:num])
    return np.array(results)  # (B, num, 3): distance, clip, offset


def random_clips(seed, shape):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_an_exact_match_is_found_and_continued():
    clips = random_clips(0, (4, 12, 5, 6, 3))
    found = nearest_futures(clips, clips[2:3, 3:7], frames=5)
    assert found.futures.shape == (1, 1, 5, 5, 6, 3) and found.futures.dtype == np.uint8
    assert found.distances[0, 0] == 0.0
    assert (found.clip_index[0, 0], found.offset[0, 0]) == (2, 7)
    np.testing.assert_array_equal(found.futures[0, 0], clips[2, 7:12])


def test_context_uses_the_last_observed_frames():
    clips = random_clips(1, (3, 10, 4, 4, 1))
    observed = np.concatenate([random_clips(2, (1, 2, 4, 4, 1)), clips[1:2, 4:6]], axis=1)
    found = nearest_futures(clips, observed, frames=3, context=2)
    assert (found.distances[0, 0], found.clip_index[0, 0], found.offset[0, 0]) == (0.0, 1, 6)


def test_several_matches_come_sorted_nearest_first():
    clips = random_clips(3, (5, 9, 4, 4, 2))
    found = nearest_futures(clips, random_clips(4, (2, 3, 4, 4, 2)), frames=2, num=7)
    assert found.futures.shape == (2, 7, 2, 4, 4, 2)
    assert (np.diff(found.distances, axis=1) >= 0).all()
    for b in range(2):
        for j in range(7):
            n, offset = found.clip_index[b, j], found.offset[b, j]
            np.testing.assert_array_equal(found.futures[b, j], clips[n, offset : offset + 2])


def test_ties_go_to_the_lowest_clip_then_offset():
    clips = np.zeros((3, 6, 2, 2, 1), np.uint8)  # every window is the same: all tie
    clips[0] = 9  # ... except clip 0's, which are farther
    found = nearest_futures(clips, np.zeros((1, 2, 2, 2, 1), np.uint8), frames=1, num=5)
    assert found.distances.tolist() == [[0.0] * 5]
    assert found.clip_index.tolist() == [[1, 1, 1, 1, 2]]
    assert found.offset.tolist() == [[2, 3, 4, 5, 2]]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, None])
def test_chunks_match_the_brute_force_reference(chunk):
    clips = random_clips(5, (7, 8, 3, 4, 2)) // 64  # few values: many near-ties
    observed = random_clips(6, (3, 4, 3, 4, 2)) // 64
    found = nearest_futures(clips, observed, frames=2, num=6, context=3, chunk=chunk)
    reference = brute_force(clips, observed, frames=2, num=6, context=3)
    np.testing.assert_array_equal(found.distances, reference[..., 0])
    np.testing.assert_array_equal(found.clip_index, reference[..., 1])
    np.testing.assert_array_equal(found.offset, reference[..., 2])


def test_other_integer_dtypes_in_range_are_accepted():
    clips = random_clips(7, (2, 6, 3, 3, 1))
    found = nearest_futures(clips.astype(np.int32), clips[:1, :2].astype(np.int64), frames=2)
    assert found.futures.dtype == np.uint8
    assert (found.distances[0, 0], found.clip_index[0, 0], found.offset[0, 0]) == (0.0, 0, 2)


CLIPS = np.zeros((2, 6, 4, 4, 1), np.uint8)
SEEN = np.zeros((1, 3, 4, 4, 1), np.uint8)


@pytest.mark.parametrize(
    "clips, observed, options, match",
    [
        (CLIPS[0], SEEN, {}, r"train_clips must be \(N, T, H, W, C\)"),
        (CLIPS, SEEN[0], {}, r"observed must be \(B, t, H, W, C\)"),
        (CLIPS, np.zeros((1, 3, 4, 5, 1), np.uint8), {}, "same size and channels"),
        (CLIPS, np.zeros((1, 3, 4, 4, 3), np.uint8), {}, "same size and channels"),
        (CLIPS, SEEN[:, :0], {}, "must not be empty"),
        (CLIPS, SEEN, {"frames": 0}, "frames must be a positive integer"),
        (CLIPS, SEEN, {"num": 0}, "num must be a positive integer"),
        (CLIPS, SEEN, {"num": 5}, r"num \(5\) is more than the 4 windows"),
        (CLIPS, SEEN, {"context": 4}, r"context \(4\) is more than the 3 observed"),
        (CLIPS, SEEN, {"context": 0}, "context must be a positive integer"),
        (CLIPS, SEEN, {"frames": 4}, "too short for context \\+ frames = 3 \\+ 4"),
        (CLIPS, SEEN, {"chunk": 0}, "chunk must be a positive integer"),
        (CLIPS.astype(np.int16) - 1, SEEN, {}, r"train_clips values must be in 0..255"),
    ],
)
def test_bad_inputs_are_refused_with_the_reason(clips, observed, options, match):
    options = {"frames": 2, **options}
    with pytest.raises(ValueError, match=match):
        nearest_futures(clips, observed, **options)


@pytest.mark.parametrize("which", ["train_clips", "observed"])
def test_non_integer_clips_are_type_errors(which):
    arrays = {"train_clips": CLIPS, "observed": SEEN}
    arrays[which] = arrays[which].astype(np.float32)
    with pytest.raises(TypeError, match=f"{which} must be an integer"):
        nearest_futures(arrays["train_clips"], arrays["observed"], frames=2)
    with pytest.raises(TypeError, match="observed must be an integer .* got list"):
        nearest_futures(CLIPS, SEEN.tolist(), frames=2)


def test_a_request_over_the_memory_limit_is_refused_before_allocating(monkeypatch):
    monkeypatch.setenv(memory.ENV, "1K")
    with pytest.raises(memory.MemoryBudgetError, match="nearest-neighbour search.*AUTOREG_MEMORY"):
        nearest_futures(CLIPS, SEEN, frames=2)
    monkeypatch.setenv(memory.ENV, "1G")  # 10^6 observed clips of 64x64x3: terabytes
    huge = np.broadcast_to(np.zeros((1, 1, 64, 64, 3), np.uint8), (10**6, 4, 64, 64, 3))
    clips = np.broadcast_to(np.zeros((1, 1, 64, 64, 3), np.uint8), (10, 8, 64, 64, 3))
    with pytest.raises(memory.MemoryBudgetError, match="1000000 clips of 4 frames"):
        nearest_futures(clips, huge, frames=2)


def test_a_tight_budget_runs_in_small_chunks_with_the_same_result(monkeypatch):
    clips = random_clips(8, (6, 7, 4, 4, 1))
    observed = random_clips(9, (2, 3, 4, 4, 1))
    expected = nearest_futures(clips, observed, frames=2, num=4)
    monkeypatch.setenv(memory.ENV, "6K")  # two clips per chunk
    found = nearest_futures(clips, observed, frames=2, num=4)
    for got, want in zip(found, expected, strict=True):
        np.testing.assert_array_equal(got, want)
