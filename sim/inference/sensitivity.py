"""Global sensitivity analysis with SALib: Sobol' indices (Saltelli's sampling) and Morris
elementary effects, run on the sweep engine (``sim sensitivity``, docs/inference.md).

An experiment file gives the parameters' ranges (``{low, high[, log]}``), the outcomes, the
seed, ``samples`` and ``replicates``. The design comes from SALib (in log space for ``log``
ranges): ``samples`` · (D + 2) points for Sobol' (first and total order, no second order),
``samples`` trajectories of D + 1 points for Morris (4 levels). Each point runs ``replicates``
seeds, the same ``replicates`` seeds at every point (common random numbers: a difference between
points is then the parameters', not the seeds'; a parameter without effect gets indices of exactly
0); the indices are computed on the mean outcome per point.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config.experiment import Experiment, Parameter
from ..errors import SimError, SweepError

__all__ = ["METHODS", "analyze", "design_for", "salib_problem", "unit_points"]

#: ``--method`` → the experiment design that samples for it.
METHODS = {"sobol": "saltelli", "morris": "morris"}

MORRIS_LEVELS = 4

#: The columns of ``indices.csv`` per method, as SALib names them.
INDEX_COLUMNS = {"sobol": ("S1", "S1_conf", "ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf", "sigma", "mu")}


def salib_problem(params: tuple[Parameter, ...] | list[Parameter]) -> dict[str, Any]:
    """SALib's problem: names and bounds (log bounds for log ranges)."""
    bounds = []
    for p in params:
        if p.low is None or p.high is None:
            raise SweepError(f"parameter {p.path}: sensitivity analysis needs a range {{low, high}}, not a list")
        bounds.append([np.log(p.low), np.log(p.high)] if p.log else [p.low, p.high])
    return {"num_vars": len(params), "names": [p.path for p in params], "bounds": bounds}


def unit_points(params: tuple[Parameter, ...], design: str, samples: int, seed: int) -> np.ndarray:
    """SALib sample matrix (rows = points) in parameter space."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    problem = salib_problem(params)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5A1]))
    if design == "saltelli":
        x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=rng)
    else:
        x = morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=rng)
    for j, p in enumerate(params):
        if p.log:
            x[:, j] = np.exp(x[:, j])
    return x


def design_for(exp: Experiment, method: str) -> Experiment:
    """The experiment with the design ``method`` needs (every parameter must be a range)."""
    if method not in METHODS:
        raise SimError(f"--method {method!r}: allowed: {', '.join(METHODS)}")
    if exp.samples is None:
        raise SweepError(
            "sensitivity needs 'samples' (Sobol': base samples N, runs N·(D+2); Morris: trajectories)",
            source=exp.source,
        )
    salib_problem(exp.parameters)
    return dataclasses.replace(exp, design=METHODS[method], common_seeds=True)


def analyze(exp: Experiment, results: pd.DataFrame, method: str) -> pd.DataFrame:
    """Indices per (outcome, parameter) from a finished sensitivity sweep.

    Returns
    -------
    pandas.DataFrame
        Sobol': ``outcome, parameter, S1, S1_conf, ST, ST_conf`` (95% bootstrap half-widths);
        Morris: ``outcome, parameter, mu_star, mu_star_conf, sigma, mu``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    bad = results[results["status"] != "ok"]
    if len(bad):
        raise SimError(
            f"{len(bad)} run(s) failed or are missing (e.g. {bad['run_id'].iat[0]}); rerun with --resume first"
        )
    problem = salib_problem(exp.parameters)
    names = [p.path for p in exp.parameters]
    per_point = results.groupby("point", sort=True)
    x = np.array(per_point[names].first().to_numpy(float), dtype=float)  # a writable copy
    for j, p in enumerate(exp.parameters):
        if p.log:
            x[:, j] = np.log(x[:, j])
    rows = []
    for outcome in exp.outcomes:
        y = per_point[outcome].mean().to_numpy(float)
        if not np.isfinite(y).all():
            raise SimError(
                f"outcome {outcome!r} is undefined (NaN) at {int((~np.isfinite(y)).sum())} point(s), e.g. an onset "
                f"day when no city is reached; choose outcomes defined in every run (cities_reached, national_peak)"
            )
        columns = INDEX_COLUMNS[method]
        if np.ptp(y) == 0:  # a constant outcome: nothing to apportion
            si = {c: np.zeros(len(names)) for c in columns}
        else:
            rng = np.random.default_rng(np.random.SeedSequence([exp.seed, 0xA7A]))
            if method == "sobol":
                si = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=rng)
            else:
                si = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=rng)
        rows += [{"outcome": outcome, "parameter": n, **{c: si[c][j] for c in columns}} for j, n in enumerate(names)]
    return pd.DataFrame(rows)


def write_indices(indices: pd.DataFrame, method: str, out: Path) -> None:
    """``indices.csv`` and ``plots/sensitivity.png`` in ``out``."""
    from .._io import atomic_write
    from ..plotting import save
    from ..plotting.inference import sensitivity_figure

    atomic_write(out / "indices.csv", lambda p: indices.to_csv(p, index=False))
    save(sensitivity_figure(indices, method), out / "plots" / "sensitivity.png")
