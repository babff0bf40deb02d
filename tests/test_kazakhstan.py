"""The 2019 scenario against what was observed: a reduced version of
experiments/kazakhstan_acceptance.py (which runs the full check: 20 seeds at scale 1,
results in docs/kazakhstan_2019_acceptance.md).

Reduced to fit the suite: scale 2 (the valid scale, docs/scale.md), 4 seeds of the
scenario, 4 without the rumour and 2 with the rumour moved. With 4 seeds a share of
"≥ 80%" means at least 3 of 4. Protest outside the rumour's city comes from the dynamics
and the two calls to rally the record holds (3 September for 4 September, made only if
Zhanaozen's protesters are out; 21 September); nothing schedules protest in a city.

Asserted: what docs/kazakhstan_2019.md claims the model reproduces, and its documented misses
only as far as they are documented (Zhanaozen's peak and the largest crowd share, about 1.5× the
reports). Not asserted (reported there as a miss): Oral, reached in only some seeds.
"""

import importlib.util

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(dask_scheduler):
    spec = importlib.util.spec_from_file_location("acceptance", ROOT / "experiments" / "kazakhstan_acceptance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows, _ = module.check(seeds=4, scale=2, scheduler=dask_scheduler, moved_seeds=2, progress=False)
    return {r["check"]: r for r in rows}


def test_zhanaozen_starts_on_time(rows):
    assert rows["Zhanaozen onset on 1 or 2 September"]["score"] >= 0.75


@pytest.mark.parametrize("city", ["Astana", "Almaty", "Shymkent"])
def test_spread_reaches_the_big_cities(rows, city):
    assert rows[f"{city} reached by 10 September"]["score"] >= 0.75


@pytest.mark.parametrize("city", ["Astana", "Almaty", "Shymkent"])
def test_onsets_on_4_september(rows, city):
    assert rows[f"{city} median onset"]["score"] == 0


@pytest.mark.parametrize("city, low, high", [("Zhanaozen", 100, 2000), ("Almaty", 10, 150), ("Astana", 10, 150)])
def test_crowds_per_head_differ_as_reported(rows, city, low, high):
    """Hundreds in a town of 75,000, tens in cities of millions, with one parameter set.

    Zhanaozen's bound is up to twice the reported "about 1,000": docs/kazakhstan_2019.md reports
    the calibrated default's 1,456 (20 seeds) as about 1.5× too large, a documented miss.
    """
    assert low <= rows[f"{city} peak crowd (median seed)"]["score"] <= high


def test_rallies_stay_small(rows):
    """The largest daily crowd stays within about twice the reported share (1,000 of 74,357, 1.3%).

    docs/kazakhstan_2019.md reports 2.0% for the calibrated default as too large; what is asserted
    is that no city turns out more than 3% of its people, against the 15-28x overshoot the model
    once had in the capitals.
    """
    assert rows["largest daily crowd / population (median seed)"]["score"] <= 0.03


def test_no_rumour_no_protest(rows):
    assert rows["no protest anywhere without the rumour, before the 21 September call"]["score"] == 1.0


def test_moved_rumour_moves_the_first_onset(rows):
    assert rows["rumour moved to Kostanay: first onset there"]["score"] == 1.0
