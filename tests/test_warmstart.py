"""Warm starts (``sim.warmstart``): pooled set-ups shared by the runs of a process.

What must hold: a run's result depends on (pool, run seed, scenario) and never on the cache;
the pooled population is warmed up exactly as a fresh one is; parameters the warm-up reads
change the warm state and parameters it does not read leave it alone; the outcome distribution
over seeds matches fresh set-ups (reduced run of experiments/pool_equivalence.py).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from sim import load_scenario
from sim.config.calibration import load_calibration
from sim.errors import SimError
from sim.model import OpinionModel, warm_population
from sim.population import Population
from sim.warmstart import PopulationPool, cache_info, clear_cache

from .conftest import ROOT, SCENARIOS


def _scenario(**over):
    return load_scenario(SCENARIOS / "two_towns.yaml", {"warmup_days": 10, "days": 12, **over})


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def test_a_pooled_run_does_not_depend_on_the_cache():
    sc = _scenario()
    pool = PopulationPool(3, 11)
    first = [OpinionModel(sc, seed=s, pool=pool).run(progress=False).records["participants"] for s in range(6)]
    assert cache_info()["hits"] > 0  # six runs over three replicates: some set-ups were reused
    clear_cache()
    again = [
        OpinionModel(sc, seed=s, pool=pool).run(progress=False).records["participants"] for s in (5, 4, 3, 2, 1, 0)
    ]
    for a, b in zip(first, reversed(again)):
        np.testing.assert_array_equal(a, b)
    assert any(r.sum() > 0 for r in first)  # the runs do something


def test_runs_share_set_ups_and_not_their_dynamics():
    sc = _scenario()
    pool = PopulationPool(1, 11)  # one replicate: every run starts from the same people
    a, b = OpinionModel(sc, seed=1, pool=pool), OpinionModel(sc, seed=2, pool=pool)
    np.testing.assert_array_equal(a.population.opinions, b.population.opinions)
    np.testing.assert_array_equal(a.population.threshold, b.population.threshold)
    a.population.opinions[:] = 0  # a run owns its arrays: the cached set-up is not touched
    c = OpinionModel(sc, seed=3, pool=pool)
    np.testing.assert_array_equal(c.population.opinions, b.population.opinions)
    a.run(progress=False)
    b.run(progress=False)
    assert not np.array_equal(b.population.opinions, c.population.opinions)  # days run with own draws
    fresh1, fresh2 = OpinionModel(sc, seed=1), OpinionModel(sc, seed=2)
    assert not np.array_equal(fresh1.population.opinions, fresh2.population.opinions)


def _replicate(sc, geo, pool_seed: int, warm: bool) -> Population:
    """Replicate 0 of a pool, built by hand: trust, sinophobia and online drawn city by city from
    the replicate's stream, then (``warm``) the scenario's warm-up days."""
    rng = np.random.default_rng(np.random.SeedSequence([pool_seed, 0, 0]))
    t = geo.table
    pop = Population(t["start"].to_numpy(), t["stop"].to_numpy())
    for c, name in enumerate(geo.names):
        sl = pop.city(c)
        for attr in ("trust", "sinophobia"):
            pop.array(attr)[sl] = sc.population.for_city(name, attr).draw(sl.stop - sl.start, rng)
        pop.online[sl] = rng.random(sl.stop - sl.start) < t["media_reach"].iat[c]
    pop.anchors[:] = pop.opinions
    if warm:
        warm_population(sc, pop, rng)
    return pop


def test_the_pooled_population_is_warmed_up_like_a_fresh_one():
    sc = _scenario(warmup_days=30)
    model = OpinionModel(sc, seed=1, pool=PopulationPool(1, 5))
    pooled = model.population
    cold = _replicate(sc, model.geography, 5, warm=False)
    warm = _replicate(sc, model.geography, 5, warm=True)
    np.testing.assert_array_equal(pooled.opinions, warm.opinions)
    np.testing.assert_array_equal(pooled.anchors, cold.opinions)
    np.testing.assert_array_equal(pooled.online, cold.online)
    assert not np.array_equal(pooled.opinions, cold.opinions)
    # the warm-up does what a fresh model's does: the spread of trust contracts to the same width
    fresh = OpinionModel(sc, seed=1).population
    assert pooled.trust.std() < cold.trust.std() * 0.95
    assert pooled.trust.std() == pytest.approx(fresh.trust.std(), rel=0.05)


def test_what_the_warm_up_reads_is_part_of_the_key():
    pool = PopulationPool(1, 3)
    base = OpinionModel(_scenario(), seed=1, pool=pool).population
    other = OpinionModel(_scenario(**{"dynamics.influence.confidence_bound": 0.1}), seed=1, pool=pool).population
    assert not np.array_equal(base.opinions, other.opinions)
    longer = OpinionModel(_scenario(**{"warmup_days": 11}), seed=1, pool=pool).population
    assert not np.array_equal(base.opinions, longer.opinions)


def test_a_calibrated_threshold_is_redrawn_and_opinions_are_shared():
    pool = PopulationPool(1, 3)
    low = OpinionModel(_scenario(**{"population.threshold.mean": 0.7}), seed=1, pool=pool).population
    high = OpinionModel(_scenario(**{"population.threshold.mean": 0.9}), seed=1, pool=pool).population
    np.testing.assert_array_equal(low.opinions, high.opinions)
    np.testing.assert_array_equal(low.hardship, high.hardship)
    assert low.threshold.mean() == pytest.approx(0.7, abs=0.01)
    assert high.threshold.mean() == pytest.approx(0.9, abs=0.01)
    # the replicate's own stream: the same distribution gives the same people again
    again = OpinionModel(_scenario(**{"population.threshold.mean": 0.7}), seed=9, pool=pool).population
    np.testing.assert_array_equal(low.threshold, again.threshold)


def test_population_pool_is_checked_in_calibration_files(tmp_path):
    text = (ROOT / "experiments" / "calibrate_2019.yaml").read_text()
    bad = tmp_path / "cal.yaml"
    bad.write_text(
        text.replace("base: ../scenarios", f"base: {ROOT}/scenarios").replace(
            "observed: [../data", f"observed: [{ROOT}/data"
        )
        + "population_pool: -2\n"
    )
    with pytest.raises(SimError) as err:
        load_calibration(bad)
    assert "population_pool" in str(err.value) and "cal.yaml" in str(err.value)


@pytest.mark.slow
def test_pooled_and_fresh_set_ups_give_the_same_outcomes(dask_scheduler):
    spec = importlib.util.spec_from_file_location("pool_eq", ROOT / "experiments" / "pool_equivalence.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    res = module.compare(seeds=30, pool=8, scale=10, scheduler=dask_scheduler, progress=False)
    ps = {r["city"]: r["p"] for r in res["cities"]} | {r["outcome"]: r["p"] for r in res["national"]}
    worst = min(ps, key=ps.get)
    assert ps[worst] >= res["bonferroni_alpha"], (worst, ps[worst], ps)
    assert sum(r["power_2day"] >= 0.8 for r in res["cities"]) >= 5  # a pass is not for lack of power
