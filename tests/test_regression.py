"""The redesign changed nothing: pinned samples, completions, likelihoods (regression_cases)."""

import json

import numpy as np
import pytest
from regression_cases import CASES, FIXTURE, behaviour, shipped_log_probs

import autoreg

EXPECTED = json.loads((FIXTURE / "expected.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_checkpoint_gives_the_pinned_samples_and_likelihood(case):
    model = autoreg.load_checkpoint(FIXTURE / case)
    expected = EXPECTED["cases"][case]
    got = behaviour(model)
    assert got["methods"] == expected["methods"]  # same methods, same default first
    np.testing.assert_allclose(got["log_prob"], expected["log_prob"], rtol=1e-6)
    digests = {k: v for k, v in got.items() if "/" in k}
    assert digests == {k: v for k, v in expected.items() if "/" in k}


def test_shipped_checkpoints_give_the_pinned_likelihood():
    got = shipped_log_probs()
    assert got.keys() == EXPECTED["shipped_log_prob"].keys()
    for name, values in EXPECTED["shipped_log_prob"].items():
        np.testing.assert_allclose(got[name], values, rtol=1e-6, err_msg=name)
