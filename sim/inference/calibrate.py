"""``sim calibrate``: ABC-SMC of a scenario's parameters against episode observations.

The output folder (``DIR``):

- ``manifest.json``: the calibration, versions, a hash of its inputs (a resumed run must match);
- ``smc/``: the sampler's round and generation files (:mod:`sim.inference.smc`), kept for ``--resume``;
- ``posterior.parquet``: every generation's particles, one column per prior path plus ``weight``,
  ``distance``, ``generation``; the last generation is the posterior;
- ``diagnostics.json``: ε, acceptance rate, ESS and simulations per generation, totals, wall time;
- ``calibrated.yaml``: the base scenario (``extends:``) with the posterior medians ``set``;
- ``predictive.csv``: posterior predictive scores and bands per observation row;
- ``plots/``: marginals and pairs with the prior, ε/ESS per generation, predictive checks.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import yaml

from .._io import atomic_write, write_json
from ..config import load_scenario
from ..config.calibration import Calibration
from ..errors import SimError
from ..executor import Task, dask_client, execute, run_seed
from ..model import OpinionModel
from ..results import package_versions
from ..warmstart import PopulationPool
from .observe import ObservationModel
from .smc import Generation, SMCSettings, run_smc, weighted_quantile

__all__ = ["calibration_task", "posterior_draws", "run_calibration", "weighted_summary"]


@functools.lru_cache(maxsize=8)
def _observation_model(
    observed: tuple[str, ...], exclude: tuple[tuple[str, int], ...], base: str, fixed_json: str
) -> ObservationModel:
    scenario = load_scenario(base, json.loads(fixed_json))
    return ObservationModel.from_files(list(observed), scenario, exclude)


class Simulated(NamedTuple):
    """One calibration simulation as the observations see it."""

    obs: ObservationModel
    #: one simulated value per observation row (NaN when stopped early)
    values: np.ndarray
    #: peak crowd of each unreported city (NaN when stopped early)
    peaks: np.ndarray
    #: the ABC distance, or for a run stopped early the lower bound that exceeded ε
    distance: float
    wall_s: float
    #: participants per day run and city
    participants: np.ndarray
    #: the day the run was stopped (None: run to the end)
    stopped_day: int | None


def simulate_observed(task: Task) -> Simulated:
    """Run one simulation of a calibration task and compare it with the observations.

    With a finite ``task["epsilon"]`` (an SMC generation after the first) the run is stopped as
    soon as :meth:`~sim.inference.observe.ObservationModel.lower_bound` exceeds ε: it would be
    rejected whatever its remaining days do, so no accepted particle changes
    (``task["early_rejection"] = False`` runs every day).
    """
    t0 = time.perf_counter()
    scenario = load_scenario(task["base"], {**task["fixed"], **task["theta"], "seed": task["seed"]})
    pool = PopulationPool.of(task.get("pool"))
    obs = _observation_model(
        tuple(task["observed"]), tuple(map(tuple, task["exclude"])), task["base"], json.dumps(task["fixed"])
    )
    eps = float(task.get("epsilon", math.inf))
    check = bool(task.get("early_rejection", True)) and math.isfinite(eps)
    model = OpinionModel(scenario, pool=pool, means=False)  # crowds and detentions are compared
    rec = model.records
    while model.running:
        model.step()
        d = model.day
        if check and model.running:
            bound = obs.lower_bound(rec["participants"][:d], rec["new_detained"][:d])
            if bound > eps:
                nan_v, nan_p = np.full(len(obs.rows), np.nan), np.full(len(obs.unreported_cities), np.nan)
                return Simulated(obs, nan_v, nan_p, bound, time.perf_counter() - t0, rec["participants"][:d], d)
    participants = rec["participants"][: model.day]
    values, peaks = obs.simulate(participants, rec["new_detained"][: model.day])
    return Simulated(obs, values, peaks, obs.distance(values, peaks), time.perf_counter() - t0, participants, None)


def calibration_task(task: Task) -> Task:
    """One ABC proposal: simulate, compare with the observations (runs in a worker).

    Never raises for a failing simulation: the proposal is then rejected and its error kept.
    With ``task["city_peaks"]`` true it also returns every city's peak crowd (``c0``, ``c1``, ...).
    A run stopped early (:func:`simulate_observed`) has ``stopped_day`` set (-1: run to the end)
    and, as its ``distance``, the lower bound that exceeded ε.
    """
    try:
        sim = simulate_observed(task)
    except Exception as exc:  # a failed run is data: the proposal is rejected
        return {"k": task["k"], "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    out: Task = {
        "k": task["k"],
        "status": "ok",
        "distance": sim.distance,
        "wall_s": sim.wall_s,
        "stopped_day": -1 if sim.stopped_day is None else sim.stopped_day,
    }
    out.update({f"v{i}": float(v) for i, v in enumerate(sim.values)})
    out.update({f"u{i}": float(v) for i, v in enumerate(sim.peaks)})
    if task.get("city_peaks"):
        out.update({f"c{j}": float(v) for j, v in enumerate(sim.participants.max(axis=0))})
    return out


def _inputs_hash(cal: Calibration) -> str:
    """Hash of everything that fixes the result: the calibration, its base scenario and data files."""
    h = hashlib.sha256()
    # the number of generations is left out: a finished calibration can be resumed with more
    # early rejection changes no accepted particle, only how long rejected runs take
    skip = ("source", "description", "predictive_draws", "populations", "priors", "early_rejection")
    plain = {k: v for k, v in cal.__dict__.items() if k not in skip}
    if not cal.population_pool:  # absent from folders made before pools existed
        del plain["population_pool"]
    plain["priors"] = [p.plain() for p in cal.priors]
    h.update(json.dumps(plain, sort_keys=True, default=str).encode())
    # the base's values at the prior paths are left out too: every proposal sets its own, so a base
    # that adopts a posterior (the calibrated default scenario) is still the base of this calibration
    resolved = _without(cal.scenario().resolved(), cal.paths)
    h.update(json.dumps(resolved, sort_keys=True, default=str).encode())
    for f in cal.observed:
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def _without(resolved: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of a resolved scenario with the value at each dotted path replaced by None."""
    out = json.loads(json.dumps(resolved, default=str))
    for path in paths:
        *head, last = path.split(".")
        node: Any = out
        for part in head:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = None
        else:
            node[last] = None
    return out


def weighted_summary(values: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Weighted median and 5/95% quantiles."""
    return {name: weighted_quantile(values, weights, q) for name, q in (("q05", 0.05), ("median", 0.5), ("q95", 0.95))}


def posterior_draws(posterior: pd.DataFrame, paths: list[str], k: int, seed: int) -> list[dict[str, float]]:
    """``k`` parameter sets drawn by weight from the last generation (seeded, with replacement)."""
    last = posterior[posterior["generation"] == posterior["generation"].max()]
    w = last["weight"].to_numpy(float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xD4A7]))
    idx = rng.choice(len(last), size=k, replace=True, p=w / w.sum())
    return last[paths].iloc[idx].to_dict("records")  # Python scalars


def run_observed(
    tasks: list[Task],
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    desc: str,
    city_peaks: list[np.ndarray] | None = None,
) -> tuple[ObservationModel, np.ndarray, np.ndarray]:
    """Run calibration tasks (all of one observation set) and stack what they observed.

    Returns
    -------
    obs, values, peaks
        The observation model, ``(runs, rows)`` simulated values and ``(runs, unreported cities)``
        peaks of the runs that succeeded, in task order. Given a list ``city_peaks``, the tasks
        also report every city's peak crowd and the ``(runs, cities)`` array is appended to it.

    Raises
    ------
    SimError
        If every run failed.
    """
    if city_peaks is not None:
        tasks = [{**t, "city_peaks": True} for t in tasks]
    results = sorted(
        execute(calibration_task, tasks, workers=workers, scheduler=scheduler, progress=progress, desc=desc),
        key=lambda r: r["k"],
    )
    ok = [r for r in results if r["status"] == "ok"]
    if not ok:
        raise SimError(f"{desc}: every run failed: {results[0].get('error', '')}")
    t = tasks[0]
    obs = _observation_model(tuple(t["observed"]), tuple(map(tuple, t["exclude"])), t["base"], json.dumps(t["fixed"]))
    values = np.array([[r[f"v{i}"] for i in range(len(obs.rows))] for r in ok])
    peaks = np.array([[r[f"u{i}"] for i in range(len(obs.unreported_cities))] for r in ok]).reshape(len(ok), -1)
    if city_peaks is not None:
        city_peaks.append(np.array([[r[f"c{j}"] for j in range(len(obs.city_names))] for r in ok]))
    return obs, values, peaks


@contextlib.contextmanager
def _engine(workers: int | None, scheduler: str | None) -> Iterator[str | None]:
    """One Dask cluster for the whole calibration (its address), or None for serial runs."""
    if workers == 0 and scheduler is None:
        yield None
        return
    if scheduler is not None:
        yield scheduler
        return
    with dask_client(workers) as client:
        yield client.scheduler.address


def run_calibration(
    cal: Calibration,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    plots: bool = True,
) -> dict[str, Any]:
    """Run (or ``resume``) a calibration into ``out`` and write its outputs.

    Returns
    -------
    dict
        The diagnostics (also in ``out/diagnostics.json``).

    Raises
    ------
    SimError
        ``out`` holds another calibration, or one without ``resume``.
    """
    out = Path(out)
    digest = _inputs_hash(cal)
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        if not resume:
            raise SimError(f"{out} already holds a calibration; add --resume to continue it, or give another --out")
        if old.get("inputs_hash") != digest:
            raise SimError(
                f"{out} holds a calibration of other inputs (the calibration file, base scenario or observations "
                f"changed since); give another --out to start afresh"
            )
    elif out.exists() and any(out.iterdir()):
        raise SimError(f"{out} exists and is not a calibration folder; give an empty or new --out")
    out.mkdir(parents=True, exist_ok=True)
    write_json(
        manifest_path,
        {
            "calibration": {
                **{k: v for k, v in cal.__dict__.items() if k != "priors"},
                "priors": [p.plain() for p in cal.priors],
            },
            "inputs_hash": digest,
            "versions": package_versions(),
            "command": " ".join(sys.argv),
        },
    )
    settings = SMCSettings(
        particles=cal.particles,
        populations=cal.populations,
        max_simulations=cal.max_simulations,
        alpha=cal.alpha,
        min_epsilon=cal.min_epsilon,
        seed=cal.seed,
    )
    common = {
        "base": cal.base,
        "fixed": cal.fixed,
        "observed": list(cal.observed),
        "exclude": list(cal.exclude),
        "pool": [cal.population_pool, cal.seed] if cal.population_pool else None,
        "early_rejection": cal.early_rejection,
    }
    t0 = time.perf_counter()
    log = (lambda s: print(f"{cal.name}: {s}", file=sys.stderr, flush=True)) if progress else None
    with _engine(workers, scheduler) as address:

        def evaluate(tasks: list[Task]) -> Iterable[Task]:
            t = tasks[0]["t"]
            eps = tasks[0].get("epsilon", float("inf"))
            desc = f"generation {t + 1}/{settings.populations}" + (f", ε {eps:.3g}" if np.isfinite(eps) else "")
            full = [{**common, **task} for task in tasks]
            return execute(
                calibration_task,
                full,
                workers=0 if address is None else None,
                scheduler=address,
                progress=progress,
                desc=desc,
            )

        gens = run_smc(list(cal.priors), evaluate, settings, out / "smc", log=log)
        wall = time.perf_counter() - t0
        posterior = _posterior_frame(gens, cal.paths)
        atomic_write(out / "posterior.parquet", lambda p: posterior.to_parquet(p, index=False))
        diagnostics = _diagnostics(gens, settings, wall)
        write_json(out / "diagnostics.json", diagnostics)
        _write_calibrated(cal, posterior, out)
        predictive = None
        if cal.predictive_draws:
            predictive = posterior_predictive(cal, posterior, address, progress)
            atomic_write(out / "predictive.csv", lambda p: predictive.to_csv(p, index=False))
    if plots:
        from ..plotting.inference import plot_calibration

        plot_calibration(cal, posterior, diagnostics, predictive, out / "plots")
    return diagnostics


def _posterior_frame(gens: list[Generation], paths: list[str]) -> pd.DataFrame:
    frames = []
    for g in gens:
        f = g.particles[[*paths, "weight", "distance"]].copy()
        f["generation"] = g.t
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _diagnostics(gens: list[Generation], settings: SMCSettings, wall: float) -> dict[str, Any]:
    sims = sum(g.simulations for g in gens)
    rows = []
    for g in gens:
        wall_sims = g.particles["wall_s"].to_numpy(float) if "wall_s" in g.particles else np.array([])
        rows.append(
            {
                "generation": g.t,
                "epsilon": g.epsilon if np.isfinite(g.epsilon) else None,
                "acceptance_rate": g.acceptance,
                "ess": g.ess,
                "simulations": g.simulations,
                "wall_s": g.wall_s,
                "median_distance": float(np.median(g.particles["distance"])),
                "mean_run_s": float(wall_sims.mean()) if wall_sims.size else None,
                "stopped_early": g.extra.get("stopped_early"),
                "mean_stop_day": g.extra.get("mean_stop_day"),
            }
        )
    gen_wall = sum(g.wall_s for g in gens)
    return {
        "generations": rows,
        "simulations": sims,
        "particles": settings.particles,
        "wall_time_s": wall,
        "simulations_per_second": sims / gen_wall if gen_wall > 0 else None,
        "settings": settings.__dict__,
        "workers": os.cpu_count(),
    }


def _write_calibrated(cal: Calibration, posterior: pd.DataFrame, out: Path) -> None:
    last = posterior[posterior["generation"] == posterior["generation"].max()]
    w = last["weight"].to_numpy(float)
    sets: dict[str, Any] = dict(cal.fixed)
    lines = [
        f"# Posterior medians of calibration '{cal.name}' ({len(last)} particles, generation "
        f"{int(posterior['generation'].max())}); 90% intervals in the comments.",
        "# Written by sim calibrate; the posterior is in posterior.parquet beside this file.",
    ]
    for p in cal.priors:
        s = weighted_summary(last[p.path].to_numpy(float), w)
        sets[p.path] = p.value(s["median"])
        lines.append(
            f"#   {p.path}: median {s['median']:.4g}, 90% [{s['q05']:.4g}, {s['q95']:.4g}], prior {p.describe()}"
        )
    base_rel = os.path.relpath(cal.base, out.resolve())
    body = {"name": f"{load_scenario(cal.base).name}-calibrated", "extends": base_rel, "set": sets}
    text = "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    atomic_write(out / "calibrated.yaml", lambda p: _write_text(p, text))


def posterior_predictive(
    cal: Calibration, posterior: pd.DataFrame, address: str | None, progress: bool
) -> pd.DataFrame:
    """Fresh runs at ``predictive.draws`` posterior draws (one seed each), scored per observation row.

    Each run draws its own set-up (no population pool), so the check also tests a pooled
    calibration on populations it never saw."""
    draws = posterior_draws(posterior, cal.paths, cal.predictive_draws, cal.seed)
    common = {"base": cal.base, "fixed": cal.fixed, "observed": list(cal.observed), "exclude": list(cal.exclude)}
    tasks = [
        {**common, "k": i, "t": -1, "theta": th, "seed": run_seed(cal.seed, 10_000, i)} for i, th in enumerate(draws)
    ]
    workers = 0 if address is None else None
    obs, values, peaks = run_observed(tasks, workers, address, progress, "posterior predictive")
    table = obs.scores(values, peaks)
    table.attrs["unreported_log_score"] = obs.unreported_log_score(peaks)
    return table


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
