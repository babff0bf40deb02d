"""The compiled beta sampler reproduces NumPy's ``Generator.beta`` bit for bit (sim/rules/draws.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config.schema import Beta
from sim.rules.draws import beta32


def numpy_beta32(rng: np.random.Generator, a: float, b: float, n: int) -> np.ndarray:
    return np.clip(rng.beta(a, b, size=n), 0.0, 1.0).astype(np.float32)


def same_stream(a: float, b: float, n: int, seed: int, skip: int = 0) -> None:
    """Values, and the generator afterwards, equal NumPy's."""
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    ours.random(skip), theirs.random(skip)  # start inside a stream, not only at its seed
    x, y = beta32(ours, a, b, n), numpy_beta32(theirs, a, b, n)
    assert x.dtype == np.float32 and x.shape == (n,)
    np.testing.assert_array_equal(x, y)
    assert ours.bit_generator.state == theirs.bit_generator.state
    assert ours.random() == theirs.random()


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(1.0001, 200.0),
    b=st.floats(1.0001, 200.0),
    n=st.integers(1, 3000),
    seed=st.integers(0, 2**63),
    skip=st.integers(0, 5),
)
def test_same_values_and_state_as_numpy(a, b, n, seed, skip):
    same_stream(a, b, n, seed, skip)


@pytest.mark.parametrize("a, b", [(38.0, 12.2), (1.05, 1.3), (2.0, 60.0)])
def test_rare_branches_over_a_million_draws(a, b):
    """Two million gamma draws pass through the ziggurat's tail and wedges and Marsaglia-Tsang's
    log test many times; shapes near 1 reject often."""
    same_stream(a, b, 1_000_000, seed=20191)


@pytest.mark.parametrize("a, b", [(0.5, 0.7), (0.5, 3.0), (4.0, 1.0), (1.0, 1.0)])
def test_other_shapes_fall_back_to_numpy(a, b):
    same_stream(a, b, 5000, seed=3)


def test_other_bit_generators_fall_back_to_numpy():
    ours, theirs = np.random.Generator(np.random.MT19937(7)), np.random.Generator(np.random.MT19937(7))
    np.testing.assert_array_equal(beta32(ours, 5.0, 3.0, 1000), numpy_beta32(theirs, 5.0, 3.0, 1000))
    assert beta32(np.random.default_rng(1), 5.0, 3.0, 0).shape == (0,)


def test_population_beta_uses_it():
    """The scenario's beta distribution (thresholds, risk aversion) draws through it."""
    dist = Beta(mean=0.7558, sd=0.06)
    a, b = dist.shape()
    np.testing.assert_array_equal(
        dist.draw(10_000, np.random.default_rng(11)), numpy_beta32(np.random.default_rng(11), a, b, 10_000)
    )


@settings(max_examples=40, deadline=None)
@given(
    p=st.floats(-0.5, 1.5),
    n=st.integers(0, 5000),
    seed=st.integers(0, 2**63),
    share=st.floats(0.0, 1.0),
)
def test_bernoulli_masked_is_numpy_and_random(p, n, seed, share):
    from sim.rules.draws import bernoulli_masked

    mask = np.random.default_rng(seed + 1).random(n) < share
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    got = bernoulli_masked(ours, p, mask)
    np.testing.assert_array_equal(got, mask & (theirs.random(n) < p))
    assert ours.bit_generator.state == theirs.bit_generator.state


def test_bernoulli_masked_on_a_slice_and_other_generators():
    from sim.rules.draws import bernoulli_masked

    mask = np.random.default_rng(0).random(10_000) < 0.6
    ours, theirs = np.random.default_rng(4), np.random.default_rng(4)
    np.testing.assert_array_equal(bernoulli_masked(ours, 0.3, mask[::3]), mask[::3] & (theirs.random(3334) < 0.3))
    mt, mt2 = np.random.Generator(np.random.MT19937(2)), np.random.Generator(np.random.MT19937(2))
    np.testing.assert_array_equal(bernoulli_masked(mt, 0.5, mask), mask & (mt2.random(mask.size) < 0.5))
