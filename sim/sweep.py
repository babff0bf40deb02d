"""Parameter sweeps: design points, one run per task, and a resumable store.

An experiment file (:mod:`sim.config.experiment`) names a base scenario, fixed
overrides, parameters (dotted scenario paths) with values or ranges, a design
(``grid``, ``lhs``, ``sobol`` from ``scipy.stats.qmc``), replicates and outcomes.
Each run's seed derives from (sweep seed, point, replicate) (:func:`~sim.executor.run_seed`),
so results do not depend on worker count, order or cluster.

The store (``DIR``):

- ``manifest.json``: the experiment, versions, design size;
- ``design.parquet``: one row per run (run_id, point, replicate, seed, parameters);
- ``runs/<run_id>.parquet``: written atomically by the worker when the run ends
  (outcomes, or the error of a failed run), so the parent holds nothing;
- ``results.parquet``: design joined with outcomes, written at the end.

``--resume`` skips runs whose part file exists (failed runs are retried).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ._io import atomic_write, write_json
from .config import load_scenario
from .config.experiment import FIT_OUTCOMES, OUTCOMES, Experiment, load_experiment
from .errors import SimError, SweepError
from .executor import Task, execute, run_seed
from .model import OpinionModel
from .results import Result, package_versions
from .warmstart import PopulationPool

__all__ = [
    "OUTCOMES",
    "Experiment",
    "SweepError",
    "collect",
    "design_table",
    "load_experiment",
    "load_sweep",
    "outcomes_of",
    "run_seed",
    "run_sweep",
    "run_task",
]


# --------------------------------------------------------------------------- design
def points(exp: Experiment) -> list[dict[str, Any]]:
    """Parameter values of every design point, in order."""
    if exp.design == "grid":
        return [
            dict(zip([p.path for p in exp.parameters], combo))
            for combo in itertools.product(*[p.grid() for p in exp.parameters])
        ]
    if exp.design in ("saltelli", "morris"):
        from .inference.sensitivity import unit_points

        x = unit_points(exp.parameters, exp.design, exp.samples or 1, exp.seed)
        return [{p.path: p.cast(float(x[i, k])) for k, p in enumerate(exp.parameters)} for i in range(len(x))]
    d = len(exp.parameters)
    rng = np.random.default_rng(np.random.SeedSequence([exp.seed, 0x5EED]))
    if exp.design == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=rng).random(exp.samples)
    else:
        with warnings.catch_warnings():  # scipy warns when samples is not a power of 2; allowed, documented
            warnings.simplefilter("ignore", UserWarning)
            unit = qmc.Sobol(d=d, scramble=True, seed=rng).random(exp.samples)
    return [{p.path: p.from_unit(float(u[k])) for k, p in enumerate(exp.parameters)} for u in unit]


def design_table(exp: Experiment) -> pd.DataFrame:
    """One row per run: run_id, point, replicate, seed, one column per parameter."""
    rows = []
    for i, values in enumerate(points(exp)):
        for r in range(exp.replicates):
            seed = run_seed(exp.seed, 0 if exp.common_seeds else i, r)
            rows.append({"point": i, "replicate": r, "seed": seed, **values})
    df = pd.DataFrame(rows)
    width = max(4, len(str(len(df))))
    df.insert(0, "run_id", [f"r{k:0{width}d}" for k in range(len(df))])
    return df


# --------------------------------------------------------------------------- one run
def outcomes_of(result: Result, names: Iterable[str]) -> dict[str, float]:
    """The named outcomes of a :class:`~sim.results.Result`."""
    names = list(names)
    nat = result.national
    out: dict[str, float] = {}
    fit = result.fit if set(FIT_OUTCOMES) & set(names) else {}
    for name in names:
        if name in nat:
            out[name] = float(nat[name])
        elif name == "final_mean_trust":
            out[name] = float(np.average(result.records["mean_trust"][-1], weights=result.cities["population"]))
        elif name == "final_mean_sinophobia":
            out[name] = float(np.average(result.records["mean_sinophobia"][-1], weights=result.cities["population"]))
        else:
            out[name] = float(fit.get(name, float("nan")))
    return out


def run_task(task: Task) -> Task:
    """Run one simulation of a sweep and write its part file (runs in a worker).

    Never raises for a failing simulation: the error is recorded in the part.
    """
    t0 = time.perf_counter()
    row: dict[str, Any] = {"run_id": task["run_id"], "task_hash": task_hash(task), "status": "ok", "error": ""}
    ts = None
    try:
        scenario = load_scenario(task["base"], {**task["fixed"], **task["params"], "seed": task["seed"]})
        pool = PopulationPool.of(task.get("pool"))
        result = OpinionModel(scenario, pool=pool).run(progress=False)
        row.update(outcomes_of(result, task["outcomes"]))
        if task.get("keep_timeseries"):
            ts = result.timeseries
    except Exception as exc:  # a failed run is data, not a crash of the sweep
        row = _failed_row(task, f"{type(exc).__name__}: {exc}")
        row["traceback"] = traceback.format_exc(limit=5)
    row["wall_s"] = time.perf_counter() - t0
    if ts is not None:
        ts.insert(0, "run_id", task["run_id"])
        atomic_write(
            _part_path(task).with_name(f"{task['run_id']}.timeseries.parquet"), lambda p: ts.to_parquet(p, index=False)
        )
    _write_part(task, row)
    return {"run_id": task["run_id"], "status": row["status"], "error": row["error"]}


def _part_path(task: Task) -> Path:
    return Path(task["out"]) / "runs" / f"{task['run_id']}.parquet"


def _failed_row(task: Task, error: str) -> dict[str, Any]:
    """A failed run's row: its identity, the error, no outcome."""
    row: dict[str, Any] = {"run_id": task["run_id"], "task_hash": task_hash(task), "status": "failed", "error": error}
    row.update({name: float("nan") for name in task["outcomes"]})
    return row


def _write_part(task: Task, row: dict[str, Any]) -> None:
    """Write a run's part file (atomically), with the checksum of its identity and values."""
    frame = pd.DataFrame([{**row, "checksum": _checksum(row, task["outcomes"])}])
    atomic_write(_part_path(task), lambda p: frame.to_parquet(p, index=False))


def task_hash(task: Task) -> str:
    """A digest of what a run is (base scenario file and content, overrides, parameters, seed,
    outcomes): a part on disk counts as this run only if it carries the same digest."""
    what = {k: task[k] for k in ("run_id", "base_hash", "fixed", "params", "seed", "outcomes", "pool") if k in task}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


def scenario_hash(path: str, fixed: dict[str, Any]) -> str:
    """A digest of a base scenario as resolved (after ``extends``, ``set`` and the fixed overrides)."""
    resolved = load_scenario(path, fixed).resolved()
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _checksum(row: dict[str, Any] | pd.Series, outcomes: list[str]) -> str:
    """A digest of a part's identity and values, so that a part altered on disk is not taken."""
    values = [row["run_id"], row["task_hash"], row["status"], *(repr(float(row[o])) for o in outcomes)]
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- sweep
def _done_runs(out: Path, tasks: list[Task]) -> set[str]:
    """Runs whose part on disk is readable, finished ok, and is the part of that very run (same
    run id and digest); anything else is run again."""
    expected = {t["run_id"]: (task_hash(t), t["outcomes"]) for t in tasks}
    done = set()
    for part in (out / "runs").glob("*.parquet"):
        if part.name.endswith(".timeseries.parquet") or part.stem not in expected:
            continue
        digest, outcomes = expected[part.stem]
        try:
            row = pd.read_parquet(part).iloc[0]
            intact = row["checksum"] == _checksum(row, outcomes)
        except Exception:  # unreadable, truncated or from an older version: run it again
            continue
        if intact and row["status"] == "ok" and row["run_id"] == part.stem and row["task_hash"] == digest:
            done.add(part.stem)
    return done


def run_sweep(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    workers: int | None = 0,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    runner: Callable[[Task], Task] = run_task,
) -> pd.DataFrame:
    """Run a sweep into a store and return ``results.parquet`` as a DataFrame.

    ``workers`` and ``scheduler`` as in :func:`sim.ensemble.run_ensemble`: from Python the runs
    go one after another in this process unless worker processes are asked for.

    Raises
    ------
    SimError
        If ``out`` already holds a sweep and ``resume`` is false, or holds a
        different experiment.
    """
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    out = Path(out) if out else Path("sweeps") / exp.name
    design = design_table(exp)
    manifest_path = out / "manifest.json"
    base_hash = scenario_hash(exp.base, exp.fixed)
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SimError(f"{manifest_path} is damaged ({exc}); choose another --out, or remove the folder") from None
        if not resume:
            raise SimError(f"{out} already holds a sweep; add --resume to continue it, or choose another --out")
        if old.get("experiment") != _jsonable(exp.plain()):
            raise SimError(
                f"{out} holds a different experiment ({old.get('experiment', {}).get('name')}); "
                f"resume it with the same file, or choose another --out"
            )
        if old.get("base_hash") not in (None, base_hash):
            raise SimError(
                f"{out}: the base scenario {exp.base} (or a file it extends) changed since this sweep started; "
                f"resuming would mix runs of two models. Restore it, or start a new sweep with another --out"
            )
    (out / "runs").mkdir(parents=True, exist_ok=True)
    write_json(
        manifest_path,
        {
            "experiment": _jsonable(exp.plain()),
            "base_hash": base_hash,
            "versions": package_versions(),
            "points": int(design["point"].nunique()),
            "runs": len(design),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )
    atomic_write(out / "design.parquet", lambda p: design.to_parquet(p, index=False))
    names = [p.path for p in exp.parameters]
    tasks = [
        {
            "run_id": row["run_id"],
            "base": exp.base,
            "base_hash": base_hash,
            "fixed": exp.fixed,
            "params": {n: _py(row[n]) for n in names},
            "seed": int(row["seed"]),
            "outcomes": list(exp.outcomes),
            "keep_timeseries": exp.keep_timeseries,
            "out": str(out.resolve()),
            **({"pool": [exp.population_pool, exp.seed]} if exp.population_pool else {}),
        }
        for row in design.to_dict("records")
    ]
    done = _done_runs(out, tasks) if resume else set()
    tasks = [t for t in tasks if t["run_id"] not in done]
    for res in execute(runner, tasks, workers=workers, scheduler=scheduler, progress=progress, desc=exp.name):
        if res["status"] != "ok" and "task" in res:  # the run's worker died: record why
            _failure_part(res["task"], res["error"])
    return collect(out, design)


def _failure_part(task: Task, error: str) -> None:
    """The part of a run that could not write its own (its worker died on every try)."""
    _write_part(task, _failed_row(task, error))


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def collect(out: Path, design: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join the design with every finished part into ``results.parquet`` (sorted by run_id)."""
    out = Path(out)
    if design is None:
        design = pd.read_parquet(out / "design.parquet")
    parts = []
    for run_id in design["run_id"]:
        part = out / "runs" / f"{run_id}.parquet"
        if not part.exists():
            continue
        try:
            frame = pd.read_parquet(part)
        except Exception:  # a damaged part counts as missing (resume runs it again)
            continue
        if len(frame) == 1 and frame["run_id"].iat[0] == run_id:  # a part copied from another run is not this one
            parts.append(frame.drop(columns=["wall_s", "traceback", "task_hash", "checksum"], errors="ignore"))
    outcomes = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"run_id": [], "status": []})
    results = design.merge(outcomes, on="run_id", how="left")
    results["status"] = results["status"].fillna("missing")
    results["error"] = results.get("error", pd.Series("", index=results.index)).fillna("")
    results = results.sort_values("run_id").reset_index(drop=True)
    atomic_write(out / "results.parquet", lambda p: results.to_parquet(p, index=False))
    return results


def load_sweep(path: str | Path) -> pd.DataFrame:
    """Results of a sweep directory as a DataFrame (collecting parts if the sweep did not finish)."""
    path = Path(path)
    if not (path / "design.parquet").exists():
        raise SimError(f"{path} is not a sweep directory (no design.parquet)")
    try:
        if (path / "results.parquet").exists():
            return pd.read_parquet(path / "results.parquet")
        return collect(path)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise SimError(
            f"{path}: the sweep store is damaged ({type(exc).__name__}: {exc}); "
            f"rerun with sim sweep --resume, which redoes what it cannot read"
        ) from None
