"""Epstein (2002), modeling civil violence: an agent-based computational approach (PNAS 99,
7243–7250), as a special case of sim: constant legitimacy L (trust), hardship H ~ U(0, 1),
constant threshold T, risk aversion irrelevant without police, no social proof, no sinophobia."""

import math

import numpy as np
import pytest
from scipy import stats

from sim.rules.protest import arrest_probability

from .common import one_city, run_to_end

EPSTEIN = {"enabled": True, "social_proof": "none", "sinophobia_weight": 0.0, "grievance_weight": 1.0}


def active_share(legitimacy: float, threshold: float, n: int = 50_000, seed: int = 0) -> float:
    raw = one_city(
        n,
        2,
        seed=seed,
        protest=EPSTEIN,
        police_per_1000=0.0,
        population={
            "trust": {"dist": "constant", "value": legitimacy},
            "hardship": {"dist": "uniform", "low": 0.0, "high": 1.0},
            "threshold": {"dist": "constant", "value": threshold},
            "risk_aversion": {"dist": "uniform", "low": 0.0, "high": 1.0},
        },
    )
    return run_to_end(raw).records["active_agents"][-1, 0] / n


@pytest.mark.parametrize("legitimacy, threshold", [(0.2, 0.1), (0.5, 0.1), (0.8, 0.05), (0.3, 0.4)])
def test_no_police_active_share(legitimacy, threshold):
    """Epstein 2002, model I without cops: active iff G = H(1 − L) > T, so with H ~ U(0, 1) the
    active share is 1 − T/(1 − L). Tolerance: a two-sided binomial test at α = 0.001 (N = 50,000)."""
    n = 50_000
    expected = max(0.0, 1 - threshold / (1 - legitimacy))
    got = active_share(legitimacy, threshold, n)
    p = stats.binomtest(int(round(got * n)), n, expected).pvalue
    assert p > 0.001, (got, expected)


def test_full_legitimacy_means_nobody_rebels():
    """Epstein 2002: with L = 1 grievance is zero and nobody is ever active (T > 0)."""
    assert active_share(1.0, 0.1) == 0.0


def test_arrest_probability_at_one_officer_per_active():
    """Epstein 2002, eq. for estimated arrest probability P = 1 − exp(−k (C/A)_v) with k = 2.3,
    chosen so that P = 0.9 at one cop per active agent: here K = A + 1 (the +1 counts the agent
    itself, as Epstein's A_v does)."""
    p = arrest_probability(np.array([100.0]), np.array([99.0]), 2.3)[0]
    assert p == pytest.approx(1 - math.exp(-2.3))
    assert p == pytest.approx(0.9, abs=0.001)
