"""The memory budget: sizes parsed, requests refused before allocating, large ones batched."""

import re
from pathlib import Path

import jax
import numpy as np
import pytest

import autoreg
from autoreg import memory
from autoreg.evaluation import evaluate_arrays as evaluate
from autoreg.generate import in_batches
from autoreg.texture import efros_leung


@pytest.fixture(scope="module")
def model():
    return autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(3, 3, 1))


@pytest.mark.parametrize(
    "text, size",
    [("1000", 1000), ("8G", 8 * 2**30), ("512 MiB", 512 * 2**20), ("1.5g", 3 * 2**29)],
)
def test_sizes_parse_in_binary_units(text, size):
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "8X"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ValueError, match="AUTOREG_MEMORY_LIMIT"):
        memory.parse_size(text)


def ram_from_the_kernel() -> int:
    """Bytes of RAM as /proc/meminfo and the cgroup limit (if any) give it, not as the code
    under test reads it (os.sysconf)."""
    meminfo = Path("/proc/meminfo").read_text()
    total = int(re.search(r"^MemTotal:\s+(\d+) kB$", meminfo, re.MULTILINE)[1]) * 1024
    limit = Path("/sys/fs/cgroup/memory.max")
    text = limit.read_text().strip() if limit.is_file() else "max"
    return min(total, int(text)) if text.isdigit() else total


@pytest.mark.skipif(not Path("/proc/meminfo").is_file(), reason="no /proc/meminfo (not Linux)")
def test_the_budget_is_half_the_ram_unless_set(monkeypatch):
    monkeypatch.delenv(memory.ENV, raising=False)
    assert abs(memory.memory_budget() - ram_from_the_kernel() / 2) <= 4096  # within a page


def test_the_budget_is_the_limit_when_set(monkeypatch):
    monkeypatch.setenv(memory.ENV, "3M")
    assert memory.memory_budget() == 3 * 2**20
    assert memory.format_bytes(3 * 2**40) == "3.00 TiB" and memory.format_bytes(12) == "12 B"


def test_plans_refuse_what_cannot_fit_and_batch_what_can(monkeypatch):
    monkeypatch.setenv(memory.ENV, "1000")
    plan = memory.plan_batches("x", 10, kept=10, work=100)  # 100 bytes kept, 900 for work
    assert (plan.batch, plan.num_batches, plan.needed) == (9, 2, 1000)
    assert memory.plan_batches("x", 3, kept=10, work=100).num_batches == 1
    with pytest.raises(memory.MemoryBudgetError, match=r"x needs 1\.07 KiB, more than .* 1000 B"):
        memory.plan_batches("x", 10, kept=10, work=1000)


def test_estimates_grow_linearly_in_examples_and_positions(model):
    small, large = (3, 3, 1), (6, 3, 1)  # twice the positions
    state = memory.training_bytes(model, 0, small)
    one = memory.training_bytes(model, 1, small) - state
    assert state > 0 and one > 0
    for batch in (2, 7, 64):
        assert memory.training_bytes(model, batch, small) == state + batch * one
    assert memory.training_bytes(model, 5, large) == state + 5 * 2 * one
    work = memory.sampling_work(model, 9, None)
    assert memory.sampling_work(model, 18, None) == 2 * work


def test_huge_requests_are_value_errors_of_the_api(model, monkeypatch):
    monkeypatch.setenv(memory.ENV, "1G")
    with pytest.raises(ValueError, match="sampling 1000000000 images of 3x3x1 needs"):
        autoreg.sample(model, 0, 10**9)
    x = np.zeros((2, 3, 3, 1), np.int32)
    box = np.ones((3, 3), bool)
    box[1, 1] = False
    with pytest.raises(ValueError, match="by SMC with 1000000000 particles each needs"):
        autoreg.complete(model, 0, x, box, particles=10**9)
    with pytest.raises(ValueError, match="Efros-Leung texture of 100000x100000 pixels needs"):
        efros_leung(np.zeros((20, 20), np.uint8), 100_000, window=5)


def test_batches_are_keyed_by_fold_in_of_their_index(model, monkeypatch):
    """Batch ``b`` of a request split by the memory budget holds exactly the samples of an
    unbatched request keyed ``fold_in(key, b)``, rows in order, padding dropped.

    Catches a batch keyed otherwise (every batch with the same key, so batches repeat; the
    key itself for batch 0; a split in place of fold_in), batches joined out of order, and a
    last batch whose padding is kept or whose rows are shifted.
    """
    monkeypatch.setenv(memory.ENV, "10K")
    plan = memory.sample_plan(model, 10, (3, 3, 1))
    assert plan.num_batches > 1 and 10 % plan.batch  # several batches, the last one padded
    key = jax.random.key(3)
    batched = np.asarray(autoreg.sample(model, key, 10, progress=False))
    assert batched.shape == (10, 3, 3, 1)
    monkeypatch.delenv(memory.ENV)  # from here on one batch: the plain sampler with its key
    for b, start in enumerate(range(0, 10, plan.batch)):
        alone = autoreg.sample(model, jax.random.fold_in(key, b), plan.batch, progress=False)
        rows = slice(start, min(start + plan.batch, 10))
        np.testing.assert_array_equal(
            batched[rows], np.asarray(alone)[: rows.stop - start], err_msg=f"batch {b}"
        )
    assert len({s.tobytes() for s in batched}) == 10  # the draws differ: a real comparison


def test_in_batches_pads_the_last_batch_and_drops_the_padding():
    seen = []

    def run(key, rows):
        seen.append(rows.tolist())
        return rows * 10

    plan = memory.BatchPlan(total=5, batch=2, needed=0)
    out = in_batches(plan, 0, run, progress=False)
    np.testing.assert_array_equal(out, [0, 10, 20, 30, 40])
    assert seen == [[0, 1], [2, 3], [4, 4]]  # every batch has plan.batch rows


def test_evaluation_and_heatmap_bits_run_in_batches_that_fit(model, monkeypatch):
    from autoreg.heatmap import bits_per_position

    x = np.random.default_rng(0).integers(0, 4, (7, 3, 3, 1))
    expected = bits_per_position(model, x)
    whole = evaluate(model, x, progress=False)
    monkeypatch.setenv(memory.ENV, "2K")  # room for about one example's forward pass
    assert memory.evaluation_batch(model, 7, (3, 3, 1), 64) < 7
    np.testing.assert_allclose(bits_per_position(model, x), expected, rtol=1e-6)
    result = evaluate(model, x, progress=False)
    assert result.bits_per_dim == pytest.approx(whole.bits_per_dim, rel=1e-6)
