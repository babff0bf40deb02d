"""Granovetter (1978), threshold models of collective behaviour, as a special case of sim:
one city, social proof = share of the city active yesterday (``social_proof: fraction``,
weight 1), no grievance, no sinophobia term, no police, no influence or media."""

import numpy as np
import pytest
from scipy import optimize, stats

from .common import one_city, run_to_end

GRANOVETTER = {
    "enabled": True,
    "social_proof": "fraction",
    "social_proof_weight": 1.0,
    "sinophobia_weight": 0.0,
    "grievance_weight": 0.0,
}


def riot(thresholds_in_people: np.ndarray, days: int = 130) -> np.ndarray:
    n = len(thresholds_in_people)
    raw = one_city(n, days, protest=GRANOVETTER)

    def setup(model):
        # threshold in people already active → share of the city (model units)
        model.population.threshold[:] = np.asarray(thresholds_in_people, dtype=np.float64) / n

    return run_to_end(raw, setup).records["active_agents"][:, 0]


def test_uniform_thresholds_all_riot():
    """Granovetter 1978, p. 1424: thresholds 0, 1, ..., 99 in a crowd of 100 → all 100 riot
    (the person with threshold 0 starts, each next one joins the day after)."""
    active = riot(np.arange(100))
    assert active[0] == 1 and active[-1] == 100
    assert np.all(np.diff(active) >= 0)


def test_one_changed_threshold_stops_the_riot():
    """Granovetter 1978, p. 1425: raising the threshold-1 person to 2 leaves only the instigator."""
    t = np.arange(100)
    t[1] = 2
    active = riot(t)
    assert active[-1] == 1


def fixed_point_from_zero(cdf, tol=1e-12) -> float:
    """First fixed point of r = F(r) reached by iterating from r = 0 (Granovetter's equilibrium)."""
    r = 0.0
    for _ in range(100_000):
        nxt = cdf(r)
        if abs(nxt - r) < tol:
            return nxt
        r = nxt
    raise AssertionError("no convergence")


@pytest.mark.parametrize("mean, sd", [(0.5, 0.3), (0.25, 0.12)])
def test_normal_thresholds_reach_the_first_fixed_point(mean, sd):
    """Granovetter 1978, pp. 1426–1428: with thresholds ~ Normal(mean, sd) (clipped at 0 and 1),
    the final share active is the first fixed point of r = F(r) from 0, F the thresholds' CDF.
    Tolerance: 4 binomial standard deviations (N = 20,000) plus 1/N; both cases are far from the
    critical point (F'(r*) < 0.8, checked), where finite-N noise would decide the outcome."""
    n = 20_000
    cdf = lambda r: float(stats.norm.cdf((r - mean) / sd)) if r < 1 else 1.0  # noqa: E731
    r_star = fixed_point_from_zero(cdf)
    slope = stats.norm.pdf((r_star - mean) / sd) / sd
    assert slope < 0.8 or r_star > 0.999
    raw = one_city(
        n, 120, seed=3, protest=GRANOVETTER, population={"threshold": {"dist": "normal", "mean": mean, "sd": sd}}
    )
    final = run_to_end(raw).records["active_agents"][-1, 0] / n
    tol = 4 * np.sqrt(r_star * (1 - r_star) / n) + 1 / n
    assert abs(final - r_star) <= tol, (final, r_star, tol)


def test_fixed_point_helper_agrees_with_scipy_root():
    """The iteration lands on a root of F(r) − r that scipy's brentq brackets independently."""
    cdf = lambda r: float(stats.norm.cdf((r - 0.5) / 0.3))  # noqa: E731
    r_star = fixed_point_from_zero(cdf)
    root = optimize.brentq(lambda r: cdf(r) - r, 0.0, 0.3)
    assert r_star == pytest.approx(root, abs=1e-9)
