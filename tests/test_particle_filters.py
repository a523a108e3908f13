"""Every particle filter in the registry returns the reference filter's completions, bit for bit.

The table is derived from ``autoreg.MODELS[name].particle_filters``, on the taps-path cases of
the sampler table (``registry_cases``): a filter added to the registry is tested here without
being listed.
The holes make the particles resample (checked: without resampling the same key completes
otherwise), so the caches a filter gathers by ancestor are under test too.
"""

import numpy as np
import pytest
from registry_cases import PLATFORM, params, setup, variants

import autoreg
from autoreg.generate import smc_complete

# Every particle filter but the reference, on the sampler table's taps-path variants (a filter
# runs its sampler's per-pixel plan, which the sampler table holds to the forward pass on both
# convolution paths): each must return the reference's completions
# (``autoreg.sampling.smc.smc_sampler``) for the same key.
SMC_CASES = [
    (name, method, event, overrides)
    for name, spec in autoreg.MODELS.items()
    for method, entry in spec.particle_filters.items()
    if method != "naive" and entry.runs_on(PLATFORM)
    for event, overrides in variants(name)
    if overrides.get("conv_impl") != "conv"
]
SMC_IDS = [f"{name}-{method}-{event}" for name, method, event, _ in SMC_CASES]
# The particle filters the registry must offer (one on each cached or incremental sampler).
FAST_PARTICLE_FILTERS = {
    ("pixelcnn", "cached"),
    ("gated_pixelcnn", "cached"),
    ("pixelsnail", "cached"),
    ("row_lstm", "incremental"),
    ("diagonal_bilstm", "incremental"),
    ("video_pixelcnn", "cached"),
}


def test_the_particle_filter_table_covers_every_cached_sampler():
    assert {(name, method) for name, method, _, _ in SMC_CASES} == FAST_PARTICLE_FILTERS
    for name, spec in autoreg.MODELS.items():
        assert list(spec.particle_filters)[-1] == "naive"
        assert autoreg.registry.particle_filters(name) == list(spec.particle_filters)


def holes_that_resample(x):
    """(4, *event) bool: random masks, and a middle stretch hidden from the first input, so that
    observed positions follow the holes and the particles resample along the way."""
    observed = np.random.default_rng(3).random(x.shape) < 0.6
    flat = observed.reshape(len(x), -1)
    d = flat.shape[1]
    flat[0] = True
    flat[0, d // 4 : d // 2] = False
    return flat.reshape(x.shape)


@pytest.mark.device
@pytest.mark.parametrize("case", params(SMC_CASES, SMC_IDS))
def test_particle_filter_equals_the_reference(case):

    model, x, labels, _, _ = setup(case)
    observed = holes_that_resample(x)
    # Threshold 1: resample whenever the weights are uneven; a low temperature sharpens the
    # nearly uniform tiny models, so that resampling moves particles.
    kw = dict(labels=labels, temperature=0.25, particles=4)
    fast = smc_complete(model, 11, x, observed, method=case[1], ess_threshold=1.0, **kw)
    reference = smc_complete(model, 11, x, observed, method="naive", ess_threshold=1.0, **kw)
    np.testing.assert_array_equal(np.asarray(fast), np.asarray(reference))
    np.testing.assert_array_equal(np.asarray(fast)[observed], x[observed])
    # Resampling happened: without it (threshold 0) the same key completes otherwise.
    unresampled = smc_complete(model, 11, x, observed, method=case[1], ess_threshold=0.0, **kw)
    assert not np.array_equal(np.asarray(unresampled), np.asarray(fast))
