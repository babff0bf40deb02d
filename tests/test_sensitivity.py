"""``sim sensitivity``: SALib designs and indices on the sweep engine, checked on the Ishigami
function (known indices) through the same design, sweep and analysis path, and on the model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.config.experiment import Experiment, Parameter, load_experiment
from sim.errors import SimError
from sim.inference.sensitivity import analyze, design_for
from sim.sweep import _write_part, run_sweep, task_hash

ROOT = Path(__file__).resolve().parent.parent
TWO_TOWNS = ROOT / "scenarios" / "two_towns.yaml"

# Ishigami (a = 7, b = 0.1): analytical first-order and total indices
S1 = np.array([0.3139, 0.4424, 0.0])
ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami_task(task):
    x1, x2, x3 = (task["params"][k] for k in ("x1", "x2", "x3"))
    y = math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
    _write_part(task, {"run_id": task["run_id"], "task_hash": task_hash(task), "status": "ok", "error": "", "y": y})
    return {"run_id": task["run_id"], "status": "ok", "error": ""}


def _ishigami(method: str, samples: int) -> Experiment:
    params = tuple(Parameter(f"x{i}", low=-math.pi, high=math.pi) for i in (1, 2, 3))
    exp = Experiment("ishigami", str(TWO_TOWNS), "lhs", 7, 1, params, ("y",), samples=samples)
    return design_for(exp, method)


@pytest.mark.slow
def test_sobol_indices_of_the_ishigami_function(tmp_path):
    exp = _ishigami("sobol", 512)
    results = run_sweep(exp, tmp_path, workers=0, progress=False, runner=ishigami_task)
    assert len(results) == 512 * 5  # N (D + 2)
    idx = analyze(exp, results, "sobol")
    # every estimate lies within its own 95% bootstrap half-width of the analytical value
    assert (np.abs(idx["S1"] - S1) <= idx["S1_conf"]).all(), idx
    assert (np.abs(idx["ST"] - ST) <= idx["ST_conf"]).all(), idx
    assert (idx["ST_conf"] < 0.15).all() and (idx["S1_conf"] < 0.15).all()
    # the ranking is right: x2 and x1 act alone, x3 only through x1
    assert idx["S1"].iat[2] < 0.1 < idx["ST"].iat[2]


def test_morris_ranks_the_ishigami_inputs(tmp_path):
    exp = _ishigami("morris", 60)
    results = run_sweep(exp, tmp_path, workers=0, progress=False, runner=ishigami_task)
    assert len(results) == 60 * 4  # r (D + 1)
    idx = analyze(exp, results, "morris").set_index("parameter")
    # x1 and x3 interact (large σ), x2 acts strongly; all matter
    assert (idx["mu_star"] > 0.5).all()
    assert idx.loc["x3", "sigma"] > idx.loc["x3", "mu_star"] * 0.5


def _model_experiment(tmp_path, samples=16):
    spec = {
        "name": "zero-effect",
        "base": str(TWO_TOWNS),
        "set": {"geography.cities.0.population": 5000, "geography.cities.1.population": 10000, "days": 9},
        "design": "saltelli",  # --method decides between saltelli and morris
        "samples": samples,
        "seed": 3,
        "replicates": 1,
        "parameters": {
            "population.threshold.mean": {"low": 0.85, "high": 0.95},
            "dynamics.media.national_weight": {"low": 0.3, "high": 3.0, "log": True},
            # two towns: each one's gravity row holds only the other town, weight 1 whatever the exponent
            "geography.network.distance_exponent": {"low": 1.0, "high": 3.0},
        },
        "outcomes": ["national_peak", "total_detained"],
    }
    f = tmp_path / "exp.yaml"
    f.write_text(yaml.safe_dump(spec))
    return f


def test_a_parameter_without_effect_gets_zero_total_index_on_the_model(tmp_path, capsys):
    f = _model_experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["sensitivity", str(f), "--method", "sobol", "--workers", "0", "--out", str(out), "--quiet"]) == 0
    idx = pd.read_csv(out / "indices.csv").set_index(["outcome", "parameter"])
    for outcome in ("national_peak", "total_detained"):
        assert idx.loc[(outcome, "geography.network.distance_exponent"), "ST"] == pytest.approx(0.0, abs=1e-9)
        assert idx.loc[(outcome, "population.threshold.mean"), "ST"] > 0.2
    design = pd.read_parquet(out / "design.parquet")
    assert design["seed"].nunique() == 1  # common random numbers
    assert (out / "plots" / "sensitivity.png").exists()
    assert "indices in" in capsys.readouterr().out


def test_sensitivity_refuses_lists_and_undefined_outcomes(tmp_path, capsys):
    f = _model_experiment(tmp_path, samples=2)
    spec = yaml.safe_load(f.read_text())
    spec["parameters"]["population.threshold.mean"] = [0.85, 0.9]
    f.write_text(yaml.safe_dump(spec))
    assert main(["sensitivity", str(f), "--workers", "0", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "needs a range" in capsys.readouterr().err
    exp = design_for(load_experiment(_model_experiment(tmp_path, samples=2)), "sobol")
    results = pd.DataFrame({"run_id": ["r0"], "point": [0], "status": ["failed"]})
    with pytest.raises(SimError, match="failed or are missing"):
        analyze(exp, results, "sobol")
