"""Circulant contacts (the default) against uniform contacts on the Kazakhstan scenario: a reduced
run of experiments/contact_equivalence.py (30 seeds per scheme at scale 10; the full comparison at
scale 1 is in docs/model.md, "Contact schemes").

Every test of the family (per-city onset days, log national peak, cities reached; two-sample KS)
must pass at a family-wise α = 0.01 (Bonferroni). Power: at scale 10 onsets are more spread than at
scale 1, and a one-day shift of a reported city's onsets is detected in 41–100% of resamples
(measured 2026-11-28; lowest for Oral, whose onsets spread over a week); a two-day shift in at
least 82% for every reported city, which the second test checks (≥ 80%),
so a pass is not a pass for lack of power. The scale-1 comparison (docs/model.md) has more power.
"""

import importlib.util

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

REPORTED = ["Zhanaozen", "Astana", "Almaty", "Karaganda", "Shymkent", "Aktobe", "Oral"]


@pytest.fixture(scope="module")
def comparison(dask_scheduler):
    spec = importlib.util.spec_from_file_location("equivalence", ROOT / "experiments" / "contact_equivalence.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compare(seeds=30, scale=10, scheduler=dask_scheduler, progress=False)


def test_no_outcome_differs_between_schemes(comparison):
    ps = {r["city"]: r["p"] for r in comparison["cities"]}
    ps.update({r["outcome"]: r["p"] for r in comparison["national"]})
    worst = min(ps, key=ps.get)
    assert ps[worst] >= comparison["bonferroni_alpha"], (worst, ps[worst], ps)


def test_the_onset_tests_have_power(comparison):
    power = {r["city"]: r["power_2day"] for r in comparison["cities"]}
    reached = [c for c in REPORTED if c in power]
    assert len(reached) >= 5
    assert min(power[c] for c in reached) >= 0.8, power
