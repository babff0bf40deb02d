"""Hostile and mistaken input files: each gets one clear error (exit 2 from the CLI) within
seconds, naming the file, and valid but unusual inputs are accepted."""

import os
import textwrap
import time

import pytest
import yaml

import sim
from sim.cli import main
from sim.config import load_experiment, load_scenario
from sim.errors import ScenarioError, SweepError

from .conftest import ROOT

HEAD = """\
name: t
start: 2019-09-01
days: 10
geography:
  cities:
    - {name: A, population: 20000, lat: 43.3, lon: 52.9}
    - {name: B, population: 50000, lat: 51.1, lon: 71.4}
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def refused(path_or_raw, match, overrides=None, seconds=10.0, cls=ScenarioError):
    t0 = time.perf_counter()
    with pytest.raises(cls, match=match) as info:
        load_scenario(path_or_raw, overrides)
    assert time.perf_counter() - t0 < seconds
    assert "\n" not in str(info.value)
    return info.value


def test_billion_laughs_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = write(tmp_path, HEAD + "\n".join(lines) + "\n")
    refused(path, r"values once aliases are expanded")


def test_deep_nesting_is_refused(tmp_path):
    path = write(tmp_path, "name: " + "[" * 10_000 + "]" * 10_000 + "\n")
    refused(path, r"nested (too deeply|more than)")


def test_self_referencing_alias_in_set_is_refused(tmp_path):
    path = write(tmp_path, HEAD)
    refused(path, r"nested|aliases|not allowed|unknown field", overrides=["description=&a [*a]"])


def test_long_extends_chain_is_refused(tmp_path):
    write(tmp_path, HEAD, "s0.yaml")
    for i in range(1, 40):
        write(tmp_path, f"extends: s{i - 1}.yaml\n", f"s{i}.yaml")
    refused(tmp_path / "s39.yaml", r"extends goes more than 20 files deep")


def test_huge_file_is_refused(tmp_path):
    path = write(tmp_path, HEAD + "description: '" + "x" * 3_000_000 + "'\n")
    refused(path, r"limited to 2,000,000 bytes")


@pytest.mark.parametrize(
    "extra, match",
    [
        ("start: 9999-12-01\n", r"goes past the year 9999"),
        ("events:\n  - {kind: [a], day: 1}\n", r"event kind \['a'\] is unknown"),
        ("days: 12\ndays: 14\n", r"duplicate key 'days' \(first on line 3\)"),
        ("events:\n  - {kind: focal_date, day: 1, cities: [A, A]}\n", r"city 'A' is listed twice"),
        ("start: 20190901\n", r"not a date; write YYYY-MM-DD"),
        ("population:\n  trust: {dist: normal, mean: 0.5, sd: 0.1, mena: 0.2}\n", r"unknown field 'mena'"),
    ],
)
def test_hostile_fields(tmp_path, extra, match):
    text = (
        HEAD.replace("start: 2019-09-01\n", "").replace("days: 10", "days: 40") if extra.startswith("start") else HEAD
    )
    refused(write(tmp_path, text + extra), match)


def test_empty_and_blank_city_names(tmp_path):
    refused(write(tmp_path, HEAD.replace("name: A,", "name: '  ',")), r"city 1 has an empty name")
    (tmp_path / "c.csv").write_text("name,population,lat,lon\n,100,40,50\n")
    refused(write(tmp_path, "geography: {cities: c.csv}\n", "t.yaml"), r"empty city name")


@pytest.mark.parametrize("population", ["1e300", "99999999999999999999999"])
def test_populations_beyond_ten_billion(tmp_path, population):
    refused(write(tmp_path, HEAD.replace("population: 20000", f"population: {population}")), r"out of range")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_and_pipe_as_data_files(tmp_path):
    refused(write(tmp_path, "geography: {cities: /dev/zero}\n"), r"not a regular file")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    refused(write(tmp_path, "geography: {cities: pipe.csv}\n", "t.yaml"), r"not a regular file")
    refused(fifo, r"not a regular file")


def test_observed_file_is_checked_at_load(tmp_path):
    (tmp_path / "obs.csv").write_text("garbage\x00;;;\n1,2\n")
    refused(write(tmp_path, HEAD + "observed: obs.csv\n"), r"obs\.csv.*(missing column|cannot parse)")
    (tmp_path / "dir.csv").mkdir()
    refused(write(tmp_path, HEAD + "observed: dir.csv\n", "t.yaml"), r"not a regular file")


def test_set_values_with_tags_are_refused(tmp_path):
    path = write(tmp_path, HEAD)
    refused(path, r"not allowed|not valid|is not text", overrides=["description=!!binary aGVsbG8="])


def test_valid_unusual_inputs_are_accepted(tmp_path):
    (tmp_path / "c.csv").write_bytes("\ufeffname,population,lat,lon\nX,1000,40,50\nY,2000,41,51\n".encode())
    sc = load_scenario(write(tmp_path, "geography: {cities: c.csv}\nscale: 1e1\ndays: 3\n"))
    assert [c.name for c in sc.cities] == ["X", "Y"] and sc.scale == 10.0
    assert load_scenario(write(tmp_path, HEAD, "u.yaml"), ["scale=1e2"]).scale == 100.0


def test_many_cities_refused_before_allocating(tmp_path):
    cities = [{"name": f"m{i}", "population": 100, "lat": 40 + i * 1e-4, "lon": 50.0} for i in range(40_000)]
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"40,000 cities need a dense network of .* GiB; use fewer cities"):
        load_scenario({"geography": {"cities": cities}, "days": 5})
    assert time.perf_counter() - t0 < 30


def test_long_runs_with_histograms_refused_before_allocating():
    raw = {
        "days": 36500,
        "outputs": {"histograms": True, "histogram_bins": 200},
        "geography": {"cities": [{"name": f"c{i}", "population": 100, "lat": 40, "lon": 50 + i} for i in range(60)]},
    }
    with pytest.raises(ScenarioError, match=r"histograms need .* GiB; set outputs.histograms: false"):
        load_scenario(raw)


def test_cli_gives_one_line_and_exit_2(tmp_path, capsys):
    path = write(tmp_path, HEAD + "days: 12\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "duplicate key 'days'" in err


# --------------------------------------------------------------------------- experiment files
def experiment(tmp_path, **changes):
    (tmp_path / "base.yaml").write_text(HEAD)
    exp = {
        "name": "e",
        "base": "base.yaml",
        "design": "grid",
        "seed": 1,
        "replicates": 1,
        "parameters": {"dynamics.influence.rate": [0.2, 0.3]},
    }
    exp.update(changes)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(exp))
    return path


@pytest.mark.parametrize(
    "changes, match",
    [
        (
            {
                "parameters": {
                    f"dynamics.influence.{k}": {"low": 0.1, "high": 0.2, "steps": 1000}
                    for k in ("rate", "confidence_bound", "stubbornness")
                }
            },
            r"1,000,000,000 runs; at most",
        ),
        ({"design": "lhs", "samples": 10**9}, r"runs; at most 1,000,000"),
        ({"replicates": 10**9}, r"runs; at most 1,000,000"),
        ({"parameters": {"seed": [1, 2]}}, r"'seed' cannot be swept"),
        ({"name": ".."}, r"names the output folder"),
        ({"name": "a/b"}, r"names the output folder"),
    ],
)
def test_hostile_experiments(tmp_path, changes, match):
    path = experiment(tmp_path, **changes)
    t0 = time.perf_counter()
    with pytest.raises(SweepError, match=match):
        load_experiment(path)
    assert time.perf_counter() - t0 < 10


def test_experiment_with_a_parameter_twice(tmp_path):
    path = experiment(tmp_path)
    text = path.read_text().replace("parameters:\n", "parameters:\n  dynamics.influence.rate: [0.5]\n")
    path.write_text(text)
    with pytest.raises(ScenarioError, match=r"duplicate key 'dynamics.influence.rate'"):
        load_experiment(path)


def test_two_towns_example_shows_a_spread():
    """The README's minimal scenario is worth running: the rumour spreads from A to B."""
    res = sim.run(ROOT / "scenarios" / "two_towns.yaml")
    assert res.national["cities_reached"] == 2
