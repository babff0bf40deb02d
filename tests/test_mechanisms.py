"""Every mechanism the 2019 scenario uses, checked inside the model against its equation
(docs/model.md) written here independently of ``sim/rules``.

Each test fails if its mechanism is removed from the model or one of its parameters is halved in
the code, and says so: next to the check, it recomputes the expectation with the parameter
halved (or the term dropped) and asserts that the check would have told the two apart.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import sim
from sim.facts import ACTIVE, DETAINED
from sim.rules.calls import CallBook

# ---------------------------------------------------------------------------- helpers


def two_cities(**dynamics) -> dict:
    """Cities A (20,000) and B (50,000), far apart; thresholds low enough for a wide margin."""
    return {
        "name": "mechanisms",
        "start": "2019-09-01",
        "days": 6,
        "seed": 11,
        "geography": {
            "cities": [
                {"name": "A", "population": 20_000, "lat": 43.3, "lon": 52.9},
                {"name": "B", "population": 50_000, "lat": 51.1, "lon": 71.4},
                {"name": "C", "population": 30_000, "lat": 49.8, "lon": 73.1},
            ]
        },
        "population": {"threshold": {"dist": "beta", "mean": 0.5, "sd": 0.12}},
        "dynamics": dynamics,
    }


def v_log(x, lo, hi):
    """clip(ln(x/lo)/ln(hi/lo), 0, 1), the log scale of docs/model.md."""
    x = np.maximum(np.asarray(x, dtype=np.float64), lo)
    return np.minimum(1.0, np.log(x / lo) / np.log(hi / lo))


def differs(a: np.ndarray, b: np.ndarray, share: float = 0.005) -> bool:
    """Whether two decision vectors differ for at least ``share`` of the people."""
    return bool(np.mean(a != b) >= share)


# ---------------------------------------------------------------------------- protest decision
DECISION = {
    "influence": {"enabled": False},
    "media": {"enabled": False},
    "protest": {
        "social_proof": "share",
        "social_proof_weight": 0.3,
        "proof_floor_share": 1e-4,
        "proof_reference_share": 0.02,
        "sinophobia_weight": 0.8,
        "arrest_constant": 2.3,
        "grievance_weight": 1.0,
    },
    "repression": {"police_per_1000": 5.0, "deployed_share": 0.5, "officers_per_protester": 1.0},
}


def expected_decisions(model, p, crowd, call, boost, police_per_1000, d, m, proof_weight=None, sino_weight=None):
    """Who is active, from the equations of docs/model.md section 4 (float64)."""
    pop = model.population
    people = model.cities["population"].to_numpy(float)
    K = police_per_1000 * people / 1000
    ratio = d * K / (crowd + 1)
    if m is not None:
        ratio = np.minimum(ratio, m)
    P = 1 - np.exp(-p["arrest_constant"] * ratio)
    beta_f = p["social_proof_weight"] if proof_weight is None else proof_weight
    S = beta_f * v_log(crowd / people, p["proof_floor_share"], p["proof_reference_share"])
    beta_s = p["sinophobia_weight"] if sino_weight is None else sino_weight
    city = np.repeat(np.arange(len(people)), pop.sizes)
    h, t, s = (pop.array(a).astype(np.float64) for a in ("hardship", "trust", "sinophobia"))
    M = p["grievance_weight"] * h * (1 - t) + beta_s * s * model.state.salience[city] + boost[city]
    M = M + call[city] * pop.heard
    score = M + S[city] - pop.risk_aversion * P[city] - pop.threshold
    return (score >= 0) & (pop.status != DETAINED), np.abs(score)


def test_decision_has_every_term_of_the_equation():
    """Social proof per head, sinophobia × salience, focal boost, call to hearers and police at the
    rally (deployed share d and officers per protester m) all enter the decision as written."""
    model = sim.OpinionModel(two_cities(**DECISION))
    rng = np.random.default_rng(0)
    pop = model.population
    crowd = np.array([300.0, 20.0, 0.0])  # A: police outnumbered (d binds); B: m binds
    call, boost = np.array([0.2, 0.2, 0.0]), np.array([0.0, 0.05, 0.1])
    model.participants = crowd
    model.state.salience[:] = [0.6, 0.3, 0.8]
    model.state.call[:], model.state.boost[:] = call, boost
    pop.heard[:] = rng.random(pop.n) < 0.5
    pop.status[rng.random(pop.n) < 0.01] = DETAINED
    model._phase_protest()
    got = pop.status == ACTIVE
    p = DECISION["protest"]
    want, margin = expected_decisions(model, p, crowd, call, boost, 5.0, 0.5, 1.0)
    clear = margin > 1e-5  # float32 state: skip ties
    assert (got[clear] == want[clear]).all()
    assert 0.01 < want.mean() < 0.9  # decisions on both sides
    # power: halving any parameter, or dropping a term, changes the decisions the check compares
    variants = {
        "social proof weight": expected_decisions(model, p, crowd, call, boost, 5.0, 0.5, 1.0, proof_weight=0.15),
        "sinophobia weight": expected_decisions(model, p, crowd, call, boost, 5.0, 0.5, 1.0, sino_weight=0.4),
        "call strength": expected_decisions(model, p, crowd, call / 2, boost, 5.0, 0.5, 1.0),
        "focal boost": expected_decisions(model, p, crowd, call, boost / 2, 5.0, 0.5, 1.0),
        "deployed share": expected_decisions(model, p, crowd, call, boost, 5.0, 0.25, 1.0),
        "officers per protester": expected_decisions(model, p, crowd, call, boost, 5.0, 0.5, 0.5),
        "police at the rally (whole force)": expected_decisions(model, p, crowd, call, boost, 5.0, 1.0, None),
    }
    for name, (other, _) in variants.items():
        assert differs(want[clear], other[clear], 0.001), name


def test_detention_rate_follows_the_police_at_the_rally():
    """q = a (1 − exp(−k min(d K/(A+1), m))) per active person, with today's crowd."""
    raw = two_cities(
        influence={"enabled": False},
        media={"enabled": False},
        protest={"social_proof": "none"},
        repression={
            "police_per_1000": 500.0,
            "deployed_share": 1.0,
            "officers_per_protester": 0.3,
            "arrest_share": 0.5,
        },
    )
    raw["population"] = {"threshold": {"dist": "constant", "value": 0.0}}  # everyone active
    model = sim.OpinionModel(raw)
    model.step()
    people = model.cities["population"].to_numpy(float)
    crowd = model.records["participants"][0]
    assert (crowd > 1000).all()
    rate = model.records["new_detained"][0] / crowd

    def q(a, m):
        return a * (1 - np.exp(-2.3 * np.minimum(500 * people / 1000 / (crowd + 1), m)))

    se = np.sqrt(q(0.5, 0.3) * (1 - q(0.5, 0.3)) / crowd)
    assert np.all(np.abs(rate - q(0.5, 0.3)) < 5 * se)
    for a, m in ((0.25, 0.3), (0.5, 0.15)):  # halved arrest share or officers per protester
        assert np.all(np.abs(q(a, m) - q(0.5, 0.3)) > 10 * se)


# ---------------------------------------------------------------------------- salience
MEDIA = {
    "salience_half_life_days": 3.0,
    "local_weight": 0.4,
    "network_weight": 0.5,
    "national_weight": 0.6,
    "visibility_reference": 1000.0,
    "visibility_floor": 5.0,
    "attention_fatigue": 0.3,
    "fatigue_half_life_days": 20.0,
    "sinophobia_rate": 0.0,
    "trust_rate": 0.0,
}


def expected_salience(model, crowd, sal, fat, w_loc, w_net, w_nat, kappa, t_half=3.0, t_f=20.0):
    m = MEDIA
    v = v_log(crowd, m["visibility_floor"], m["visibility_reference"])
    W = model.geography.network.toarray()
    reach = model.cities["media_reach"].to_numpy(float)
    drive = (w_loc * v + w_net * W @ v + w_nat * reach * v.max()) * (1 - fat)
    kept = sal * 0.5 ** (1 / t_half)
    new = kept + (1 - kept) * (1 - np.exp(-drive))
    kept_f = fat * 0.5 ** (1 / t_f)
    return new, kept_f + kappa * new * (1 - kept_f)


def test_salience_has_local_network_national_channels_and_fatigue():
    model = sim.OpinionModel(two_cities(media=MEDIA, influence={"enabled": False}))
    crowd = np.array([400.0, 0.0, 30.0])
    sal, fat = np.array([0.5, 0.1, 0.2]), np.array([0.2, 0.0, 0.4])
    model.participants = crowd.copy()
    model.state.salience, model.state.fatigue = sal.copy(), fat.copy()
    model._phase_salience()
    m = MEDIA
    args = (m["local_weight"], m["network_weight"], m["national_weight"], m["attention_fatigue"])
    want_s, want_f = expected_salience(model, crowd, sal, fat, *args)
    np.testing.assert_allclose(model.state.salience, want_s, rtol=1e-12)
    np.testing.assert_allclose(model.state.fatigue, want_f, rtol=1e-12)
    w_loc, w_net, w_nat, kappa = args
    changed = {
        "local": expected_salience(model, crowd, sal, fat, w_loc / 2, w_net, w_nat, kappa),
        "network": expected_salience(model, crowd, sal, fat, w_loc, w_net / 2, w_nat, kappa),
        "national": expected_salience(model, crowd, sal, fat, w_loc, w_net, w_nat / 2, kappa),
        "fatigue growth": expected_salience(model, crowd, sal, fat, w_loc, w_net, w_nat, kappa / 2),
        "fatigue damping": expected_salience(model, crowd, sal, 0 * fat, w_loc, w_net, w_nat, kappa),
        "half-life": expected_salience(model, crowd, sal, fat, *args, t_half=1.5),
        "fatigue half-life": expected_salience(model, crowd, sal, fat, *args, t_f=10.0),
    }
    for name, (s2, f2) in changed.items():
        assert np.abs(np.concatenate([s2 - want_s, f2 - want_f])).max() > 1e-4, name


def test_national_channel_reaches_a_city_without_links():
    """B is only reached through the national channel when the network weight is 0."""
    media = dict(MEDIA, network_weight=0.0, local_weight=0.0, attention_fatigue=0.0)
    model = sim.OpinionModel(two_cities(media=media, influence={"enabled": False}))
    model.participants = np.array([1000.0, 0.0, 0.0])
    model.state.salience[:] = 0
    model._phase_salience()
    reach = model.cities["media_reach"].to_numpy(float)
    want = 1 - np.exp(-0.6 * reach)  # v(1000) = 1
    np.testing.assert_allclose(model.state.salience, want, rtol=1e-12)


# ---------------------------------------------------------------------------- influence
INFLUENCE = {
    "mode": "pairwise",
    "contacts": "circulant",
    "contacts_per_day": 3,
    "confidence_bound": 0.3,
    "rate": 0.3,
    "stubbornness": 0.1,
}


def expected_influence(x, x0, offsets, starts, stops, eps, mu, lam):
    """Rounds of Deffuant with circulant partners (person k meets k + o_c), then the anchor."""
    x = x.astype(np.float64).copy()
    for round_offsets in offsets:
        old = x.copy()
        for c, (s, e) in enumerate(zip(starts, stops)):
            mine = old[s:e]
            partner = np.roll(mine, -int(round_offsets[c]), axis=0)
            close = np.abs(partner - mine) < eps
            x[s:e] = mine + mu * (partner - mine) * close
    return x + lam * (x0 - x)


def test_influence_is_pairwise_bounded_confidence_with_anchoring():
    raw = two_cities(influence=INFLUENCE, media={"enabled": False})
    raw["geography"]["cities"] = [dict(c, population=c["population"] // 10) for c in raw["geography"]["cities"]]
    model = sim.OpinionModel(raw)
    pop = model.population
    x_before, x0 = pop.opinions.copy(), pop.anchors.copy()
    twin = copy.deepcopy(model.rng)  # the offsets the phase will draw, in its documented order
    sizes = (pop.stops - pop.starts).tolist()
    offsets = [[int(twin.integers(1, n)) for n in sizes] for _ in range(INFLUENCE["contacts_per_day"])]
    model._phase_influence()
    args = (offsets, pop.starts.tolist(), pop.stops.tolist())
    want = expected_influence(x_before, x0, *args, 0.3, 0.3, 0.1)
    np.testing.assert_allclose(pop.opinions, want, atol=2e-6)
    for name, (eps, mu, lam, rounds) in {
        "confidence bound": (0.15, 0.3, 0.1, 3),
        "rate": (0.3, 0.15, 0.1, 3),
        "stubbornness": (0.3, 0.3, 0.05, 3),
        "contacts per day": (0.3, 0.3, 0.1, 1),
        "no anchoring": (0.3, 0.3, 0.0, 3),
    }.items():
        other = expected_influence(x_before, x0, offsets[:rounds], *args[1:], eps, mu, lam)
        assert np.abs(other - want).max() > 1e-3, name


def test_warm_up_runs_the_influence_phase_before_day_zero():
    raw = two_cities(influence=INFLUENCE)
    raw["warmup_days"] = 5
    warmed = sim.OpinionModel(raw)
    cold = sim.OpinionModel(dict(raw, warmup_days=0))
    cold.warm_up(5)
    np.testing.assert_array_equal(warmed.population.opinions, cold.population.opinions)
    fresh = sim.OpinionModel(dict(raw, warmup_days=0)).population
    assert warmed.population.trust.std() < 0.6 * fresh.trust.std()  # the spread settles


# ---------------------------------------------------------------------------- messages (backfire)
@pytest.mark.parametrize("backfire", [1.0, 2.0])
def test_message_effect_is_linear_in_distrust_with_backfire(backfire):
    raw = two_cities(influence={"enabled": False}, media={"enabled": False}, protest={"enabled": False})
    raw["events"] = [{"kind": "diplomatic_message", "day": 0, "reach": 1.0, "effect": 0.1, "backfire": backfire}]
    model = sim.OpinionModel(raw)
    s0 = model.population.sinophobia.astype(np.float64).copy()
    online = model.population.online.copy()
    model.step()

    def expected(f):
        return np.clip(s0 + online * 0.1 * (f * s0 - (1 - s0)), 0, 1)

    np.testing.assert_allclose(model.population.sinophobia, expected(backfire), atol=2e-6)
    assert np.abs(expected(backfire / 2) - expected(backfire)).max() > 1e-2  # halved backfire detected
    assert np.abs(expected(0) - expected(backfire)).max() > 1e-2  # backfire removed detected


# ---------------------------------------------------------------------------- calls
def call_scenario(**call) -> dict:
    raw = two_cities(influence={"enabled": False}, media={"enabled": False}, protest={"enabled": False})
    raw["events"] = [{"kind": "call", "day": 2, "cities": ["A", "B"], **call}]
    return raw


def test_a_call_reaches_online_people_and_lasts_its_days():
    model = sim.OpinionModel(call_scenario(reach=0.4, strength=0.2, days=2))
    pop = model.population
    strengths = []
    for _ in range(5):
        model.step()
        strengths.append(model.state.call.copy())
        if model.day == 3:
            heard = pop.heard.copy()
    np.testing.assert_array_equal(np.array(strengths)[:, :2], [[0, 0], [0, 0], [0.2, 0.2], [0.2, 0.2], [0, 0]])
    assert (np.array(strengths)[:, 2] == 0).all()  # C is not called
    assert not heard[~pop.online].any()
    for c in (0, 1):
        sl = pop.city(c)
        online = pop.online[sl]
        share = heard[sl][online].mean()
        se = np.sqrt(0.4 * 0.6 / online.sum())
        assert abs(share - 0.4) < 5 * se and abs(share - 0.2) > 10 * se  # halved reach detected
    assert not heard[pop.city(2)].any()


def test_a_call_with_an_origin_needs_its_crowd():
    raw = call_scenario(origin="A", min_crowd=100)
    model = sim.OpinionModel(raw)
    model.step(), model.step()
    model.participants = np.array([99.0, 0.0, 0.0])
    model.step()
    assert (model.state.call == 0).all() and not model.population.heard.any()
    model = sim.OpinionModel(raw)
    model.step(), model.step()
    model.participants = np.array([100.0, 0.0, 0.0])
    model.step()
    assert (model.state.call[:2] == 0.1).all()


def test_endogenous_calls_follow_crowds_with_delay_and_cooldown():
    from sim.config import CallParams

    book = CallBook(CallParams(enabled=True, min_crowd=300, delay_days=2, cooldown_days=3), 3)
    book.observe(0, np.array([299.0, 0, 0]))
    book.observe(1, np.array([300.0, 0, 0]))
    book.observe(2, np.array([500.0, 400, 0]))  # A in cooldown; B calls
    book.observe(4, np.array([500.0, 0, 0]))  # A again, 3 days after its call
    assert book.log == [(1, 0, 3), (2, 1, 4), (4, 0, 6)]
    assert [d for d in range(8) if book.due(d)] == [3, 4, 6]
    off = CallBook(CallParams(enabled=False), 3)
    off.observe(0, np.array([10**6, 0, 0]))
    assert off.log == []


def test_endogenous_call_in_the_model():
    raw = two_cities(
        influence={"enabled": False},
        media={"enabled": False},
        repression={"enabled": False},
        calls={"enabled": True, "min_crowd": 1000, "delay_days": 1, "reach": 0.5, "strength": 0.3},
    )
    raw["population"] = {"threshold": {"dist": "constant", "value": 1.0}}
    model = sim.OpinionModel(raw)
    model.population.threshold[model.population.city(0)] = 0.0  # everyone in A protests
    model.step()
    assert (model.state.call == 0).all()
    model.step()  # A's crowd of day 0 calls a rally for day 1 in every city
    assert model.calls.log == [(0, 0, 1)]
    assert (model.state.call == 0.3).all()
    share = model.population.heard[model.population.online].mean()
    assert abs(share - 0.5) < 0.02


def test_call_in_the_reference_model_sets_strength_days_and_hearers():
    from sim.reference import ReferenceModel

    raw = call_scenario(reach=0.5, strength=0.2, days=2)
    for c in raw["geography"]["cities"]:
        c["population"] //= 20
    ref = ReferenceModel(raw, seed=3)
    for _ in range(3):
        ref.step()
    assert ref.call[:2] == [0.2, 0.2] and ref.call[2] == 0.0
    assert ref.call_until[:2] == [3, 3]
    people = [p for c in (0, 1) for p in ref.members[c]]
    assert not any(p.heard for p in people if not p.online)
    share = np.mean([p.heard for p in people if p.online])
    assert abs(share - 0.5) < 0.05
    assert not any(p.heard for p in ref.members[2])


# ---------------------------------------------------------------------------- wiring found by mutation testing
def test_city_agents_name_their_city_and_read_its_state():
    model = sim.OpinionModel(two_cities(influence={"enabled": False}))
    model.step()
    names = [a.name for a in model.city_agents]
    assert names == ["A", "B", "C"] and [a.index for a in model.city_agents] == [0, 1, 2]
    for a in model.city_agents:
        assert a.people == model.population.city(a.index)
        assert a.participants == model.participants[a.index] and a.salience == model.state.salience[a.index]


@pytest.mark.parametrize("rates", [(0.2, 0.0), (0.0, 0.2), (0.5, 0.5)])
def test_media_drift_runs_when_either_rate_is_positive(rates):
    s_rate, t_rate = rates
    media = dict(MEDIA, sinophobia_rate=s_rate, trust_rate=t_rate)
    model = sim.OpinionModel(two_cities(media=media, influence={"enabled": False}, protest={"enabled": False}))
    pop = model.population
    s0, t0 = pop.sinophobia.astype(np.float64).copy(), pop.trust.astype(np.float64).copy()
    model.state.salience[:] = [1.0, 0.5, 0.0]
    model.participants = np.zeros(3)
    model._phase_salience()
    sal = np.repeat(model.state.salience, pop.sizes)
    np.testing.assert_allclose(pop.sinophobia, s0 + pop.online * s_rate * sal * (1 - s0), atol=2e-6)
    np.testing.assert_allclose(pop.trust, t0 - pop.online * t_rate * sal * t0, atol=2e-6)


def test_detentions_are_counted_in_the_city_of_each_person():
    """City B's people are all out and certain to be caught; A has no police and nobody out. The
    first person of B (the row where A's slice stops) must count in B."""
    raw = two_cities(
        influence={"enabled": False},
        media={"enabled": False},
        protest={"social_proof": "none", "arrest_constant": 100.0},  # P = 1 − e^(−100) = 1 exactly
        repression={"arrest_share": 1.0, "backlash": 0.0},
    )
    raw["population"] = {
        "threshold": {"dist": "constant", "value": 1.0},
        "risk_aversion": {"dist": "constant", "value": 0.0},
    }
    raw["population"]["overrides"] = {"B": {"threshold": {"dist": "constant", "value": 0.0}}}
    cities = raw["geography"]["cities"]
    cities[0]["police_per_1000"], cities[1]["police_per_1000"], cities[2]["police_per_1000"] = 0.0, 1000.0, 0.0
    model = sim.OpinionModel(raw)
    model.step()
    new = model.records["new_detained"][0]
    out = model.records["participants"][0]
    assert out[0] == 0 and out[1] == 50_000 and out[2] == 0
    np.testing.assert_array_equal(new, [0, 50_000, 0])


def test_grievance_is_recorded_without_the_protest_phase():
    model = sim.OpinionModel(two_cities(influence={"enabled": False}, protest={"enabled": False}))
    model.step()
    pop = model.population
    want = [np.mean(pop.hardship[sl].astype(np.float64) * (1 - pop.trust[sl])) for sl in map(pop.city, range(3))]
    np.testing.assert_allclose(model.records["mean_grievance"][0], want, rtol=1e-5)


def test_histograms_put_an_opinion_of_one_in_the_top_bin():
    raw = two_cities(influence={"enabled": False}, media={"enabled": False}, protest={"enabled": False})
    raw["population"] = {"trust": {"dist": "constant", "value": 1.0}}
    raw["outputs"] = {"histograms": True, "histogram_bins": 10}
    model = sim.OpinionModel(raw)
    model.step()
    trust_bins = model.histograms[0, :, 0]
    np.testing.assert_array_equal(trust_bins[:, -1], [20_000, 50_000, 30_000])
    assert trust_bins[:, :-1].sum() == 0


def test_a_city_of_two_always_gets_the_other_person():
    from sim.rules import influence

    rng = np.random.default_rng(0)
    offsets = [influence.draw_offsets(rng, np.array([0, 2, 3]), np.array([2, 3, 10])) for _ in range(50)]
    assert all(o[0] == 1 and o[1] == 0 and 1 <= o[2] <= 6 for o in offsets)


def test_a_disabled_event_does_not_drop_the_ones_after_it():
    from sim.rules.events import schedule

    raw = call_scenario()
    raw["events"] = [
        {"kind": "focal_date", "day": 1, "boost": 0.1},
        {"kind": "focal_date", "day": 2, "boost": 0.2, "enabled": False},
        {"kind": "focal_date", "day": 3, "boost": 0.3, "days": 2},
    ]
    sc = sim.load_scenario(raw)
    days = schedule(sc.events, sc.days)
    assert {d: [e.boost for e in evs] for d, evs in days.items()} == {1: [0.1], 3: [0.3]}
