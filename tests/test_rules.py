"""Each vectorised kernel against a plain-Python loop fed the same random draws."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from sim.config import MediaParams, ProtestParams
from sim.facts import ACTIVE, DETAINED, QUIET
from sim.population import Population
from sim.rules import influence, media, protest, repression


def opinions(rng, n):
    return rng.random(n).astype(np.float32)


# --------------------------------------------------------------------------- influence
def loop_deffuant(x, partners, eps, mu):
    old = list(map(float, x))
    new = list(old)
    for i, j in enumerate(partners):
        gap = old[j] - old[i]
        if abs(gap) < eps:
            new[i] = old[i] + mu * gap
    return np.array(new)


@pytest.mark.parametrize("eps, mu", [(0.2, 0.5), (0.5, 0.1), (1.0, 1.0), (0.0, 0.3)])
def test_deffuant_round_matches_loop(eps, mu):
    rng = np.random.default_rng(1)
    starts, stops = np.array([0, 40, 45]), np.array([40, 45, 100])
    x = opinions(rng, 100)
    partners = influence.draw_partners(rng, starts, stops)
    expected = loop_deffuant(x, partners, eps, mu)
    influence.deffuant_round(x, partners, eps, mu, scratch=np.empty(100, np.float32))
    np.testing.assert_allclose(x, expected, atol=1e-6)


def loop_circulant(x, starts, stops, offsets, eps, mu):
    """Person k of a city meets person (k + o) mod n of the same city; all reads from before the
    round. In float32, one operation at a time: x + (gap · [|gap| < ε]) · μ."""
    eps, mu = np.float32(eps), np.float32(mu)
    old = x.astype(np.float32)
    new = old.copy()
    for s, e, o in zip(starts, stops, offsets):
        n = e - s
        for k in range(n if o else 0):
            j = s + (k + o) % n
            gap = old[j] - old[s + k]
            new[s + k] = old[s + k] + gap * ((gap < eps) & (gap > -eps)).astype(np.float32) * mu
    return new


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 80), min_size=1, max_size=6),
    block=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
    eps=st.sampled_from([0.0, 0.15, 0.3, 1.0]),
    mu=st.sampled_from([0.1, 0.5, 1.0]),
)
def test_circulant_round_matches_loop(sizes, block, seed, eps, mu):
    """Every path of the compiled kernel (ascending, descending, blocks smaller and larger than
    cities and than the offset) gives the plain loop's result, to the last bit."""
    rng = np.random.default_rng(seed)
    stops = np.cumsum(sizes)
    starts = stops - np.array(sizes)
    x = rng.random((int(stops[-1]), 2)).astype(np.float32)
    offsets = influence.draw_offsets(rng, starts, stops)
    expected = loop_circulant(x, starts, stops, offsets, eps, mu)
    influence.circulant_round(x, starts, stops, offsets, eps, mu, block=block)
    np.testing.assert_array_equal(x, expected)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=5),
    rounds=st.integers(0, 5),
    block=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    stubbornness=st.sampled_from([0.0, 0.05, 0.5]),
)
def test_circulant_day_is_its_rounds_then_the_anchor(sizes, rounds, block, seed, stubbornness):
    """A day done city by city equals the rounds done one after another over all cities, then the
    pull to the anchors (loop references), to the last bit."""
    rng = np.random.default_rng(seed)
    stops = np.cumsum(sizes)
    starts = stops - np.array(sizes)
    x = rng.random((int(stops[-1]), 2)).astype(np.float32)
    x0 = rng.random(x.shape).astype(np.float32)
    offsets = np.array([influence.draw_offsets(rng, starts, stops) for _ in range(rounds)], dtype=np.int64)
    expected = x.copy()
    for o in offsets:
        expected = loop_circulant(expected, starts, stops, o, 0.3, 0.4)
    if stubbornness > 0:
        expected = expected + (x0 - expected) * np.float32(stubbornness)
    influence.circulant_day(
        x, x0, starts, stops, offsets.reshape(rounds, len(sizes)), 0.3, 0.4, stubbornness, block=block
    )
    np.testing.assert_array_equal(x, expected)


def test_circulant_partners_are_uniform_over_the_others():
    """Over rounds, person k's partner is uniform over the other people of the city; in one round
    everyone is met exactly once (a cyclic shift is a permutation)."""
    rng = np.random.default_rng(5)
    starts, stops = np.array([0, 7]), np.array([7, 57])
    offsets = np.array([influence.draw_offsets(rng, starts, stops) for _ in range(20000)])
    assert (offsets[:, 0] >= 1).all() and (offsets[:, 0] <= 6).all()
    counts = np.bincount(offsets[:, 1], minlength=50)[1:]  # offsets 1..49 of the 50-person city
    assert counts.min() > 0.7 * 20000 / 49 and counts.max() < 1.3 * 20000 / 49
    assert offsets[:, 1].min() >= 1  # never oneself
    assert (influence.draw_offsets(rng, np.array([0]), np.array([1])) == 0).all()  # a city of one: no contact


def test_partners_stay_in_their_city():
    rng = np.random.default_rng(2)
    starts, stops = np.array([0, 3, 1000]), np.array([3, 1000, 1001])
    p = influence.draw_partners(rng, starts, stops)
    city = np.searchsorted(stops, np.arange(1001), side="right")
    assert (np.searchsorted(stops, p, side="right") == city).all()
    assert p[1000] == 1000  # a one-person city talks to itself
    counts = np.bincount(p[3:1000] - 3, minlength=997)
    assert counts.max() < 12  # no partner favoured (Poisson(1) max over 997)


def test_mean_field_and_anchor_match_closed_form():
    x = np.array([0.0, 1.0, 0.2, 0.4], dtype=np.float32)
    starts = np.array([0, 2])
    influence.mean_field_round(x, starts, 0.5)
    np.testing.assert_allclose(x, [0.25, 0.75, 0.25, 0.35], atol=1e-6)
    x0 = np.zeros(4, dtype=np.float32)
    influence.anchor(x, x0, 0.2)
    np.testing.assert_allclose(x, [0.2, 0.6, 0.2, 0.28], atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), eps=st.floats(0, 1), mu=st.floats(0, 1), n=st.integers(1, 60))
def test_deffuant_keeps_bounds_and_range(seed, eps, mu, n):
    rng = np.random.default_rng(seed)
    x = opinions(rng, n)
    lo, hi = x.min(), x.max()
    partners = influence.draw_partners(rng, np.array([0]), np.array([n]))
    influence.deffuant_round(x, partners, eps, mu)
    assert np.isfinite(x).all()
    assert x.min() >= lo - 1e-6 and x.max() <= hi + 1e-6  # convex combinations only


# --------------------------------------------------------------------------- media
def loop_salience(sal, part, W, reach, half_life, wl, wn, wnat, ref, floor):
    def v(a):
        a = max(a, floor)
        return min(1.0, math.log(a / floor) / math.log(ref / floor))

    C = len(sal)
    vis = [v(a) for a in part]
    nat = max(vis)
    out = []
    for c in range(C):
        drive = wl * vis[c] + wn * sum(W[c, j] * vis[j] for j in range(C)) + wnat * reach[c] * nat
        kept = sal[c] * 0.5 ** (1 / half_life)
        out.append(kept + (1 - kept) * (1 - math.exp(-drive)))
    return np.array(out)


def test_salience_matches_loop():
    rng = np.random.default_rng(3)
    C = 5
    W = rng.random((C, C))
    np.fill_diagonal(W, 0)
    W /= W.sum(axis=1, keepdims=True)
    sal, part, reach = rng.random(C), np.array([0, 3, 12, 400, 5000.0]), rng.random(C)
    args = (3.0, 0.3, 0.4, 0.5, 1000.0, 5.0)
    params = MediaParams(
        salience_half_life_days=3.0,
        local_weight=0.3,
        network_weight=0.4,
        national_weight=0.5,
        visibility_reference=1000.0,
        visibility_floor=5.0,
    )
    got = media.update_salience(sal, part, sparse.csr_array(W), reach, params)
    np.testing.assert_allclose(got, loop_salience(sal, part, W, reach, *args), rtol=1e-12)


def test_visibility_default_floor_is_one_person():
    v = media.visibility(np.array([1.0, 10.0, 100.0]), 100.0)
    np.testing.assert_allclose(v, [0.0, 0.5, 1.0])


def test_visibility_floor_reference_and_monotone():
    v = media.visibility(np.array([0, 5, 50, 1000, 10**6]), 1000, 5)
    assert v[0] == 0 and v[1] == 0 and v[3] == 1 and v[4] == 1
    assert 0 < v[2] < 1 and v[2] == pytest.approx(math.log(10) / math.log(200))


def test_salience_decays_by_half_life_without_protest():
    params = MediaParams(salience_half_life_days=2.0, local_weight=1, network_weight=1, national_weight=1)
    got = media.update_salience(np.array([0.8]), np.zeros(1), sparse.csr_array((1, 1)), np.ones(1), params)
    assert got[0] == pytest.approx(0.8 * 0.5**0.5)


def test_exposure_moves_only_online_people():
    s = np.full(5, 0.2, dtype=np.float32)
    t = np.full(5, 0.5, dtype=np.float32)
    # cities [0, 4) at salience 1 and [4, 5) at salience 0.5; each person moves once
    pop = Population(np.array([0, 4]), np.array([4, 5]))
    pop.sinophobia[:], pop.trust[:], pop.online[:] = s, t, [True, False, True, True, True]
    media.exposure(pop, np.array([1.0, 0.5]), MediaParams(sinophobia_rate=0.5, trust_rate=0.2))
    np.testing.assert_allclose(pop.sinophobia, [0.6, 0.2, 0.6, 0.6, 0.4], atol=1e-6)
    np.testing.assert_allclose(pop.trust, [0.4, 0.5, 0.4, 0.4, 0.45], atol=1e-6)


# --------------------------------------------------------------------------- protest
def test_arrest_probability_epstein_value():
    # Epstein (2002): one officer per active person (K = A + 1), k = 2.3 → 1 − e^−2.3 ≈ 0.9
    p = protest.arrest_probability(np.array([11.0]), np.array([10.0]), 2.3)
    assert p[0] == pytest.approx(1 - math.exp(-2.3))
    assert protest.arrest_probability(np.array([0.0]), np.array([10.0]), 2.3)[0] == 0


@pytest.mark.parametrize("gw", [1.2, 2.0, 1.0])
def test_decide_matches_loop(gw):
    rng = np.random.default_rng(4)
    n = 500
    h, t, s, r, th = (opinions(rng, n) for _ in range(5))
    status = rng.choice(np.array([QUIET, ACTIVE, DETAINED], dtype=np.uint8), n)
    starts, stops = np.array([0, 100, 130]), np.array([100, 130, n])
    sal, proof, arrest, boost = (rng.random(3) * 0.5 for _ in range(4))
    pop = Population(starts, stops)
    pop.hardship[:], pop.trust[:], pop.sinophobia[:], pop.risk_aversion[:], pop.threshold[:] = h, t, s, r, th
    pop.status[:] = status
    drive = protest.CityDrive(salience=sal, proof=proof, arrest=arrest, boost=boost)
    active, grievance = protest.decide(pop, drive, ProtestParams(grievance_weight=gw, sinophobia_weight=0.7))
    for i in range(n):
        c = int(np.searchsorted(stops, i, side="right"))
        g = gw * h[i] * (1 - t[i])
        m = g + 0.7 * s[i] * sal[c] + boost[c]
        want = status[i] != DETAINED and m + proof[c] - r[i] * arrest[c] >= th[i]
        if abs(m + proof[c] - r[i] * arrest[c] - th[i]) > 1e-5:  # skip float ties
            assert bool(active[i]) == want, i
        assert grievance[i] == pytest.approx(g, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 60), min_size=1, max_size=5), st.booleans())
def test_the_fused_day_pass_is_decide_then_settle_then_release(seed, sizes, release):
    """decide_day's one pass leaves the state the three passes leave one after another (the decision,
    the status update, the release when repression is on) and counts each city's active and held."""
    rng = np.random.default_rng(seed)
    stops = np.cumsum(sizes)
    starts = stops - np.asarray(sizes)
    n, C = int(stops[-1]), len(sizes)
    pop = Population(starts, stops)
    for arr in (pop.hardship, pop.trust, pop.sinophobia, pop.risk_aversion, pop.threshold):
        arr[:] = opinions(rng, n)
    pop.status[:] = rng.choice(np.array([QUIET, ACTIVE, DETAINED], dtype=np.uint8), n)
    pop.detention[:] = np.where(pop.status == DETAINED, rng.integers(1, 4, size=n), 0)
    pop.heard[:] = rng.random(n) < 0.5
    sal, proof, arrest, boost, call = (rng.random(C) * 0.5 for _ in range(5))
    drive = protest.CityDrive(salience=sal, proof=proof, arrest=arrest, boost=boost, call=call)
    params = ProtestParams(grievance_weight=1.3, sinophobia_weight=0.8)
    ref = pop.copy()
    active, grievance = protest.decide(ref, drive, params)
    ref.status[:] = active + np.uint8(2) * (ref.status == DETAINED)  # settle
    if release:
        repression.release(ref.status, ref.detention)
    got_active, got_grievance = np.empty(n, dtype=bool), np.empty(n, dtype=np.float32)
    counts = protest.decide_day(pop, drive, params, release, got_active, got_grievance)
    assert got_active.tolist() == active.tolist()
    assert got_grievance.tobytes() == grievance.tobytes()
    assert pop.status.tolist() == ref.status.tolist() and pop.detention.tolist() == ref.detention.tolist()
    held = ref.status == DETAINED
    assert counts[:, 0].tolist() == [int(active[s:e].sum()) for s, e in zip(starts, stops)]
    assert counts[:, 1].tolist() == [int(held[s:e].sum()) for s, e in zip(starts, stops)]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 40), min_size=1, max_size=6), st.floats(0, 1))
def test_candidates_from_counts_are_the_scanned_ones(seed, sizes, share):
    """Skipping the cities counted empty gives the same candidates and runs as scanning everyone."""
    rng = np.random.default_rng(seed)
    stops = np.cumsum(sizes)
    starts = stops - np.asarray(sizes)
    active = rng.random(int(stops[-1])) < share * rng.random(len(sizes)).repeat(sizes)
    counts = np.array([active[s:e].sum() for s, e in zip(starts, stops)], dtype=np.int64)
    want = repression.candidates(active, starts, stops)
    got = repression.candidates(active, starts, stops, counts)
    for a, b in zip(want, got):
        assert a.tolist() == b.tolist()


def test_social_proof_modes():
    a, n = np.array([0.0, 50.0]), np.array([100.0, 100.0])
    media_ = MediaParams(visibility_reference=1000, visibility_floor=5)

    def proof(mode: str, weight: float) -> np.ndarray:
        return protest.social_proof(a, n, ProtestParams(social_proof=mode, social_proof_weight=weight), media_)

    np.testing.assert_allclose(proof("fraction", 1.0), [0, 0.5])
    assert proof("none", 1.0).sum() == 0
    vis = proof("visibility", 0.2)
    assert vis[0] == 0 and 0 < vis[1] < 0.2


# --------------------------------------------------------------------------- repression
def test_detain_and_release_match_loop():
    status = np.array([ACTIVE, ACTIVE, QUIET, DETAINED, ACTIVE], dtype=np.uint8)
    detention = np.array([0, 0, 0, 1, 0], dtype=np.uint8)
    released = repression.release(status, detention)
    assert released == 1 and status[3] == QUIET
    assert repression.release(status.copy(), detention.copy()) == 0  # nobody held
    cand = np.array([0, 1, 4])
    hit = repression.detain(
        status,
        detention,
        cand,
        np.array([0.5, 0.5, 0.5]),
        np.array([0.1, 0.9, 0.2]),
        np.array([3, 4, 5], dtype=np.uint8),
    )
    assert hit.tolist() == [0, 4]
    assert status.tolist() == [DETAINED, ACTIVE, QUIET, QUIET, DETAINED]
    assert detention.tolist() == [3, 0, 0, 0, 5]
    for _ in range(2):
        repression.release(status, detention)
    assert status[0] == DETAINED and status[4] == DETAINED
    repression.release(status, detention)
    assert status[0] == QUIET and status[4] == DETAINED


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 40), min_size=1, max_size=5))
def test_compiled_detention_matches_the_rule_on_index_arrays(seed, sizes):
    """The step's compiled path (candidates by city, draw, detain city by city; release in one pass) gives the
    same state, draws and per-city counts as the rule on index arrays (:func:`repression.detain`)."""
    rng = np.random.default_rng(seed)
    stops = np.cumsum(sizes)
    starts = stops - np.asarray(sizes)
    n = int(stops[-1])
    status = rng.choice(np.array([QUIET, ACTIVE, DETAINED], dtype=np.uint8), size=n)
    detention = np.where(status == DETAINED, rng.integers(1, 4, size=n), 0).astype(np.uint8)
    q = rng.random(len(sizes))
    s1, d1, s2, d2 = status.copy(), detention.copy(), status.copy(), detention.copy()
    # reference: NumPy on index arrays
    held = np.flatnonzero(s1 == DETAINED)
    left = d1[held] - np.uint8(1)
    d1[held] = left
    s1[held[left == 0]] = QUIET
    released = int((left == 0).sum())
    active = s1 == ACTIVE
    cand = np.flatnonzero(active)
    city_of = np.searchsorted(stops, cand, side="right")
    r1 = np.random.default_rng(seed + 1)
    u, days = r1.random(cand.size), r1.integers(2, 6, size=cand.size, dtype=np.uint8)
    hit = repression.detain(s1, d1, cand, q[city_of], u, days) if cand.size else cand
    expected_new = np.bincount(np.searchsorted(stops, hit, side="right"), minlength=len(sizes))
    # compiled
    assert repression.release(s2, d2) == released
    cand2, lo, hi = repression.candidates(s2 == ACTIVE, starts, stops)
    assert (hi - lo).tolist() == np.bincount(city_of, minlength=len(sizes)).tolist()
    r2 = np.random.default_rng(seed + 1)
    new = repression.detain_cities(s2, d2, cand2, lo, hi, q, r2, 2, 5)
    assert new.tolist() == expected_new.tolist()
    assert s2.tolist() == s1.tolist() and d2.tolist() == d1.tolist()
    assert r2.random() == r1.random()  # the same number of draws


def test_no_arrest_probability_never_detains():
    """P = 0 (no police) detains nobody, even for a uniform draw of exactly 0."""
    status = np.full(3, ACTIVE, dtype=np.uint8)
    detention = np.zeros(3, dtype=np.uint8)
    hit = repression.detain(status, detention, np.arange(3), np.zeros(3), np.zeros(3), np.ones(3, dtype=np.uint8))
    assert hit.size == 0 and (status == ACTIVE).all()


def test_backlash_only_online():
    pop = Population(np.array([0, 2]), np.array([2, 3]))
    pop.trust[:] = 0.5
    pop.online[:] = [True, False, True]
    repression.backlash(pop, np.array([0.1, 0.2]))
    np.testing.assert_allclose(pop.trust, [0.45, 0.5, 0.4], atol=1e-7)


def test_pair_gather_equals_two_gathers_and_round_matches_loop():
    rng = np.random.default_rng(7)
    n = 257
    x = rng.random((n, 2), dtype=np.float32)
    p = rng.integers(0, n, size=n, dtype=np.int32)
    np.testing.assert_array_equal(influence.gather(x, p), np.stack([x[p, 0], x[p, 1]], axis=1))
    for other in (x.astype(np.float64), rng.random((n, 3), dtype=np.float32), x[:, 0].copy()):
        np.testing.assert_array_equal(influence.gather(other, p), other[p])  # the general path
    want = np.stack([loop_deffuant(x[:, k], p, 0.25, 0.4) for k in range(2)], axis=1)
    influence.deffuant_round(x, p, 0.25, 0.4)
    np.testing.assert_allclose(x, want, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 300), min_size=1, max_size=5), seed=st.integers(0, 2**32 - 1))
def test_tallies_count_and_average_each_city(sizes, seed):
    """The one-pass tallies equal per-city NumPy counts and float64 means."""
    rng = np.random.default_rng(seed)
    stops = np.cumsum(sizes)
    pop = Population(stops - np.array(sizes), stops)
    pop.opinions[:] = rng.random(pop.opinions.shape, dtype=np.float32)
    pop.status[:] = rng.integers(0, 3, pop.n)
    grievance = rng.random(pop.n, dtype=np.float32)
    active = rng.random(pop.n) < 0.3
    counts, means = pop.tallies(grievance, active)
    for c in range(pop.n_cities):
        sl = pop.city(c)
        assert counts[c, 0] == np.count_nonzero(active[sl])
        assert counts[c, 1] == np.count_nonzero(pop.status[sl] == DETAINED)
        expected = [
            pop.trust[sl].astype(float).mean(),
            pop.sinophobia[sl].astype(float).mean(),
            grievance[sl].astype(float).mean(),
        ]
        np.testing.assert_allclose(means[c], expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    effect=st.floats(0.0, 1.0),
    backfire=st.floats(0.0, 10.0),
    government=st.booleans(),
)
def test_message_kernel_is_the_numpy_rule(seed, effect, backfire, government):
    """The compiled message pass equals the rule written with NumPy from the class's own distrust(),
    bit for bit, on a city inside a larger population (opinions at the bounds included)."""
    from sim.events import DiplomaticMessage, GovernmentMessage
    from sim.rules import kernels

    rng = np.random.default_rng(seed)
    n, start, size = 400, 37, 300
    opinions = rng.choice(np.array([0.0, -0.0, 1.0, 0.5, 0.999], dtype=np.float32), size=(n, 2))
    opinions[::3] = rng.random((len(opinions[::3]), 2), dtype=np.float32)
    hears = rng.random(size) < 0.6
    kind = (GovernmentMessage if government else DiplomaticMessage)(
        day=0, cities=("A",), effect=effect, backfire=backfire
    )
    want = opinions.copy()
    s = want[start : start + size, 1]
    d = kind.distrust(want[start : start + size, 0], s)
    delta = np.float32(effect) * (np.float32(backfire) * d - (1 - d))
    s += delta * hears
    np.clip(s, 0, 1, out=s)
    got = opinions.copy()
    kernels.message(got.reshape(-1), start, hears, np.float32(effect), np.float32(backfire), kind.distrust_from_trust)
    assert got.tobytes() == want.tobytes()  # bits, signed zeros included
