"""Inference: observations, the observation model's scores, ABC-SMC (determinism, resume,
recovery of known parameters), calibration files and ``sim calibrate``/``sim score``."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from sim import load_scenario
from sim.cli import main
from sim.config.calibration import load_calibration
from sim.config.observations import read_observations
from sim.errors import DataError, SweepError
from sim.inference import calibrate
from sim.inference.observe import ObservationModel, crps_log_count, crps_onset
from sim.inference.priors import Prior
from sim.inference.score import null_onsets
from sim.inference.smc import SMCSettings, effective_sample_size, run_smc, weighted_quantile

from .conftest import interruptible

ROOT = Path(__file__).resolve().parent.parent
KZ = ROOT / "scenarios" / "kazakhstan_2019.yaml"
OBS19 = ROOT / "data" / "episodes" / "kz2019_observations.csv"


def _synthetic():
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "experiments" / "synthetic_calibration.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------- observations
def test_the_2019_observations_read_with_days_since_start():
    s = load_scenario(KZ)
    rows = read_observations(OBS19, [c.name for c in s.cities], s.start, s.days)
    zh = rows[(rows.city == "Zhanaozen") & (rows.quantity == "onset")].iloc[0]
    assert (zh.day_lo, zh.day_hi) == (7, 8)  # 1-2 September, start 25 August
    assert set(rows.quantity) == {"onset", "participants", "detained"}
    assert "national" in set(rows.city)


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("Atlantis,onset,2019-09-04,2019-09-04,,", "city", "not in the scenario"),
        ("Almaty,crowd,2019-09-04,2019-09-04,1,2", "quantity", "unknown"),
        ("Almaty,onset,2019-09-05,2019-09-04,,", "date_earliest", "after"),
        ("Almaty,participants,2019-09-04,2019-09-04,50,20", "low", "above high"),
        ("Almaty,participants,2019-09-04,2019-09-04,many,20", "low", "not a number"),
        ("Almaty,participants,2019-12-04,2019-12-04,1,2", "date_latest", "outside the run"),
        ("Almaty,onset,4 Sep,2019-09-04,,", "date_earliest", "not a date"),
    ],
)
def test_bad_observation_rows_name_file_line_and_column(tmp_path, line, field, message):
    f = tmp_path / "obs.csv"
    f.write_text(
        "city,quantity,date_earliest,date_latest,low,high\nAlmaty,onset,2019-09-04,2019-09-04,,\n" + line + "\n"
    )
    s = load_scenario(KZ)
    with pytest.raises(DataError) as e:
        read_observations(f, [c.name for c in s.cities], s.start, s.days)
    assert e.value.line == 3 and e.value.path == field and message in e.value.message
    assert str(f) in str(e.value)


def test_onset_only_tables_are_read_as_onset_rows():
    s = load_scenario(KZ)
    rows = read_observations(ROOT / "data" / "observed_onsets_2019.csv", [c.name for c in s.cities], s.start, s.days)
    assert set(rows.quantity) == {"onset"} and len(rows) == 7


# --------------------------------------------------------------------------- scores
def test_onset_crps_of_a_point_forecast_is_the_distance_to_the_reported_interval():
    assert crps_onset(np.array([10.0]), 10, 10, 36) == 0.0
    assert crps_onset(np.array([12.0, 12.0]), 10, 10, 36) == pytest.approx(2.0)
    # interval: average over its days of |x - y|
    assert crps_onset(np.array([8.0]), 8, 16, 36) == pytest.approx(np.mean(np.arange(0, 9)))
    # a spread ensemble centred on the truth scores worse than a point on it, better than a point 3 days off
    spread = crps_onset(np.array([9.0, 10.0, 11.0]), 10, 10, 36)
    assert 0 < spread < crps_onset(np.array([13.0]), 10, 10, 36)


def test_log_count_crps_matches_numerical_integration_of_the_noisy_predictive():
    sims = np.array([20.0, 35.0, 80.0])
    sigma = math.log(2)
    y = math.log1p(30.0)

    def cdf(x):
        return np.mean([stats.norm.cdf(x, math.log1p(s), sigma) for s in sims])

    numeric = integrate.quad(lambda x: (cdf(x) - (x >= y)) ** 2, -10, 20, points=[y], limit=200)[0]
    assert crps_log_count(sims, 30.0, 30.0, sigma) == pytest.approx(numeric, rel=1e-4)
    # a range averages over its log scale: scoring [20, 60] differs from scoring its end points alone
    assert crps_log_count(sims, 20.0, 60.0) != crps_log_count(sims, 20.0, 20.0)


def test_distance_is_zero_inside_every_reported_interval_and_grows_outside():
    s = load_scenario(KZ)
    obs = ObservationModel.from_files([OBS19], s)
    inside = np.where(obs.rows.quantity == "onset", obs.rows.day_lo, obs.rows.low).astype(float)
    peaks = np.zeros(len(obs.unreported_cities))
    assert obs.distance(inside, peaks) == 0.0
    far = inside.copy()
    far[obs.rows.index[obs.rows.city.eq("Almaty") & obs.rows.quantity.eq("participants")][0]] = 4 * 61 - 1  # ×4 high
    assert obs.distance(far, peaks) == pytest.approx(2 / len(inside))  # two factors of 2 over 20 rows
    assert obs.distance(inside, peaks + 300) == pytest.approx(2.0)  # log2(1 + 300/100)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), level=st.floats(0.0, 4.0), spread=st.floats(0.0, 3.0))
def test_the_early_rejection_bound_never_exceeds_the_distance_and_only_grows(seed, level, spread):
    """The bound on a run known up to day t: non-decreasing in t, never above the distance of the
    whole run (or early rejection could reject a particle ABC accepts), equal to it at the end."""
    obs = _OBS19_MODEL()
    rng = np.random.default_rng(seed)
    days, cities = obs.days, len(obs.city_names)
    # crowds from none to tens of thousands, switching on at random days in random cities
    start = rng.integers(0, days, cities)
    crowd = np.where(np.arange(days)[:, None] >= start, 10 ** (level + spread * rng.standard_normal((days, cities))), 0)
    crowd = np.floor(crowd * (rng.random((days, cities)) < 0.8))
    held = np.floor(crowd * rng.random((days, cities)) * 0.1)
    values, peaks = obs.simulate(crowd, held)
    full = obs.distance(values, peaks)
    bounds = [obs.lower_bound(crowd[:t], held[:t]) for t in range(days + 1)]
    assert np.all(np.diff(bounds) >= -1e-12), bounds
    assert max(bounds) <= full + 1e-12
    assert bounds[-1] == pytest.approx(full, abs=1e-12)


def _OBS19_MODEL(cache={}):  # noqa: B006 (one observation model for every example)
    if "m" not in cache:
        cache["m"] = ObservationModel.from_files([OBS19], load_scenario(KZ))
    return cache["m"]


def test_excluded_rows_leave_the_observation_model():
    s = load_scenario(KZ)
    obs = ObservationModel.from_files([OBS19], s, exclude=(("kz2019_observations.csv", 16),))
    assert len(obs.rows) == 19 and 16 not in set(obs.rows.line)


def test_population_rank_and_focal_date_nulls():
    s = load_scenario(KZ)
    names = [c.name for c in s.cities]
    rank = null_onsets("population_rank", s)
    assert rank[names.index("Zhanaozen")] == 6  # the rumour's day, 31 August
    assert rank[names.index("Almaty")] == 10 and rank[names.index("Oral")] == 10  # the called day, 4 September
    focal = null_onsets("focal_date", s)
    assert set(focal) == {10.0}


# --------------------------------------------------------------------------- ABC-SMC
PRIORS = [Prior("a", "uniform", low=-5, high=5), Prior("b", "loguniform", low=0.1, high=10)]


def _toy(tasks, calls=None, fail_after=None):
    for t in tasks:
        if calls is not None:
            calls.append(t["k"])
            if fail_after is not None and len(calls) > fail_after:
                raise KeyboardInterrupt
        rng = np.random.default_rng(t["seed"])
        a, b = t["theta"]["a"], t["theta"]["b"]
        x, y = rng.normal(a, 1, 20).mean(), rng.normal(np.log(b), 0.5, 20).mean()
        yield {"k": t["k"], "status": "ok", "distance": abs(x - 1.0) + abs(y - np.log(2))}


def test_smc_concentrates_on_the_truth_and_weights_are_normalised(tmp_path):
    gens = run_smc(PRIORS, _toy, SMCSettings(particles=300, populations=6, seed=3), tmp_path)
    eps = [g.epsilon for g in gens]
    assert eps[0] == math.inf and all(e2 < e1 for e1, e2 in itertools.pairwise(eps[1:]))
    last = gens[-1].particles
    assert last["weight"].sum() == pytest.approx(1.0) and len(last) == 300
    for name, truth in (("a", 1.0), ("b", 2.0)):
        lo = weighted_quantile(last[name].to_numpy(), last["weight"].to_numpy(), 0.05)
        hi = weighted_quantile(last[name].to_numpy(), last["weight"].to_numpy(), 0.95)
        assert lo < truth < hi
    assert hi - lo < 0.5 * (10 - 0.1)


def test_smc_is_a_function_of_the_seed_and_a_stopped_run_resumes_to_the_same_posterior(tmp_path):
    settings = SMCSettings(particles=100, populations=4, seed=9)
    whole = run_smc(PRIORS, _toy, settings, tmp_path / "whole")[-1].particles
    calls: list[int] = []
    with pytest.raises(KeyboardInterrupt):  # stopped in the middle of a later generation
        run_smc(PRIORS, lambda ts: _toy(ts, calls, fail_after=450), settings, tmp_path / "cut")
    assert (tmp_path / "cut" / "g00.json").exists() and not (tmp_path / "cut" / "g03.json").exists()
    resumed = run_smc(PRIORS, _toy, settings, tmp_path / "cut")[-1].particles
    pd.testing.assert_frame_equal(whole, resumed)
    other = run_smc(PRIORS, _toy, SMCSettings(particles=100, populations=4, seed=10), tmp_path / "other")
    assert not np.allclose(other[-1].particles["a"], whole["a"])


def test_smc_weights_correct_for_the_proposal(tmp_path):
    """With distance 0 for every θ the posterior is the prior: importance weights must undo the
    kernel's pull towards earlier particles (without them the mean drifts)."""
    prior = [Prior("a", "normal", mean=0.0, sd=1.0)]

    def flat(tasks):
        for t in tasks:
            yield {"k": t["k"], "status": "ok", "distance": 0.0}

    last = run_smc(prior, flat, SMCSettings(particles=2000, populations=3, seed=1, alpha=0.9), tmp_path)[-1].particles
    w, a = last["weight"].to_numpy(), last["a"].to_numpy()
    mean = np.sum(w * a)
    sd = math.sqrt(np.sum(w * (a - mean) ** 2))
    assert abs(mean) < 0.1 and abs(sd - 1) < 0.1
    assert effective_sample_size(w) < 2000


def test_priors_map_between_theta_and_working_space():
    p = Prior("x", "loguniform", low=0.1, high=10)
    assert p.z_bounds == pytest.approx((math.log(0.1), math.log(10)))
    assert p.interval(1.0) == pytest.approx((0.1, 10))
    b = Prior("y", "beta", a=2, b=5, low=0, high=2)
    assert b.ppf(np.array([0.5]))[0] == pytest.approx(2 * stats.beta(2, 5).median())
    assert Prior("n", "normal", mean=1, sd=2).logpdf_z(np.array([1.0]))[0] == pytest.approx(stats.norm(1, 2).logpdf(1))


# --------------------------------------------------------------------------- calibration files
def _cal(tmp_path, **over):
    spec = {
        "name": "t",
        "base": str(KZ),
        "priors": {"dynamics.protest.sinophobia_weight": {"dist": "loguniform", "low": 0.3, "high": 3}},
        "observed": [str(OBS19)],
        "budget": {"populations": 2, "particles": 10},
        "seed": 1,
    }
    spec.update(over)
    f = tmp_path / "cal.yaml"
    f.write_text(yaml.safe_dump(spec))
    return f


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"priors": {"dynamics.protest.sinophobia_weigth": {"dist": "uniform", "low": 0, "high": 1}}}, "not a numeric"),
        ({"priors": {"population.threshold.mean": {"dist": "unifrom", "low": 0, "high": 1}}}, "did you mean 'uniform'"),
        ({"priors": {"population.threshold.mean": {"dist": "uniform", "low": 0.5}}}, "uniform takes high, low"),
        ({"priors": {"population.threshold.mean": {"dist": "uniform", "low": 0.5, "high": 1.5}}}, "rejects"),
        ({"priors": {"dynamics.protest.sinophobia_weight": {"dist": "loguniform", "low": 0, "high": 1}}}, "low > 0"),
        ({"set": {"scale": 10}}, "coarser than the scenario's valid scale"),
        ({"observed": ["nope.csv"]}, "not found"),
        ({"exclude": ["other.csv:3"]}, "FILE:LINE"),
        ({"budget": {"particles": 1}}, "≥ 2"),
        ({"alpha": 1.5}, "between 0 and 1"),
        ({"early_rejection": "yes"}, "true or false"),
    ],
)
def test_bad_calibration_files_name_the_field(tmp_path, over, message):
    with pytest.raises(SweepError) as e:
        load_calibration(_cal(tmp_path, **over))
    assert message in str(e.value) and str(tmp_path / "cal.yaml") in str(e.value)


def test_the_kazakhstan_calibration_file_validates():
    cal = load_calibration(ROOT / "experiments" / "calibrate_2019.yaml")
    assert len(cal.priors) >= 6 and cal.observed[0].endswith("kz2019_observations.csv")
    assert load_scenario(cal.base, cal.fixed).scale <= load_scenario(cal.base).valid_scale


# --------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_synthetic_calibration_recovers_known_parameters(tmp_path):
    """Observations generated by the model from known values: the 90% posterior intervals hold the
    truth and are narrower than the prior's."""
    mod = _synthetic()
    cal_path = mod.make_problem(tmp_path, particles=80, populations=5, seed=2)
    assert main(["calibrate", str(cal_path), "--out", str(tmp_path / "run"), "--workers", "0", "--quiet"]) == 0
    table = mod.coverage(tmp_path, cal_path)
    assert table["covered"].all(), table
    assert (table["width_vs_prior"] < 0.8).all(), table
    out = tmp_path / "run"
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns) == [*mod.PRIORS, "weight", "distance", "generation"]
    diag = json.loads((out / "diagnostics.json").read_text())
    assert [g["generation"] for g in diag["generations"]] == list(range(5))
    assert all(0 < g["acceptance_rate"] <= 1 and g["ess"] > 1 for g in diag["generations"])
    calibrated = load_scenario(out / "calibrated.yaml")  # extends the base, sets the medians
    assert calibrated.population.threshold.mean == pytest.approx(
        table.set_index("parameter").loc["population.threshold.mean", "median"], rel=1e-6
    )
    assert {"marginals.png", "pairs.png", "progress.png", "predictive.png"} <= {
        p.name for p in (out / "plots").iterdir()
    }
    # a second run into the same folder must not overwrite it
    assert main(["calibrate", str(cal_path), "--out", str(out), "--workers", "0", "--quiet"]) == 2


@pytest.mark.slow
def test_a_killed_calibration_resumes_to_the_uninterrupted_posterior(tmp_path):
    mod = _synthetic()
    cal_path = mod.make_problem(tmp_path, particles=40, populations=4, seed=3)
    base = [sys.executable, "-m", "sim", "calibrate", str(cal_path), "--workers", "0", "--no-plots"]
    subprocess.run([*base, "--out", str(tmp_path / "whole"), "--quiet"], check=True, cwd=ROOT)
    proc = subprocess.Popen(interruptible([*base, "--out", str(tmp_path / "cut"), "--quiet"]), cwd=ROOT)
    deadline = time.monotonic() + 300
    while not (tmp_path / "cut" / "smc" / "g01_r000.parquet").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 130
    assert not (tmp_path / "cut" / "posterior.parquet").exists()
    subprocess.run([*base, "--out", str(tmp_path / "cut"), "--resume", "--quiet"], check=True, cwd=ROOT)
    a = pd.read_parquet(tmp_path / "whole" / "posterior.parquet")
    b = pd.read_parquet(tmp_path / "cut" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_early_rejection_stops_hopeless_runs_and_changes_no_particle(tmp_path):
    """With early rejection (the default) runs that cannot meet ε stop early; the posterior is the
    one every run carried to the end gives, row for row."""
    mod = _synthetic()
    cal_path = mod.make_problem(tmp_path, particles=20, populations=3, seed=4)
    spec = yaml.safe_load(cal_path.read_text())
    off = tmp_path / "off.yaml"
    off.write_text(yaml.safe_dump({**spec, "early_rejection": False}, sort_keys=False))
    for name, path in (("on", cal_path), ("off", off)):
        cmd = ["calibrate", str(path), "--out", str(tmp_path / name), "--workers", "0", "--quiet", "--no-plots"]
        assert main(cmd) == 0
    a = pd.read_parquet(tmp_path / "on" / "posterior.parquet")
    b = pd.read_parquet(tmp_path / "off" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b)
    on = json.loads((tmp_path / "on" / "diagnostics.json").read_text())["generations"]
    off_d = json.loads((tmp_path / "off" / "diagnostics.json").read_text())["generations"]
    assert sum(g["stopped_early"] or 0 for g in on[1:]) > 0
    assert all(not g["stopped_early"] for g in off_d)
    assert on[0]["stopped_early"] in (0, None)  # ε = ∞ in generation 0: nothing can stop
    days = load_scenario(mod.BASE, mod.FIXED).days
    assert all(g["mean_stop_day"] is None or 1 <= g["mean_stop_day"] < days for g in on)


def test_sim_score_scores_the_model_and_the_nulls(tmp_path, capsys):
    mod = _synthetic()
    mod.make_problem(tmp_path, particles=10, populations=1)
    scen = tmp_path / "scenario.yaml"
    scen.write_text(yaml.safe_dump({"extends": str(mod.BASE), "set": mod.FIXED}))
    code = main(
        [
            "score",
            str(scen),
            "--observed",
            str(tmp_path / "observations.csv"),
            "--seeds",
            "4",
            "--workers",
            "0",
            "--out",
            str(tmp_path / "score"),
            "--quiet",
        ]
    )
    assert code == 0
    summary = pd.read_csv(tmp_path / "score" / "scores.csv")
    assert list(summary["predictor"]) == ["model", "population_rank", "focal_date", "national_only", "gravity_only"]
    assert summary["onset_crps"].notna().all()
    assert summary.set_index("predictor").loc[["population_rank", "focal_date"], "crowd_crps"].isna().all()
    assert (tmp_path / "score" / "plots" / "scores.png").exists()
    assert "lower is better" in capsys.readouterr().out


def test_wave_scores_count_the_cities_reached_and_rank_the_order():
    from types import SimpleNamespace

    from sim.inference.score import WAVE_DAYS, wave_scores

    rows = pd.DataFrame({"city": ["A", "B", "C"], "quantity": "onset", "day_lo": [0, 2, 12], "day_hi": [0, 3, 12]})
    obs = SimpleNamespace(rows=rows)
    right = wave_scores(obs, np.array([[0, 2, 12], [0, 3, 30]], float))
    assert WAVE_DAYS == 10
    assert right["reached_observed"] == 2 and right["reached_median"] == 2
    assert right["reached_crps"] == 0 and right["order_tau"] == pytest.approx(1.0)
    wrong = wave_scores(obs, np.array([[20, 5, 0], [25, 6, 1]], float))
    assert wrong["order_tau"] == pytest.approx(-1.0)
    assert wrong["reached_median"] == 2 and wrong["reached_crps"] == 0  # the count alone can be right
    late = wave_scores(obs, np.array([[11, 11, 11], [11, 11, 11]], float))
    assert late["reached_crps"] == 2  # nobody within ten days: off by two cities


def test_sim_score_predicts_a_scenario_from_a_posterior(tmp_path):
    """An episode the posterior was not fitted on: its scenario, run at posterior draws."""
    mod = _synthetic()
    cal_path = mod.make_problem(tmp_path, particles=6, populations=1)
    assert (
        main(["calibrate", str(cal_path), "--out", str(tmp_path / "cal"), "--workers", "0", "--quiet", "--no-plots"])
        == 0
    )
    scen = tmp_path / "scenario.yaml"
    scen.write_text(yaml.safe_dump({"extends": str(mod.BASE), "set": mod.FIXED}))
    args = ["score", str(scen), "--observed", str(tmp_path / "observations.csv"), "--null", "population_rank"]
    args += ["--posterior", str(tmp_path / "cal"), "--draws", "3", "--workers", "0", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "score")]) == 0
    summary = pd.read_csv(tmp_path / "score" / "scores.csv")
    assert {"reached_crps", "order_tau", "reached_observed"} <= set(summary.columns)
    assert list(summary["predictor"]) == ["model", "population_rank"]
    crowds = pd.read_csv(tmp_path / "score" / "crowds.csv")
    assert len(crowds) == len(load_scenario(scen).cities) and (crowds["peak_q95"] >= crowds["peak_q05"]).all()
    assert (tmp_path / "score" / "plots" / "onsets.png").exists()
    meta = json.loads((tmp_path / "score" / "score.json").read_text())
    assert meta["posterior"] == str(tmp_path / "cal")
    folder_target = ["score", str(tmp_path / "cal"), "--observed", str(tmp_path / "observations.csv")]
    assert main([*folder_target, "--posterior", str(tmp_path / "cal"), "--quiet"]) == 2


def test_sim_score_refuses_unknown_nulls_and_missing_files(tmp_path, capsys):
    assert main(["score", str(KZ), "--observed", str(OBS19), "--null", "coin_flip"]) == 2
    assert "unknown null model" in capsys.readouterr().err
    assert main(["score", str(KZ), "--observed", str(tmp_path / "none.csv")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_calibrate_refuses_a_folder_of_other_inputs(tmp_path, capsys):
    mod = _synthetic()
    cal_path = mod.make_problem(tmp_path, particles=4, populations=1)
    out = tmp_path / "run"
    assert main(["calibrate", str(cal_path), "--out", str(out), "--workers", "0", "--quiet", "--no-plots"]) == 0
    spec = yaml.safe_load(cal_path.read_text())
    spec["seed"] = 99
    cal_path.write_text(yaml.safe_dump(spec))
    assert main(["calibrate", str(cal_path), "--out", str(out), "--resume", "--workers", "0", "--quiet"]) == 2
    assert "other inputs" in capsys.readouterr().err
    assert os.path.exists(out / "posterior.parquet")  # the first calibration is untouched


def test_the_inputs_hash_ignores_the_base_values_the_priors_set(tmp_path):
    """A base scenario that adopts posterior values at the prior paths is still the same
    calibration (resumable); a change anywhere else in the base is not."""
    base = yaml.safe_load(KZ.read_text())
    base["geography"]["cities"] = str(ROOT / "data" / "kazakhstan_cities.csv")
    base["observed"] = None
    variants = {}
    for name, weight, trust in (("a", 1.0, 0.5), ("b", 1.7, 0.5), ("c", 1.0, 0.55)):
        base["dynamics"]["protest"]["sinophobia_weight"] = weight
        base["population"]["trust"]["mean"] = trust
        (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
        variants[name] = calibrate._inputs_hash(load_calibration(_cal(tmp_path, base=str(tmp_path / "base.yaml"))))
    assert variants["a"] == variants["b"]  # only the calibrated value differs
    assert variants["a"] != variants["c"]  # trust is not calibrated here


def test_run_and_compare_over_posterior_draws(tmp_path, capsys):
    mod = _synthetic()
    cal_path = mod.make_problem(tmp_path, particles=6, populations=1)
    cal = tmp_path / "cal"
    assert main(["calibrate", str(cal_path), "--out", str(cal), "--workers", "0", "--quiet", "--no-plots"]) == 0
    post = pd.read_parquet(cal / "posterior.parquet")
    scen = tmp_path / "scenario.yaml"
    scen.write_text(yaml.safe_dump({"extends": str(mod.BASE), "set": mod.FIXED}))
    out = tmp_path / "ens"
    args = ["run", str(scen), "--seeds", "2", "--posterior", str(cal), "--draws", "3", "--workers", "0"]
    assert main([*args, "--out", str(out), "--quiet", "--no-plots"]) == 0
    from sim.ensemble import Ensemble, posterior_overrides, run_ensemble

    ens = Ensemble.load(out)
    assert len(ens.seeds) == 6  # 3 draws × 2 seeds
    draws = posterior_overrides(cal, 3, seed=load_scenario(scen).seed)
    assert all(set(d) == set(mod.PRIORS) for d in draws)
    assert all(d["population.threshold.mean"] in set(post["population.threshold.mean"]) for d in draws)
    # the draws are applied: the same seeds with the draws' parameters give the ensemble's records
    again = run_ensemble(load_scenario(scen), seeds=2, draws=draws)
    np.testing.assert_array_equal(again.records["participants"], ens.records["participants"])
    plain = run_ensemble(load_scenario(scen), seeds=6)
    assert not np.array_equal(plain.records["participants"], ens.records["participants"])
    assert main(["run", str(scen), "--posterior", str(cal)]) == 2
    assert "goes with --seeds" in capsys.readouterr().err


def test_ablated_nulls_override_posterior_draws_of_the_same_parameter(tmp_path):
    """A posterior that samples national_weight must not switch the gravity_only null's national
    channel back on."""
    from sim.inference.score import score_predictors

    mod = _synthetic()
    cal_path = mod.make_problem(tmp_path, particles=6, populations=1)
    cal = tmp_path / "cal"
    assert main(["calibrate", str(cal_path), "--out", str(cal), "--workers", "0", "--quiet", "--no-plots"]) == 0
    _, rows = score_predictors(
        cal, [str(tmp_path / "observations.csv")], ["gravity_only"], draws=4, workers=0, progress=False
    )
    model = rows[rows.predictor == "model"].reset_index(drop=True)
    ablated = rows[rows.predictor == "gravity_only"].reset_index(drop=True)
    assert not np.allclose(model["crps"], ablated["crps"])
