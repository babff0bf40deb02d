"""Scenario loading: defaults, overrides, extends, and every user-facing error."""

import datetime as dt
import textwrap

import numpy as np
import pytest

import sim
from sim.config import Constant, Uniform, apply_overrides, load_scenario
from sim.errors import DataError, ParameterError, ScenarioError

from .conftest import SCENARIOS, small


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """\
name: t
start: 2019-09-01
days: 10
geography:
  cities:
    - {name: A, population: 20000, lat: 43.3, lon: 52.9}
    - {name: B, population: 50000, lat: 51.1, lon: 71.4}
events:
  - {kind: information_trigger, date: 2019-09-02, cities: [A], salience: 0.8}
"""


def test_five_line_scenario_gets_every_default(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.days == 10 and sc.scale == 1 and sc.seed == 0
    assert sc.n_agents == 70000
    assert sc.dynamics.influence.contacts_per_day >= 4
    ev = sc.events[0]
    assert ev.day == 1 and ev.date == dt.date(2019, 9, 2) and ev.cities == ("A",)
    assert sc.population.trust.dist == "beta"


def test_every_scenario_file_validates():
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert files
    for f in files:
        load_scenario(f)


def test_overrides_by_dotted_path_and_index(tmp_path):
    sc = load_scenario(
        write(tmp_path, GOOD),
        ["dynamics.influence.rate=0.2", "events.0.salience=0.5", "population.overrides.B.trust={mean: 0.2}"],
    )
    assert sc.dynamics.influence.rate == 0.2
    assert sc.events[0].salience == 0.5
    assert sc.population.for_city("B", "trust").mean == 0.2
    assert sc.population.for_city("B", "trust").sd == sc.population.trust.sd  # merged with the default
    assert sc.population.for_city("A", "trust").mean == 0.5


def test_extends_merges_and_keeps_parent_paths(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    child = write(
        sub,
        """\
        extends: ../base.yaml
        name: child
        dynamics: {influence: {rate: 0.1}}
        """,
        "child.yaml",
    )
    write(tmp_path, "name: base\ndays: 5\ngeography: {cities: cities.csv}\n", "base.yaml")
    (tmp_path / "cities.csv").write_text("name,population,lat,lon\nX,100,40,50\n")
    sc = load_scenario(child)
    assert sc.name == "child" and sc.days == 5 and sc.dynamics.influence.rate == 0.1
    assert [c.name for c in sc.cities] == ["X"]


def test_cities_csv_with_extra_columns(tmp_path):
    sc = load_scenario(SCENARIOS / "kazakhstan_2019.yaml")
    names = [c.name for c in sc.cities]
    assert len(names) == 24 and "Zhanaozen" in names


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "text, line, match",
    [
        (GOOD.replace("days: 10", "dayz: 10"), 3, r"unknown field 'dayz'; did you mean 'days'\?"),
        (GOOD.replace("days: 10", "days: ten"), 3, r"days: 'ten' is not a whole number"),
        (GOOD.replace("days: 10", "days: 0"), 3, r"days: 0 is out of range; allowed: 1 ≤ value"),
        (GOOD.replace("salience: 0.8", "salience: 1.8"), 9, r"events\[0\]\.salience: 1\.8 is out of range"),
        (GOOD.replace("cities: [A]", "cities: [Almatty]"), 9, r"unknown city 'Almatty'"),
        (
            GOOD.replace("2019-09-02", "2019-10-02"),
            9,
            r"date 2019-10-02 is outside the run; allowed: 2019-09-01 to "
            r"2019-09-10",
        ),
        (GOOD.replace("information_trigger", "rumor"), 9, r"event kind 'rumor' is unknown"),
        (GOOD.replace("start: 2019-09-01", "start: 2019-13-01"), 2, r"start: '2019-13-01' is not a date"),
        (GOOD.replace("lat: 43.3", "lat: 143.3"), 6, r"geography\.cities\[0\]\.lat: 143\.3 is out of range"),
        (GOOD + "population:\n  trust: {dist: beta, mean: 0.5, sd: 0.6}\n", 11, r"beta sd 0\.6 must be"),
        (GOOD + "population:\n  trust: {dist: gamma}\n", 11, r"'gamma' is not allowed.*allowed: constant, uniform"),
        (GOOD + "population:\n  overrides: {Q: {trust: {mean: 0.2}}}\n", 11, r"unknown city 'Q'"),
        (GOOD + "dynamics:\n  influence: {rat: 0.2}\n", 11, r"unknown field 'rat'; did you mean 'rate'"),
        (GOOD + "dynamics:\n  influence: {enabled: yes please}\n", 11, r"not a boolean"),
        (GOOD + "dynamics:\n  protest: {social_proof: fractions}\n", 11, r"did you mean 'fraction'"),
        (GOOD + "scale: 50000\n", 10, r"scale 50000 leaves city 'A' \(population 20000\) with no agent"),
        (GOOD + "scale: 0.5\n", 10, r"scale: 0\.5 is out of range"),
        (
            GOOD + "dynamics:\n  repression: {min_detention_days: 9, max_detention_days: 3}\n",
            11,
            r"min_detention_days 9 exceeds max_detention_days 3",
        ),
        (
            GOOD + "dynamics:\n  media: {visibility_floor: 2000}\n",
            11,
            r"visibility_floor 2000 must be below visibility_reference 1000",
        ),
        (GOOD.replace("lat: 43.3, lon: 52.9", "lat: 43.3"), 6, r"geography\.cities\[0\]: city needs 'lon'"),
        ("name: [unclosed\n", 2, r"not valid YAML"),
        ("- just\n- a list\n", 1, r"a scenario must be a mapping"),
    ],
)
def test_errors_name_file_line_field_and_fix(tmp_path, text, line, match):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=match) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}:{line}:"), str(info.value)


def test_event_needs_date_or_day(tmp_path):
    path = write(tmp_path, GOOD.replace("date: 2019-09-02, ", ""))
    with pytest.raises(ScenarioError, match="exactly one of 'date'"):
        load_scenario(path)


def test_call_events_validate_their_origin_and_fields():
    base = small(n_cities=2, days=5)
    sc = load_scenario({**base, "events": [{"kind": "call", "day": 2, "origin": "C0", "min_crowd": 20}]})
    call = sc.events[0]
    assert (call.kind, call.origin, call.min_crowd, call.strength, call.reach, call.days) == (
        "call",
        "C0",
        20,
        0.1,
        0.3,
        1,
    )
    with pytest.raises(ScenarioError, match=r"events\[0\]\.origin: unknown city 'C9'"):
        load_scenario({**base, "events": [{"kind": "call", "day": 2, "origin": "C9"}]})
    with pytest.raises(ParameterError, match=r"events\[0\]\.reach: 1\.5 is out of range"):
        load_scenario({**base, "events": [{"kind": "call", "day": 2, "reach": 1.5}]})
    with pytest.raises(
        ScenarioError, match=r"events\[0\]\.strenght: unknown field 'strenght'; did you mean 'strength'"
    ):
        load_scenario({**base, "events": [{"kind": "call", "day": 2, "strenght": 0.2}]})
    with pytest.raises(ParameterError, match=r"proof_floor_share 0\.1 must be below proof_reference_share"):
        load_scenario({**base, "dynamics": {"protest": {"proof_floor_share": 0.1, "proof_reference_share": 0.01}}})


def test_memory_check_before_allocating(tmp_path):
    text = GOOD.replace("population: 50000", "population: 9000000000")
    with pytest.raises(ParameterError, match=r"agents in 2 cities over 10 days need about .* GiB .* use scale ≥ \d+"):
        load_scenario(write(tmp_path, text))


def test_missing_file():
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario("no/such/file.yaml")


def test_cities_csv_errors(tmp_path):
    (tmp_path / "c.csv").write_text("name,population,lat,lon\nA,100,40,50\nB,lots,41,51\n")
    path = write(tmp_path, "geography: {cities: c.csv}\n")
    with pytest.raises(DataError, match=r"c\.csv:3: population: .lots. is not a number"):
        load_scenario(path)
    (tmp_path / "c.csv").write_text("name,pop,lat,lon\nA,100,40,50\n")
    with pytest.raises(DataError, match=r"c\.csv:1: missing column\(s\) population"):
        load_scenario(path)
    (tmp_path / "c.csv").write_text("name,population,lat,lon\nA,100,95,50\n")
    with pytest.raises(DataError, match=r"c\.csv:2: lat: 95\.0 is out of range"):
        load_scenario(path)
    path2 = write(tmp_path, "geography: {cities: nope.csv}\n", "t.yaml")
    with pytest.raises(ScenarioError, match=r"t\.yaml:1: geography\.cities: cities file .* not found"):
        load_scenario(path2)


def test_set_errors_name_the_override(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ScenarioError, match=r"--set dynamics\.influence\.rate=2.*out of range"):
        load_scenario(path, ["dynamics.influence.rate=2"])
    with pytest.raises(ScenarioError, match=r"needs the form PATH=VALUE"):
        load_scenario(path, ["dynamics.influence.rate"])
    with pytest.raises(ScenarioError, match=r"index 5 is out of range; the list has 1 items"):
        load_scenario(path, ["events.5.salience=0.1"])
    with pytest.raises(ScenarioError, match=r"unknown field 'rat'"):
        load_scenario(path, ["dynamics.influence.rat=0.1"])
    with pytest.raises(ScenarioError, match=r"which is a value, not a mapping"):
        load_scenario(path, ["days.x=1"])


def test_apply_overrides_does_not_mutate_input():
    raw = small()
    out = apply_overrides(raw, {"days": 3})
    assert raw["days"] == 8 and out["days"] == 3


def test_dict_scenarios_and_run_api():
    res = sim.run(small(days=3), seed=2)
    assert res.days == 3 and res.seed == 2


def test_overrides_on_a_loaded_scenario_keep_earlier_ones():
    sc = load_scenario(SCENARIOS / "kazakhstan_2019.yaml", {"scale": 1000})
    sc2 = sc.with_overrides({"days": 30})
    assert sc2.scale == 1000 and sc2.days == 30 and len(sc2.cities) == 24
    res = sim.run(sc, overrides={"days": 30})
    assert res.days == 30 and res.n_agents == sc.n_agents
    with pytest.raises(
        ScenarioError,
        match=r"kazakhstan_2019\.yaml:\d+: events\[0\]\.date: date 2019-08-31 "
        r"is outside the run",
    ):
        sc.with_overrides({"days": 3})  # the rumour would fall outside the run


@pytest.mark.parametrize(
    "dist, match",
    [
        ("{dist: normal, mean: 0.5, sd: 0.1, mena: 0.2}", r"unknown field 'mena'; did you mean 'mean'\?"),
        ("{dist: beta, mean: 0.5, sd: 0.1, value: 0.2}", r"unknown field 'value'.*valid fields here: dist, mean, sd"),
        ("{dist: constant}", r"dist 'constant' needs 'value'"),
        ("{dist: uniform, low: 0.6, high: 0.2}", r"low 0\.6 is above high 0\.2"),
    ],
)
def test_distributions_are_tagged_variants(tmp_path, dist, match):
    path = write(tmp_path, GOOD + f"population:\n  hardship: {dist}\n")
    with pytest.raises(ScenarioError, match=match) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}:11: population.hardship")


def test_distribution_variants_draw_their_own_parameters(tmp_path):
    text = GOOD + (
        "population:\n  hardship: {dist: uniform, low: 0.2, high: 0.4}\n  trust: {dist: constant, value: 0.7}\n"
        "  threshold: {dist: beta, a: 2, b: 5}\n"
    )
    sc = load_scenario(write(tmp_path, text))
    assert isinstance(sc.population.hardship, Uniform) and isinstance(sc.population.trust, Constant)
    pop = sim.OpinionModel(sc).population
    assert pop.hardship.min() >= 0.2 and pop.hardship.max() <= 0.4
    assert (pop.trust0 == np.float32(0.7)).all()
    assert abs(pop.threshold.mean() - 2 / 7) < 0.01  # beta(2, 5) mean


def test_parsed_files_are_reused_as_copies_and_reread_when_changed(tmp_path):
    """read_yaml keeps what it parsed (a calibration reads its base once per simulation): what it
    returns can be changed freely, and a file written again is read again."""
    import os

    from sim.config.yamlio import read_yaml

    f = tmp_path / "s.yaml"
    f.write_text("name: a\nevents:\n  - {kind: call, day: 2}\n")
    data, lines = read_yaml(f)
    data["events"][0]["day"] = 99
    lines.clear()
    again, lines2 = read_yaml(f)
    assert again == {"name": "a", "events": [{"kind": "call", "day": 2}]}
    assert lines2[("events", 0, "day")][1] == 3
    st = f.stat()
    f.write_text("name: b\nevents:\n  - {kind: call, day: 2}\n")  # same size, new contents
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert read_yaml(f)[0]["name"] == "b"
