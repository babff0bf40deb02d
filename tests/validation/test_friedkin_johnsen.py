"""DeGroot (1974) and Friedkin & Johnsen (1990) through sim's ``mean_field`` influence mode:
each of k rounds a day moves everyone toward the city mean, x ← x + μ(x̄ − x); once a day
stubbornness pulls back toward the initial opinion, x ← x + λ(x₀ − x).

Closed forms (x̄₀ the initial mean, d₀ = x₀ − x̄₀ the deviations, a = (1 − μ)^k):
- the mean is preserved every round (DeGroot with a doubly stochastic matrix);
- DeGroot (λ = 0): d(t) = a^t d₀, consensus on x̄₀;
- Friedkin–Johnsen (λ > 0): equilibrium x* = x̄₀ + λ d₀ / (1 − (1 − λ) a).
Tolerance 2e-5 (float32 state)."""

import numpy as np
import pytest

import sim

from .common import one_city


def model(days: int, mu: float, lam: float, k: int = 3) -> dict:
    return one_city(
        2000,
        days,
        seed=5,
        population={"sinophobia": {"dist": "uniform", "low": 0, "high": 1}},
        influence={"mode": "mean_field", "contacts_per_day": k, "rate": mu, "stubbornness": lam},
    )


def test_degroot_consensus_at_the_initial_mean():
    m = sim.OpinionModel(model(12, 0.2, 0.0))
    x0 = m.population.sinophobia.astype(np.float64).copy()
    while m.running:
        m.step()
    a = (1 - 0.2) ** 3
    expected = x0.mean() + a**12 * (x0 - x0.mean())
    np.testing.assert_allclose(m.population.sinophobia, expected, atol=2e-5)
    assert m.population.sinophobia.mean() == pytest.approx(x0.mean(), abs=2e-5)


@pytest.mark.parametrize("mu, lam", [(0.3, 0.1), (0.1, 0.5), (0.6, 0.02)])
def test_friedkin_johnsen_equilibrium(mu, lam):
    m = sim.OpinionModel(model(400, mu, lam))
    x0 = m.population.sinophobia.astype(np.float64).copy()
    while m.running:
        m.step()
    a = (1 - mu) ** 3
    expected = x0.mean() + lam * (x0 - x0.mean()) / (1 - (1 - lam) * a)
    np.testing.assert_allclose(m.population.sinophobia, expected, atol=2e-5)
