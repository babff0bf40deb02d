"""Deffuant, Neau, Amblard & Weisbuch (2000), mixing beliefs among interacting agents:
bounded confidence with uniform initial opinions ends in about ⌊1/(2ε)⌋ major clusters,
whatever the rate μ.

sim's influence rule is the one-sided synchronous variant (docs/model.md, "Influence"): each
person moves toward one random partner per round. The check is the paper's: the modal number of
major clusters (≥ 2% of people, separated by gaps > 0.02) over 8 seeds, N = 1000, 20 contacts a
day for 150 days (3,000 rounds; converged: see the last test), for ε in [0.15, 0.5] and μ in
{0.1, 0.5}.
"""

import collections

import numpy as np
import pytest

from .common import clusters, one_city, run_to_end

UNIFORM = {"sinophobia": {"dist": "uniform", "low": 0, "high": 1}, "trust": {"dist": "uniform", "low": 0, "high": 1}}


def final_opinions(eps: float, mu: float, seed: int, days: int = 150):
    raw = one_city(
        1000,
        days,
        seed=seed,
        population=UNIFORM,
        influence={"contacts_per_day": 20, "confidence_bound": eps, "rate": mu, "stubbornness": 0},
    )
    return run_to_end(raw).population


def _case(eps: float, mu: float):
    """The fast subset keeps one ε per cluster count's neighbourhood at μ = 0.5; the rest is slow."""
    fast = mu == 0.5 and eps in (0.2, 0.4)
    return pytest.param(eps, mu, marks=() if fast else pytest.mark.slow)


@pytest.mark.parametrize("eps, mu", [_case(e, m) for m in (0.1, 0.5) for e in (0.15, 0.2, 0.25, 0.3, 0.4, 0.5)])
def test_modal_cluster_count_is_floor_one_over_two_eps(eps, mu):
    counts = collections.Counter(clusters(final_opinions(eps, mu, seed).sinophobia) for seed in range(8))
    mode = counts.most_common(1)[0][0]
    assert mode == int(np.floor(1 / (2 * eps))), counts


def test_both_opinions_cluster_and_runs_have_converged():
    """Trust follows the same rule (same partners); 50 more days change nothing that matters."""
    pop = final_opinions(0.2, 0.1, seed=1)
    assert clusters(pop.trust) == 2
    longer = final_opinions(0.2, 0.1, seed=1, days=200)
    assert clusters(longer.sinophobia) == clusters(pop.sinophobia)
    # within each cluster opinions are (nearly) identical: spread far below ε
    x = np.sort(longer.sinophobia)
    cuts = np.flatnonzero(np.diff(x) > 0.02)
    for part in np.split(x, cuts + 1):
        if len(part) >= 20:
            assert part.max() - part.min() < 0.01
