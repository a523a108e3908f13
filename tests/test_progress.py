"""Progress from inside the compiled sampling loops: rows reported, the time left, long work said.

The loops report finished positions with ``jax.debug.callback``; these tests check that a
``RowProgress`` around a sampler, a particle filter or ``autoreg.complete`` sees every row, in
order, across batches, and that long work is announced once.
"""

import functools

import jax
import numpy as np
import pytest

import autoreg
from autoreg.generate import row_progress, smc_complete
from autoreg.memory import BatchPlan
from autoreg.sampling import progress
from autoreg.sampling.progress import RowProgress


@functools.cache
def tiny():
    return autoreg.create_model("pixelcnn", preset="tiny", levels=4, image_shape=(5, 3, 2))


def collect(fn, **kwargs):
    """(fractions seen by on_update, the RowProgress) of running ``fn`` inside one."""
    fractions = []
    bar = RowProgress(30, 6, enabled=False, on_update=lambda f, text: fractions.append(f), **kwargs)
    with bar:
        jax.block_until_ready(fn())
    return fractions, bar


def test_the_cached_sampler_reports_every_row_in_order():
    model = tiny()
    fractions, bar = collect(lambda: autoreg.sample(model, 0, 3, progress=False))
    assert fractions == [r / 5 for r in range(1, 6)]
    assert bar.done == bar.total == 5


@pytest.mark.parametrize("method", ["cached", "naive"])
def test_particle_filters_report_rows_up_to_the_last(method):
    model = tiny()
    x = np.zeros((2, 5, 3, 2), np.int32)
    observed = np.ones((5, 3), bool)
    observed[1:3, 1] = False
    fractions, bar = collect(
        lambda: smc_complete(model, 0, x, observed, particles=2, method=method)
    )
    assert fractions == sorted(fractions) and len(fractions) >= 2
    # The cached filter visits every row (the rows below weigh the particles); the reference
    # reports each position of the hole, then weighs the rest in one pass.
    assert fractions[-1] == (1.0 if method == "cached" else 3 / 5)


def test_reports_without_a_listener_do_nothing():
    assert not progress._listeners
    autoreg.sample(tiny(), 0, 1, progress=False)  # no error, nothing kept


def test_batches_continue_the_count():
    model = tiny()
    plan = BatchPlan(total=4, batch=2, needed=0)
    seen = []
    bar = row_progress((5, 3, 2), plan.num_batches, "test", enabled=False, on_progress=None)
    with RowProgress(30, 6, runs=2, enabled=False, on_update=lambda f, t: seen.append(f)) as rows:

        def run(key, which):
            x = np.zeros((len(which), 5, 3, 2), np.int32)
            return autoreg.complete(model, key, x, np.zeros((5, 3), bool), progress=False)

        autoreg.generate.in_batches(plan, 0, run, progress=False, rows=rows)
    assert seen == [r / 10 for r in range(1, 11)]
    with bar as nothing:  # neither a bar nor a GUI: no listener, the reports go further out
        assert nothing is None


def test_long_work_is_announced_once_with_its_duration(monkeypatch):
    monkeypatch.setattr(progress, "LONG_WORK_SECONDS", 0.0)
    said = []
    bar = RowProgress(40, 4, enabled=False, announce=said.append, desc="complete")
    with bar:
        for position in range(4, 44, 4):
            bar.update(position)
    assert len(said) == 1
    assert said[0].startswith("complete: this will take about") and "10 rows at" in said[0]


def test_short_work_is_not_announced():
    said = []
    with RowProgress(40, 4, enabled=False, announce=said.append) as bar:
        for position in range(4, 44, 4):
            bar.update(position)
    assert said == [] and bar.fraction == 1.0


def test_complete_passes_its_progress_to_a_gui():
    model = tiny()
    x = np.zeros((1, 5, 3, 2), np.int32)
    observed = np.zeros((5, 3), bool)
    observed[:2] = True
    seen = []
    autoreg.complete(
        model, 0, x, observed, progress=False, on_progress=lambda f, text: seen.append(text)
    )
    assert seen and seen[-1].startswith("complete: 5/5 rows")
