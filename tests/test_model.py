"""The model as a whole: invariants (hypothesis), determinism, events, switches."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

import sim
from sim.facts import ACTIVE, DETAINED, MEANS, RECORDED
from sim.model import OpinionModel

from .conftest import small

unit = st.floats(0.0, 1.0)


@st.composite
def scenarios(draw):
    n_cities = draw(st.integers(1, 4))
    cities = [
        {
            "name": f"C{i}",
            "population": draw(st.integers(1, 400)),
            "lat": draw(st.floats(40, 55)),
            "lon": draw(st.floats(50, 85)),
        }
        for i in range(n_cities)
    ]
    mean = draw(st.floats(0.1, 0.9))
    raw = {
        "name": "prop",
        "start": "2019-09-01",
        "days": draw(st.integers(1, 12)),
        "seed": draw(st.integers(0, 2**32)),
        "geography": {"cities": cities},
        "population": {
            "trust": {"dist": "beta", "mean": mean, "sd": 0.1},
            "sinophobia": {"dist": "uniform", "low": 0.0, "high": draw(unit)},
            "hardship": {"dist": "normal", "mean": draw(unit), "sd": 0.3},
            "threshold": {"dist": "uniform", "low": 0.0, "high": draw(st.floats(0.01, 1))},
            "risk_aversion": {"dist": "constant", "value": draw(unit)},
        },
        "dynamics": {
            "influence": {
                "contacts_per_day": draw(st.integers(1, 5)),
                "confidence_bound": draw(unit),
                "rate": draw(unit),
                "stubbornness": draw(unit),
                "mode": draw(st.sampled_from(["pairwise", "mean_field"])),
            },
            "media": {"sinophobia_rate": draw(unit), "trust_rate": draw(unit)},
            "protest": {
                "social_proof": draw(st.sampled_from(["visibility", "fraction", "share", "none"])),
                "social_proof_weight": draw(st.floats(0, 2)),
            },
            "repression": {
                "police_per_1000": draw(st.floats(0, 50)),
                "arrest_share": draw(unit),
                "max_detention_days": draw(st.integers(1, 5)),
                "backlash": draw(unit),
                "deployed_share": draw(unit),
                "officers_per_protester": draw(st.one_of(st.none(), st.floats(0, 5))),
            },
            "calls": {"enabled": draw(st.booleans()), "min_crowd": draw(st.floats(1, 50)), "reach": draw(unit)},
        },
        "events": [
            {
                "kind": "information_trigger",
                "day": 0,
                "cities": ["C0"],
                "salience": draw(unit),
                "sinophobia": draw(unit),
            },
            {"kind": "diplomatic_message", "day": 0, "backfire": draw(st.floats(0, 3)), "effect": draw(unit)},
            {"kind": "government_message", "day": 0, "backfire": draw(st.floats(0, 3)), "effect": draw(unit)},
            {"kind": "economic_shock", "day": 0, "hardship": draw(st.floats(-1, 1))},
            {"kind": "focal_date", "day": 0, "boost": draw(unit), "days": 2},
            {"kind": "policing", "day": 0, "factor": draw(st.floats(0, 5))},
            {"kind": "call", "day": 0, "strength": draw(unit), "reach": draw(unit), "days": 2},
            {"kind": "media_restriction", "day": 0, "strength": draw(unit), "days": 2},
            {"kind": "curfew", "day": 0, "factor": draw(st.floats(1, 5)), "days": 2},
            {"kind": "concession", "day": 0, "salience": draw(unit), "hardship": draw(unit)},
        ],
        "warmup_days": draw(st.integers(0, 3)),
    }
    return raw


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=scenarios())
def test_invariants_hold_every_day(raw):
    model = sim.OpinionModel(raw)
    pop = model.population
    N_c = model.cities["agents"].to_numpy()
    while model.running:
        held_before = pop.city_sum(pop.status == DETAINED)
        model.step()
        d = model.day - 1
        for name in ("trust", "sinophobia", "hardship", "threshold", "risk_aversion"):
            arr = getattr(pop, name)
            assert np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1, name
        counts = np.bincount(pop.status, minlength=3)
        assert counts.sum() == pop.n and counts[3:].sum() == 0  # quiet + active + detained = N
        rec = model.records
        assert (rec["participants"][d] <= model.cities["population"].to_numpy() + 1e-9).all()
        # people held when the day began were held during the decision: they could not protest
        assert (rec["active_agents"][d] + held_before <= N_c).all()
        assert ((rec["salience"][d] >= 0) & (rec["salience"][d] <= 1)).all()
        for key in ("mean_trust", "mean_sinophobia", "mean_grievance"):
            assert np.isfinite(rec[key][d]).all()
        assert (pop.detention[pop.status != DETAINED] == 0).all()
        assert (pop.detention[pop.status == DETAINED] >= 1).all()
    again = sim.OpinionModel(raw).run()  # determinism: same scenario, same seed
    for key, arr in model.records.items():
        np.testing.assert_array_equal(again.records[key], arr)


def test_detained_people_do_not_protest():
    raw = small(
        n_cities=1,
        people=2000,
        days=10,
        dynamics={
            "repression": {
                "arrest_share": 1.0,
                "police_per_1000": 1000,
                "min_detention_days": 5,
                "max_detention_days": 5,
            }
        },
    )
    # everyone protests: no threshold, no fear
    raw["population"] = {
        "threshold": {"dist": "constant", "value": 0.0},
        "risk_aversion": {"dist": "constant", "value": 0.0},
    }
    model = sim.OpinionModel(raw)
    model.step()
    pop = model.population
    first = model.records["participants"][0, 0]
    held = pop.status == DETAINED
    # one officer per protester: P = 1 − exp(−2.3 · 2000/2001) ≈ 0.9 of them detained
    assert first == 2000 and 1700 < held.sum() < 1900
    model.step()
    assert model.records["active_agents"][1, 0] == 2000 - held.sum()
    assert not (held & (pop.status == ACTIVE)).any()


def test_same_seed_same_result_different_seed_differs(two_towns):
    a = sim.run(two_towns, seed=5)
    b = sim.run(two_towns, seed=5)
    c = sim.run(two_towns, seed=6)
    for k in a.records:
        np.testing.assert_array_equal(a.records[k], b.records[k])
    assert any(not np.array_equal(a.records[k], c.records[k]) for k in ("mean_trust", "mean_sinophobia"))


def test_scale_counts_people(two_towns):
    two_towns["scale"] = 10
    model = sim.OpinionModel(two_towns)
    assert model.population.n == 7000
    res = model.run()
    np.testing.assert_allclose(res.records["participants"], res.records["active_agents"] * 10)


def test_population_exposes_arrays_and_cities(two_towns):
    model = sim.OpinionModel(two_towns, seed=1)
    pop = model.population
    for name in ("trust", "sinophobia", "hardship", "threshold", "risk_aversion"):
        arr = getattr(pop, name)
        assert arr.dtype == np.float32 and arr.shape == (70000,)
    assert pop.status.dtype == np.uint8
    assert pop.nbytes / pop.n <= 40
    assert list(model.cities["city"]) == ["A", "B"]
    assert len(model.city_agents) == 2 and model.city_agents[1].people == slice(20000, 70000)


def test_overrides_shift_city_distributions():
    raw = small(n_cities=2, people=20000, days=1, population={"overrides": {"C1": {"hardship": {"mean": 0.7}}}})
    pop = sim.OpinionModel(raw).population
    assert pop.hardship[pop.city(0)].mean() == pytest.approx(0.35, abs=0.01)
    assert pop.hardship[pop.city(1)].mean() == pytest.approx(0.7, abs=0.01)


# --------------------------------------------------------------------------- events
def run_days(raw, days):
    model = sim.OpinionModel(raw)
    for _ in range(days):
        model.step()
    return model


def quiet(days: int = 3, **extra):
    """Two cities, nobody protests (threshold 1): isolates event effects."""
    raw = small(n_cities=2, people=5000, days=days, **extra)
    raw["population"] = {"threshold": {"dist": "constant", "value": 1.0}}
    return raw


def test_information_trigger_raises_salience_and_online_sinophobia():
    off = {"influence": {"enabled": False}}  # no conversations: isolate the event's own effect
    base = run_days(quiet(dynamics=off), 1)
    ev = run_days(
        quiet(
            dynamics=off,
            events=[{"kind": "information_trigger", "day": 0, "cities": ["C0"], "salience": 0.9, "sinophobia": 0.5}],
        ),
        1,
    )
    assert ev.state.salience[0] > 0.6 and ev.state.salience[1] == base.state.salience[1]
    p, q = ev.population, base.population
    c0 = p.city(0)
    online = p.online[c0]
    assert p.sinophobia[c0][online].mean() > q.sinophobia[c0][online].mean() + 0.2
    assert p.sinophobia[c0][~online].mean() == pytest.approx(q.sinophobia[c0][~online].mean(), abs=0.02)


@pytest.mark.parametrize("kind, credibility", [("diplomatic_message", "sinophobia"), ("government_message", "trust")])
def test_messages_persuade_the_credulous_and_backfire_with_the_distrustful(kind, credibility):
    raw = quiet(events=[{"kind": kind, "day": 0, "reach": 1.0, "effect": 0.2, "backfire": 2.0}])
    raw["dynamics"] = {"influence": {"enabled": False}, "media": {"enabled": False}}
    raw["geography"]["cities"][0]["media_reach"] = 1.0
    before = sim.OpinionModel(raw).population.copy()
    after = run_days(raw, 1).population
    delta = after.sinophobia - before.sinophobia
    distrust = before.sinophobia if credibility == "sinophobia" else 1 - before.trust
    c0 = after.city(0)
    assert delta[c0][distrust[c0] > 0.6].mean() > 0.05  # backfire: sinophobia rises
    assert delta[c0][distrust[c0] < 0.2].mean() < -0.05  # persuasion: it falls
    raw["events"][0]["backfire"] = 0.0
    delta0 = run_days(raw, 1).population.sinophobia - before.sinophobia
    assert (delta0 <= 1e-7).all()  # no backfire: nobody moves up


def test_economic_shock_focal_date_and_policing():
    raw = quiet(
        events=[
            {"kind": "economic_shock", "day": 1, "cities": ["C1"], "hardship": 0.2},
            {"kind": "focal_date", "day": 1, "boost": 0.3, "days": 1},
            {"kind": "policing", "day": 1, "cities": ["C0"], "factor": 2.0},
        ]
    )
    model = sim.OpinionModel(raw)
    h0 = model.population.hardship.copy()
    model.step()
    assert model.state.boost.max() == 0 and (model.police() == model._police_base).all()
    model.step()
    sl = model.population.city(1)
    assert model.population.hardship[sl].mean() > h0[sl].mean() + 0.15
    assert (model.state.boost == 0.3).all()
    assert model.police()[0] == 2 * model._police_base[0] and model.police()[1] == model._police_base[1]
    model.step()
    assert (model.state.boost == 0).all()  # focal boost lasted its one day


def test_media_restriction_cuts_who_hears_and_ends_on_time():
    """A restriction of strength x scales the share of people who hear a call by 1 − x, in the
    restricted cities only, for its days; a blackout (1) leaves nobody hearing."""
    call = {"kind": "call", "cities": "all", "reach": 0.8, "strength": 0.1}
    for strength in (0.5, 1.0):
        raw = quiet(
            days=5,
            events=[
                {"kind": "media_restriction", "day": 1, "cities": ["C0"], "strength": strength, "days": 2},
                {**call, "day": 2},
                {**call, "day": 4},
            ],
        )
        model = run_days(raw, 3)
        pop = model.population
        c0, c1 = pop.city(0), pop.city(1)
        share0 = pop.heard[c0].sum() / pop.online[c0].sum()
        share1 = pop.heard[c1].sum() / pop.online[c1].sum()
        assert share1 == pytest.approx(0.8, abs=0.03)
        assert share0 == pytest.approx(0.8 * (1 - strength), abs=0.03)
        assert model.state.online[0] == 1 - strength and model.state.online[1] == 1
        model.step()
        model.step()  # day 4: the restriction (days 1-2) is over
        assert model.state.online[0] == 1.0
        assert pop.heard[c0].sum() / pop.online[c0].sum() == pytest.approx(0.8, abs=0.03)


def test_media_restriction_scales_the_remote_channels_of_salience():
    from sim.config.schema import MediaParams
    from sim.rules import media

    m = MediaParams(local_weight=0.3, network_weight=0.5, national_weight=0.5)
    w = sparse.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    crowd, reach, zero = np.array([500.0, 0.0]), np.array([0.8, 0.8]), np.zeros(2)
    free = media.update_salience(zero, crowd, w, reach, m)
    half = media.update_salience(zero, crowd, w, reach, m, online=np.array([1.0, 0.5]))
    cut = media.update_salience(zero, crowd, w, reach, m, online=np.array([0.0, 0.0]))
    assert cut[1] == 0 and cut[0] > 0  # a blackout leaves only one's own city's rally
    assert half[0] == free[0]
    drive = lambda s: -np.log1p(-s)  # noqa: E731  (salience from zero is 1 − exp(−drive))
    assert drive(half[1]) == pytest.approx(0.5 * drive(free[1]))


def test_curfew_multiplies_police_for_its_days_then_ends():
    raw = quiet(days=5, events=[{"kind": "curfew", "day": 1, "cities": ["C1"], "factor": 4.0, "days": 2}])
    model = sim.OpinionModel(raw)
    seen = []
    for _ in range(5):
        model.step()
        seen.append(model.police() / model._police_base)
    assert [s[1] for s in seen] == [1.0, 4.0, 4.0, 1.0, 1.0]
    assert all(s[0] == 1.0 for s in seen)


def test_concession_lowers_salience_and_hardship():
    raw = quiet(
        dynamics={"media": {"enabled": False}, "influence": {"enabled": False}},
        events=[
            {"kind": "information_trigger", "day": 0, "salience": 0.8},
            {"kind": "concession", "day": 1, "cities": ["C0"], "salience": 0.5, "hardship": 0.1},
        ],
    )
    model = sim.OpinionModel(raw)
    h0 = model.population.hardship.copy()
    model.step()
    model.step()
    assert model.state.salience.tolist() == pytest.approx([0.4, 0.8])
    c0, c1 = model.population.city(0), model.population.city(1)
    np.testing.assert_allclose(model.population.hardship[c0], np.clip(h0[c0] - 0.1, 0, 1), atol=1e-6)
    np.testing.assert_array_equal(model.population.hardship[c1], h0[c1])


# --------------------------------------------------------------------------- switches
def test_no_police_is_epsteins_limit():
    raw = small(n_cities=1, people=1000, days=2, dynamics={"repression": {"police_per_1000": 0}})
    raw["population"] = {"risk_aversion": {"dist": "constant", "value": 1.0}}
    model = sim.OpinionModel(raw)
    model.step()
    assert model.records["new_detained"].sum() == 0


def test_switching_off_mechanisms():
    raw = small(
        n_cities=2,
        people=500,
        days=3,
        dynamics={
            "influence": {"enabled": False},
            "media": {"enabled": False},
            "protest": {"enabled": False},
            "repression": {"enabled": False},
        },
        events=[{"kind": "information_trigger", "day": 0, "salience": 1.0}],
    )
    model = sim.OpinionModel(raw)
    before = model.population.copy()
    res = model.run()
    np.testing.assert_array_equal(model.population.trust, before.trust)
    np.testing.assert_array_equal(model.population.sinophobia, before.sinophobia)
    assert res.records["participants"].sum() == 0
    assert (res.records["salience"] == 1.0).all()  # set by the event, no decay without media


def test_spread_emerges_from_trigger_city():
    """A trigger in one city starts protest there first; other cities follow only via salience."""
    raw = small(n_cities=3, people=20000, days=12)
    raw["population"] = {"threshold": {"dist": "beta", "mean": 0.6, "sd": 0.1}}
    for target in ("C0", "C2"):
        raw["events"] = [
            {"kind": "information_trigger", "day": 2, "cities": [target], "salience": 1.0, "sinophobia": 0.5}
        ]
        res = sim.run(raw, seed=3)
        s = res.summary.set_index("city")
        assert s.loc[target, "onset_day"] == s["onset_day"].min()
        assert (s["onset_day"].dropna() >= 2).all()
        no = dict(raw, events=[])
        assert sim.run(no, seed=3).national["cities_reached"] == 0


@pytest.fixture
def custom_event_kind():
    """A new event kind defined in one class, as CONTRIBUTING.md describes; unregistered afterwards."""
    from dataclasses import dataclass

    from sim.config.fields import param
    from sim.events import EVENT_KINDS, Event, register

    @register("test_trust_shock")
    @dataclass(frozen=True)
    class TrustShock(Event):
        """Everyone's trust falls by ``amount`` (clipped at 0)."""

        amount: float = param(0.1, 0.0, 1.0)

        def apply(self, cities, slices, pop, state, rng, day):
            for sl in slices:
                t = pop.trust[sl]
                t -= np.float32(self.amount)
                np.clip(t, 0, 1, out=t)

        def apply_reference(self, model, city):
            for p in model.members[city]:
                p.trust = max(0.0, p.trust - self.amount)

    yield TrustShock
    del EVENT_KINDS["test_trust_shock"]


def test_a_new_event_kind_is_one_class(custom_event_kind):
    """Registered, it validates, runs in the vectorised and the reference model, and acts."""
    from sim.errors import ParameterError
    from sim.reference import ReferenceModel

    raw = small(days=3, events=[{"kind": "test_trust_shock", "day": 1, "cities": ["C0"], "amount": 0.2}])
    raw["dynamics"] = {"influence": {"enabled": False}, "media": {"enabled": False}}
    vec = sim.OpinionModel(raw, seed=1)
    ref = ReferenceModel(raw, seed=1)
    before = vec.population.trust.copy()
    for model in (vec, ref):
        model.step()
        model.step()
    after = vec.population.trust
    c0 = vec.population.city(0)
    np.testing.assert_allclose(after[c0], np.clip(before[c0] - 0.2, 0, 1), atol=1e-6)
    np.testing.assert_array_equal(after[vec.population.city(1)], before[vec.population.city(1)])
    ref_c0 = np.array([p.trust for p in ref.members[0]])
    np.testing.assert_allclose(ref_c0, after[c0], atol=1e-6)  # same draws of initial state, same effect
    bad = small(days=3, events=[{"kind": "test_trust_shock", "day": 1, "amount": 2.0}])
    with pytest.raises(ParameterError, match=r"events\[0\]\.amount: 2\.0 is out of range"):
        sim.load_scenario(bad)


def test_run_reports_progress_and_wall_time(monkeypatch):
    """The progress bar's contract (one tick a day, named, on stderr, shown after 2 s, gone when
    done, off on request) and a wall time that is the run's own."""
    import sys
    import time

    import sim.model as model_module

    bars = []

    class Bar:
        def __init__(self, **kwargs):
            self.kwargs, self.ticks = kwargs, []
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            self.ticks.append(n)

    monkeypatch.setattr(model_module, "tqdm", Bar)
    raw = small(n_cities=2, people=500, days=5)
    t0 = time.perf_counter()
    result = sim.OpinionModel(raw).run(progress=True)
    elapsed = time.perf_counter() - t0
    bar = bars[-1]
    assert bar.ticks == [1] * 5
    assert bar.kwargs == {
        "total": 5,
        "disable": False,
        "delay": 2.0,
        "unit": "day",
        "file": sys.stderr,
        "desc": result.scenario.name,
        "leave": False,
    }
    assert 0 < result.wall_time <= elapsed
    sim.OpinionModel(raw).run(progress=False)
    assert bars[-1].kwargs["disable"] is True
    for tty in (False, True):  # default: a bar only on a terminal
        monkeypatch.setattr(sys.stderr, "isatty", lambda tty=tty: tty, raising=False)
        sim.OpinionModel(raw).run()
        assert bars[-1].kwargs["disable"] is not tty
    model = sim.OpinionModel(raw)
    model.step(), model.step()
    model.run(progress=True)
    assert bars[-1].kwargs["total"] == 3 and bars[-1].ticks == [1] * 3  # the days that remain


def test_stepping_past_the_end_is_refused_and_phase_times_add_up():
    import time

    model = sim.OpinionModel(small(n_cities=2, people=300, days=3))
    t0 = time.perf_counter()
    model.step()
    after_one = dict(model.phase_seconds)
    model.step(), model.step()
    elapsed = time.perf_counter() - t0
    assert not model.running and model.day == 3
    with pytest.raises(RuntimeError, match="the scenario has 3 days; all have been run"):
        model.step()
    times = model.phase_seconds
    assert all(v >= 0 for v in times.values()) and 0 < sum(times.values()) <= elapsed
    assert all(times[k] >= after_one[k] for k in times) and sum(times.values()) > sum(after_one.values())


@pytest.mark.parametrize("seed", [3, 4])
def test_a_model_without_means_runs_the_same_days(seed):
    """means=False (what a calibration asks for) leaves the mean records NaN and every other record
    exactly as a full run's: the crowds and detentions come from the protest phase's own counts."""
    from .fingerprint import _EVERY_KIND  # police, detentions, backlash, every event kind

    full = OpinionModel(_EVERY_KIND, seed=seed)
    lean = OpinionModel(_EVERY_KIND, seed=seed, means=False)
    while full.running:
        full.step()
        lean.step()
    for name in RECORDED:
        if name in MEANS:
            assert np.isnan(lean.records[name]).all()
        else:
            assert lean.records[name].tolist() == full.records[name].tolist(), name
    assert full.records["detained"].sum() > 0 and full.records["participants"].sum() > 0
