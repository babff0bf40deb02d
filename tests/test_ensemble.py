"""Ensembles (sim run --seeds), comparisons (sim compare), and counterfactual scenario files."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim import load_scenario
from sim.cli import main
from sim.ensemble import run_ensemble
from sim.errors import ScenarioError
from sim.executor import run_seed

from .conftest import SCENARIOS

SMALL = {
    "name": "ens",
    "start": "2019-09-01",
    "days": 8,
    "seed": 4,
    "geography": {
        "cities": [
            {"name": "A", "population": 4000, "lat": 43.3, "lon": 52.9},
            {"name": "B", "population": 6000, "lat": 51.1, "lon": 71.4},
        ]
    },
    "population": {"threshold": {"dist": "beta", "mean": 0.5, "sd": 0.1}},
    "events": [{"kind": "information_trigger", "day": 1, "cities": ["A"], "salience": 0.9, "sinophobia": 0.3}],
}


def test_ensemble_seeds_records_and_bands():
    ens = run_ensemble(SMALL, seeds=5, workers=0)
    assert ens.seeds == [run_seed(4, 0, r) for r in range(5)]
    assert ens.records["participants"].shape == (5, 8, 2)
    bands = ens.bands
    p = bands[(bands["metric"] == "participants") & (bands["city"] == "A")]
    assert (p["q05"] <= p["q50"]).all() and (p["q50"] <= p["q95"]).all()
    np.testing.assert_allclose(p["q50"].to_numpy(), np.median(ens.records["participants"][:, :, 0], axis=0))
    per = ens.per_seed
    assert len(per) == 10 and set(per["seed"]) == set(ens.seeds)
    cs = ens.summary
    assert cs.loc[cs["city"] == "A", "share_reached"].iat[0] == pytest.approx(
        per.loc[per["city"] == "A", "onset_day"].notna().mean()
    )


def test_ensemble_same_with_dask_workers(dask_scheduler):
    a = run_ensemble(SMALL, seeds=4, workers=0)
    b = run_ensemble(SMALL, seeds=4, scheduler=dask_scheduler)
    for k in a.records:
        np.testing.assert_array_equal(a.records[k], b.records[k])


def test_cli_run_seeds_writes_ensemble(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    out = tmp_path / "ens"
    assert main(["run", str(path), "--seeds", "3", "--workers", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 seeds" in printed and "cities reached:" in printed
    for f in (
        "manifest.json",
        "per_seed.csv",
        "national_by_seed.csv",
        "summary.csv",
        "bands.parquet",
        "plots/bands.png",
        "plots/onsets.png",
    ):
        assert (out / f).stat().st_size > 0, f
    assert len(json.loads((out / "manifest.json").read_text())["seeds"]) == 3
    assert set(pd.read_parquet(out / "bands.parquet").columns) >= {"date", "day", "city", "metric", "q05", "q50", "q95"}


def test_cli_compare(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text(yaml.safe_dump(SMALL))
    b = tmp_path / "b.yaml"
    b.write_text("extends: a.yaml\nname: ens-no-trigger\nset:\n  events.0.enabled: false\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--seeds", "3", "--workers", "0", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ens-no-trigger" in text and "cities reached" in text and "[" in text
    table = pd.read_csv(out / "compare.csv")
    assert list(table["scenario"]) == ["ens", "ens-no-trigger"]
    assert table.loc[1, "no_protest_share"] == 1.0  # the trigger was the only cause
    assert table.loc[0, "national_peak_q95"] > 0 and table.loc[1, "cities_reached_q95"] == 0  # numbers, not text
    assert (out / "compare.png").stat().st_size > 0


def test_paired_differences_of_a_comparison(tmp_path, capsys):
    """experiments/paired_compare.py pairs run i of each scenario with run i of the first."""
    import importlib.util

    from .conftest import ROOT

    a = SCENARIOS / "two_towns.yaml"  # the rumour in A reaches B
    b = tmp_path / "b.yaml"
    b.write_text(f"extends: {a}\nname: no-trigger\nset:\n  events.0.enabled: false\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--seeds", "3", "--workers", "0", "--out", str(out), "--quiet"]) == 0
    spec = importlib.util.spec_from_file_location("paired_compare", ROOT / "experiments" / "paired_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = module.paired(out, "two-towns").set_index("scenario").loc["no-trigger"]
    base = pd.read_csv(out / "two-towns" / "national_by_seed.csv")
    n = int(base["cities_reached"].median())
    assert n > 0 and row["pairs"] == 3
    assert row["cities reached, difference"].startswith(f"{-n:+.1f}")  # the trigger was the only cause
    assert row["fewer / more cities"] == "100% / 0%"
    # runs that are not paired are refused rather than compared
    (out / "no-trigger" / "national_by_seed.csv").write_text(
        pd.read_csv(out / "no-trigger" / "national_by_seed.csv")
        .assign(seed=lambda d: d["seed"] + 1)
        .to_csv(index=False)
    )
    with pytest.raises(SystemExit, match="not paired"):
        module.paired(out, "two-towns")


def test_compare_needs_two_scenarios(capsys):
    assert main(["compare", str(SCENARIOS / "two_towns.yaml")]) == 2
    assert "at least two" in capsys.readouterr().err


# --------------------------------------------------------------------------- counterfactual files
def test_counterfactuals_change_exactly_one_thing():
    base = load_scenario(SCENARIOS / "kazakhstan_2019.yaml")

    def load(name):
        return load_scenario(SCENARIOS / f"kazakhstan_2019_{name}.yaml")

    assert not load("no_rumour").events[0].enabled and base.events[0].enabled
    assert not load("ambassador_silent").events[3].enabled
    assert load("no_backfire").events[3].backfire == 0 and base.events[3].backfire > 0
    more = load("more_trust")
    assert more.population.trust.mean == pytest.approx(base.population.trust.mean + 0.15)
    less = load("less_hardship")
    for city in ("Almaty", "Zhanaozen", "Aktau"):
        assert less.population.for_city(city, "hardship").mean == pytest.approx(
            base.population.for_city(city, "hardship").mean - 0.1
        )
    crack = load("early_crackdown")
    assert len(crack.events) == len(base.events) + 1
    assert crack.events[-1].kind == "policing" and crack.events[-1].factor == 2.0
    for name in ("no_rumour", "ambassador_silent", "no_backfire", "more_trust", "less_hardship", "early_crackdown"):
        cf = load(name)
        assert cf.dynamics == base.dynamics and cf.cities == base.cities and cf.name != base.name


def test_set_in_a_file_reports_its_line(tmp_path):
    (tmp_path / "base.yaml").write_text("geography: {cities: [{name: A, population: 10, lat: 1, lon: 1}]}\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nset:\n  dynamics.influence.rate: 7\n")
    with pytest.raises(ScenarioError, match=r"child\.yaml:3 set dynamics\.influence\.rate=7.*out of range"):
        load_scenario(child)


@pytest.mark.slow
def test_plot_redraws_ensemble_and_compare_directories(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text(yaml.safe_dump(SMALL))
    b = tmp_path / "b.yaml"
    b.write_text("extends: a.yaml\nname: ens-no-trigger\nset:\n  events.0.enabled: false\n")
    ens_dir, cmp_dir = tmp_path / "ens", tmp_path / "cmp"
    assert main(["run", str(a), "--seeds", "3", "--workers", "0", "--out", str(ens_dir), "--quiet"]) == 0
    assert main(["compare", str(a), str(b), "--seeds", "2", "--workers", "0", "--out", str(cmp_dir), "--quiet"]) == 0
    loaded = sim.ensemble.Ensemble.load(ens_dir)
    assert loaded.seeds == run_ensemble(SMALL, seeds=3).seeds
    capsys.readouterr()
    assert main(["plot", str(ens_dir), "--out", str(tmp_path / "p1")]) == 0
    assert sorted(p.name for p in (tmp_path / "p1").iterdir()) == ["bands.png", "onsets.png"]
    assert main(["plot", str(cmp_dir), "--out", str(tmp_path / "p2")]) == 0
    assert (tmp_path / "p2" / "compare.png").stat().st_size > 0
