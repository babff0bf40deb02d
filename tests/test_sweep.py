"""Sweeps: designs, seeding, executors (serial and Dask), failures, kill and resume, errors."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.config import load_experiment
from sim.errors import SimError, SweepError
from sim.executor import run_seed
from sim.sweep import design_table, run_sweep

from .conftest import SCENARIOS
from .sweep_helpers import always_killing_runner, collateral_runner, failing_runner, killing_runner

BASE = """\
name: towns
start: 2019-09-01
days: {days}
geography:
  cities:
    - {{name: A, population: {pop}, lat: 43.3, lon: 52.9}}
    - {{name: B, population: {pop}, lat: 51.1, lon: 71.4}}
population:
  threshold: {{dist: beta, mean: 0.5, sd: 0.1}}
events:
  - {{kind: information_trigger, day: 1, cities: [A], salience: 0.9, sinophobia: 0.3}}
"""

EXP = """\
name: tiny
base: base.yaml
design: {design}
{samples}seed: 7
replicates: 2
parameters:
  population.hardship.mean: [0.3, 0.5]
  events.0.salience: {{low: 0.2, high: 1.0, steps: 3}}
outcomes: [cities_reached, first_onset_day, national_peak, total_detained, final_mean_trust]
"""


def make(tmp_path, design="grid", samples="", days=6, pop=3000, exp=None):
    (tmp_path / "base.yaml").write_text(BASE.format(days=days, pop=pop))
    path = tmp_path / "exp.yaml"
    path.write_text(exp if exp is not None else EXP.format(design=design, samples=samples))
    return path


def test_design_seeds_and_values(tmp_path):
    exp = load_experiment(make(tmp_path))
    d = design_table(exp)
    assert len(d) == 2 * 3 * 2 and d["run_id"].is_unique
    assert sorted(d["events.0.salience"].unique()) == pytest.approx([0.2, 0.6, 1.0])
    assert d.loc[0, "seed"] == run_seed(7, 0, 0) != run_seed(7, 0, 1)
    assert d["seed"].is_unique
    again = design_table(load_experiment(make(tmp_path)))
    pd.testing.assert_frame_equal(d, again)


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_quasi_random_designs(tmp_path, design):
    text = textwrap.dedent(f"""\
        name: q
        base: base.yaml
        design: {design}
        samples: 8
        seed: 3
        parameters:
          dynamics.influence.confidence_bound: {{low: 0.05, high: 0.5, log: true}}
          dynamics.influence.contacts_per_day: {{low: 1, high: 8}}
          dynamics.protest.social_proof: [visibility, fraction]
        """)
    d = design_table(load_experiment(make(tmp_path, exp=text)))
    eps = d["dynamics.influence.confidence_bound"]
    assert len(d) == 8 and eps.between(0.05, 0.5).all()
    assert d["dynamics.influence.contacts_per_day"].map(lambda v: isinstance(v, (int, np.integer))).all()
    assert set(d["dynamics.protest.social_proof"]) <= {"visibility", "fraction"}
    if design == "lhs":  # one sample per stratum of the log range
        strata = np.floor(np.log(eps / 0.05) / np.log(0.5 / 0.05) * 8).astype(int)
        assert sorted(strata) == list(range(8))


@pytest.mark.slow
def test_results_identical_with_0_1_2_workers(tmp_path, dask_scheduler):
    """Serial, an embedded one-worker cluster, and two workers (the shared cluster)."""
    exp = make(tmp_path)
    stores = {}
    for w in (0, 1, 2):
        stores[w] = tmp_path / f"s{w}"
        scheduler = dask_scheduler if w == 2 else None
        res = run_sweep(exp, stores[w], workers=w, scheduler=scheduler, progress=False)
        assert (res["status"] == "ok").all()
    ref = (stores[0] / "results.parquet").read_bytes()
    assert (stores[1] / "results.parquet").read_bytes() == ref
    assert (stores[2] / "results.parquet").read_bytes() == ref
    res = sim.load_sweep(stores[0])
    assert len(res) == 12 and res["national_peak"].max() > 0  # protest happened somewhere
    assert {"run_id", "point", "replicate", "seed", "population.hardship.mean"} <= set(res.columns)


@pytest.mark.slow
def test_worker_killed_mid_run_loses_nothing(tmp_path, dask_scheduler):
    exp = make(tmp_path)
    serial = run_sweep(exp, tmp_path / "serial", workers=0, progress=False)
    res = run_sweep(exp, tmp_path / "killed", scheduler=dask_scheduler, progress=False, runner=killing_runner)
    assert (tmp_path / "killed" / "killed-once").exists()  # a worker really died
    assert (res["status"] == "ok").all()
    pd.testing.assert_frame_equal(res, serial)


def test_failing_run_is_recorded_and_the_rest_finish(tmp_path):
    res = run_sweep(make(tmp_path), tmp_path / "f", workers=0, progress=False, runner=failing_runner)
    bad = res[res["status"] != "ok"]
    assert list(bad["run_id"]) == ["r0002"]
    assert "dynamics.influence.rate" in bad["error"].iat[0] and "out of range" in bad["error"].iat[0]
    assert (res.drop(index=bad.index)["status"] == "ok").all()
    assert np.isnan(bad["national_peak"].iat[0])


@pytest.mark.slow
def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    exp = make(tmp_path, days=20, pop=40000)
    whole = run_sweep(exp, tmp_path / "whole", workers=0, progress=False)
    store = tmp_path / "cut"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(exp), "--out", str(store), "--workers", "0", "--quiet"]
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((store / "runs").glob("*.parquet"))) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list((store / "runs").glob("*.parquet")))
    assert 3 <= finished < 12, finished  # really cut in the middle
    assert not (store / "results.parquet").exists()
    assert main(["sweep", str(exp), "--out", str(store), "--workers", "0", "--quiet"]) == 2  # refuses
    assert main(["sweep", str(exp), "--out", str(store), "--workers", "0", "--resume", "--quiet"]) == 0
    assert (store / "results.parquet").read_bytes() == (tmp_path / "whole" / "results.parquet").read_bytes()
    assert len(whole) == 12


def test_cli_sweep_and_plots(tmp_path, capsys):
    exp = make(tmp_path)
    assert main(["sweep", str(exp), "--out", str(tmp_path / "s"), "--workers", "0", "--quiet"]) == 0
    assert "12 of 12 runs ok" in capsys.readouterr().out
    assert main(["plot", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "plots" / "heatmap.png").stat().st_size > 0
    assert (tmp_path / "s" / "plots" / "outcomes.png").stat().st_size > 0


def test_plot_redraws_a_run_directory(tmp_path):
    run = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(SCENARIOS / "two_towns.yaml"),
                "--out",
                str(run),
                "--quiet",
                "--no-plots",
                "--set",
                "outputs.histograms=true",
            ]
        )
        == 0
    )
    assert main(["plot", str(run)]) == 0
    for name in ("timeseries", "onset", "map", "distributions"):
        assert (run / "plots" / f"{name}.png").stat().st_size > 0
    loaded = sim.Result.load(run)
    fresh = sim.run(SCENARIOS / "two_towns.yaml", overrides={"outputs.histograms": True})
    for key in fresh.records:
        np.testing.assert_allclose(loaded.records[key], fresh.records[key])
    np.testing.assert_allclose(loaded.histograms, fresh.histograms)


@pytest.mark.parametrize(
    "edit, match",
    [
        (
            lambda t: t.replace("design: grid", "desing: grid"),
            r"exp\.yaml:3: desing: unknown field 'desing'; did you mean 'design'",
        ),
        (
            lambda t: t.replace("population.hardship.mean", "population.hardship.mena"),
            r"exp\.yaml:7: parameters\.population\.hardship\.mena: value 0\.3 is rejected by the scenario: "
            r"unknown field 'mena'",
        ),
        (
            lambda t: t.replace("[0.3, 0.5]", "[0.3, 1.5]"),
            r"value 1\.5 is rejected by the scenario: 1\.5 is out of range",
        ),
        (lambda t: t.replace("[0.3, 0.5]", "[]"), r"exp\.yaml:7: .*empty list of values"),
        (lambda t: t.replace(", steps: 3", ""), r"needs 'steps'"),
        (lambda t: t.replace("design: grid", "design: lhs"), r"design 'lhs' needs 'samples'"),
        (
            lambda t: t.replace("design: grid", "design: random"),
            r"design 'random' is unknown; allowed: grid, lhs, sobol",
        ),
        (
            lambda t: t.replace("total_detained", "total_detainees"),
            r"outcome 'total_detainees' is unknown \(did you mean 'total_detained'\?\)",
        ),
        (lambda t: t.replace("base.yaml", "nope.yaml"), r"base scenario 'nope\.yaml' not found"),
        (
            lambda t: t.replace("events.0.salience", "events.4.salience"),
            r"rejected by the scenario: index 4 is out of range",
        ),
        (lambda t: t.replace("national_peak, ", "onset_error_mean, "), r"need the base scenario's 'observed' onsets"),
    ],
)
def test_experiment_errors(tmp_path, edit, match):
    path = make(tmp_path)
    path.write_text(edit(path.read_text()))
    with pytest.raises(SweepError, match=match):
        load_experiment(path)


def test_cli_reports_experiment_errors(tmp_path, capsys):
    path = make(tmp_path)
    path.write_text(path.read_text().replace("replicates: 2", "replicates: 0"))
    assert main(["sweep", str(path)]) == 2
    assert "replicates: 0 must be a whole number ≥ 1" in capsys.readouterr().err


def test_existing_store_is_not_overwritten(tmp_path):
    exp = make(tmp_path)
    run_sweep(exp, tmp_path / "s", workers=0, progress=False)
    with pytest.raises(SimError, match="already holds a sweep; add --resume"):
        run_sweep(exp, tmp_path / "s", workers=0, progress=False)


def test_existing_scheduler_is_used_and_left_running(tmp_path, dask_scheduler):
    from distributed import Client

    exp = make(tmp_path)
    serial = run_sweep(exp, tmp_path / "serial", workers=0, progress=False)
    res = run_sweep(exp, tmp_path / "remote", scheduler=dask_scheduler, progress=False)
    pd.testing.assert_frame_equal(res, serial)
    with Client(dask_scheduler) as client:  # still up, still has its workers
        assert len(client.scheduler_info()["workers"]) == 2


def test_resume_reruns_parts_that_are_not_this_run(tmp_path):
    """A part copied over from another run, a part with altered numbers and a truncated part are
    run again; resumed, the store equals an uninterrupted one."""
    exp = make(tmp_path)
    whole = run_sweep(exp, tmp_path / "whole", workers=0, progress=False)
    store = tmp_path / "s"
    run_sweep(exp, store, workers=0, progress=False)
    runs = store / "runs"
    (runs / "r0001.parquet").write_bytes((runs / "r0002.parquet").read_bytes())  # another run's part
    part = pd.read_parquet(runs / "r0003.parquet")
    part.loc[0, "national_peak"] = part.loc[0, "national_peak"] + 1000  # altered numbers, valid Parquet
    part.to_parquet(runs / "r0003.parquet", index=False)
    (runs / "r0004.parquet").write_bytes((runs / "r0004.parquet").read_bytes()[:100])  # truncated
    res = run_sweep(exp, store, workers=0, progress=False, resume=True)
    pd.testing.assert_frame_equal(res, whole)


def test_resume_refuses_a_changed_base_scenario(tmp_path):
    exp = make(tmp_path)
    store = tmp_path / "s"
    run_sweep(exp, store, workers=0, progress=False)
    base = tmp_path / "base.yaml"
    base.write_text(base.read_text().replace("days: 6", "days: 7"))
    with pytest.raises(SimError, match=r"base scenario .* changed since this sweep started"):
        run_sweep(exp, store, workers=0, progress=False, resume=True)


def test_truncated_sweep_manifest_is_one_line(tmp_path, capsys):
    exp = make(tmp_path)
    store = tmp_path / "s"
    run_sweep(exp, store, workers=0, progress=False)
    (store / "manifest.json").write_text('{"experiment": {"na')
    assert main(["sweep", str(exp), "--out", str(store), "--workers", "0", "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.json is damaged" in err


@pytest.mark.slow
def test_a_run_that_kills_its_worker_is_recorded_and_the_sweep_finishes(tmp_path):
    """On a loaded machine (a busy process beside it), a run whose worker dies on every try is
    retried a bounded number of times, then recorded as failed with its cause; the others finish."""
    exp = make(tmp_path)
    busy = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 120: pass"])
    try:
        t0 = time.time()
        res = run_sweep(exp, tmp_path / "k", workers=2, progress=False, runner=always_killing_runner)
        assert time.time() - t0 < 240
    finally:
        busy.kill()
    bad = res.set_index("run_id").loc["r0002"]
    assert bad["status"] == "failed" and "KilledWorker" in bad["error"] and "again when run alone" in bad["error"]
    assert (res.drop(index=res.index[res["run_id"] == "r0002"])["status"] == "ok").all()


@pytest.mark.slow
def test_a_run_given_up_on_with_its_worker_is_tried_again_alone(tmp_path):
    """Dask gives up on every task a dying worker held, innocent ones too; the sweep tries such a
    run once more alone before recording it as failed, so a run that finishes alone is kept."""
    from sim.executor import ALLOWED_FAILURES

    exp = make(tmp_path)
    serial = run_sweep(exp, tmp_path / "serial", workers=0, progress=False)
    res = run_sweep(exp, tmp_path / "c", workers=2, progress=False, runner=collateral_runner)
    assert len((tmp_path / "c" / "r0001-tries").read_text()) == ALLOWED_FAILURES + 1  # Dask gave up on it
    assert (res["status"] == "ok").all()
    pd.testing.assert_frame_equal(res, serial)


def test_plot_labels_are_readable():
    from sim.plotting.sweeps import label

    assert label("events.3.backfire") == "backfire (event 3)"
    assert label("population.hardship.mean") == "hardship mean"
    assert label("dynamics.media.national_weight") == "media: national weight"


def test_plot_of_a_damaged_store_is_one_line(tmp_path, capsys):
    exp = make(tmp_path)
    store = tmp_path / "s"
    run_sweep(exp, store, workers=0, progress=False)
    (store / "results.parquet").write_bytes(b"PAR1 not really")
    assert main(["plot", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the sweep store is damaged" in err


def test_heatmap_leaves_out_outcomes_that_never_change(tmp_path):
    from sim import plotting

    exp = make(tmp_path)
    res = run_sweep(exp, tmp_path / "s", workers=0, progress=False)
    res["total_detained"] = 5.0  # the same in every run
    fig = plotting.sweep_figures(res, tmp_path / "s")["heatmap"]
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert "median total detained" not in titles and "median national peak" in titles
    assert "total detained 5" in fig._suptitle.get_text()
