"""Parameter sweeps: experiment files, designs, seeds, executors and a resumable store.

An experiment file names a base scenario, fixed overrides, parameters (dotted
scenario paths) with values or ranges, a design (``grid``, ``lhs``, ``sobol``
from ``scipy.stats.qmc``), replicates and outcomes. Each run's seed derives from
(sweep seed, point, replicate) through ``numpy.random.SeedSequence``, so results
do not depend on worker count, order or cluster.

The store (``DIR``):

- ``manifest.json``: the experiment, versions, design size;
- ``design.parquet``: one row per run (run_id, point, replicate, seed, parameters);
- ``runs/<run_id>.parquet``: written atomically by the worker when the run ends
  (outcomes, or the error of a failed run), so the parent holds nothing;
- ``results.parquet``: design joined with outcomes, written at the end.

``--resume`` skips runs whose part file exists (failed runs are retried).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from difflib import get_close_matches
import itertools
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write, write_json
from ._yamlio import read_yaml
from .errors import ScenarioError, SimError
from .scenario import _check_keys, _Ctx, load_scenario

__all__ = ["Experiment", "load_experiment", "design_table", "run_seed", "run_sweep", "load_sweep",
           "execute", "OUTCOMES", "SweepError"]

#: Outcomes that need the base scenario's observed onsets.
FIT_OUTCOMES = ("onset_error_mean", "share_reached_by_observed", "kendall_tau")

#: Outcomes a sweep can keep, per run.
OUTCOMES = ("cities_reached", "first_onset_day", "last_onset_day", "national_peak", "national_peak_day",
            "total_detained", "onset_error_mean", "share_reached_by_observed", "kendall_tau",
            "final_mean_trust", "final_mean_sinophobia")

_KEYS = ["name", "description", "base", "set", "design", "samples", "seed", "replicates", "parameters",
         "outcomes", "keep_timeseries"]


class SweepError(ScenarioError):
    """An experiment file is invalid."""


@dataclass(frozen=True)
class Parameter:
    """One swept parameter: a list of values or a numeric range."""

    path: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    log: bool = False
    integer: bool = False

    def grid(self) -> list:
        if self.values is not None:
            return list(self.values)
        if self.log:
            vals = np.geomspace(self.low, self.high, self.steps)
        else:
            vals = np.linspace(self.low, self.high, self.steps)
        return [self._cast(v) for v in vals]

    def from_unit(self, u: float) -> Any:
        """Map u ∈ [0, 1) to a value (uniform or log-uniform; lists by index)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        return self._cast(v)

    def _cast(self, v: float) -> Any:
        return int(round(v)) if self.integer else float(v)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file."""

    name: str
    base: str
    design: str
    seed: int
    replicates: int
    parameters: tuple[Parameter, ...]
    outcomes: tuple[str, ...]
    fixed: dict = field(default_factory=dict)
    samples: int | None = None
    keep_timeseries: bool = False
    description: str = ""
    source: str = ""

    def plain(self) -> dict:
        return {**dataclasses.asdict(self), "parameters": [dataclasses.asdict(p) for p in self.parameters]}


def _lookup(plain: Any, dotted: str) -> Any:
    node = plain
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file (and its base scenario) before any run.

    Every parameter value (both ends of a range, every list item) is applied
    to the base scenario and validated, so a value the scenario would reject
    fails here, naming the experiment file, line and parameter.
    """
    path = Path(path)
    raw, lines = read_yaml(path)
    src = str(path)
    if not isinstance(raw, dict):
        raise SweepError("an experiment must be a mapping (name, base, design, parameters, ...)", source=src,
                         line=1)
    ctx = _Ctx(lines, src)

    def err(where: tuple, message: str) -> SweepError:
        return ctx.error(where, message, SweepError)

    _check_keys(raw, _KEYS, (), ctx, SweepError)
    if "base" not in raw or not isinstance(raw["base"], str):
        raise err(("base",), "needs 'base': the path of a scenario file, relative to this file")
    base = (path.parent / raw["base"]).resolve()
    if not base.exists():
        raise err(("base",), f"base scenario '{raw['base']}' not found (relative to this file)")
    fixed = raw.get("set") or {}
    if not isinstance(fixed, dict):
        raise err(("set",), "expected a mapping of dotted paths to values, e.g. {scale: 20}")
    try:
        base_scenario = load_scenario(base, fixed)
    except ScenarioError as exc:
        raise err(("set",), f"the base scenario rejects these overrides: {exc}") from None
    design = raw.get("design", "grid")
    if design not in ("grid", "lhs", "sobol"):
        raise err(("design",), f"design {design!r} is unknown; allowed: grid, lhs, sobol")

    def integer(key: str, default: int | None, lo: int) -> int | None:
        v = raw.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise err((key,), f"{v!r} must be a whole number ≥ {lo}")
        return v

    seed = integer("seed", 0, 0)
    replicates = integer("replicates", 1, 1)
    samples = integer("samples", None, 1)
    if design != "grid" and samples is None:
        raise err(("design",), f"design '{design}' needs 'samples' (number of points)")
    params_raw = raw.get("parameters")
    if not isinstance(params_raw, dict) or not params_raw:
        raise err(("parameters",), "needs 'parameters': a mapping of dotted scenario paths to "
                                                "a list of values or {low, high[, steps][, log]}")
    resolved = base_scenario.resolved()
    params = []
    for name, spec in params_raw.items():
        ppath = ("parameters", name)
        current = _lookup(resolved, name)
        is_int = isinstance(current, int) and not isinstance(current, bool)
        if isinstance(spec, list):
            if not spec:
                raise err(ppath, "empty list of values; give at least one")
            p = Parameter(name, values=tuple(spec), integer=is_int)
            probes = list(spec)
        elif isinstance(spec, dict):
            unknown = set(spec) - {"low", "high", "steps", "log"}
            if unknown:
                raise err(ppath, f"unknown key(s) {sorted(unknown)}; a range takes low, high, "
                                              f"steps (grid), log")
            lo, hi = spec.get("low"), spec.get("high")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) or lo > hi:
                raise err(ppath, "a range needs numbers low ≤ high, e.g. {low: 0, high: 1}")
            log = bool(spec.get("log", False))
            if log and lo <= 0:
                raise err(ppath, "log ranges need low > 0")
            steps = spec.get("steps")
            if design == "grid":
                if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
                    raise err(ppath, "a range in a grid design needs 'steps' (a whole number ≥ 1)")
            p = Parameter(name, low=float(lo), high=float(hi), steps=steps, log=log, integer=is_int)
            probes = [p._cast(lo), p._cast(hi)]
        else:
            raise err(ppath, f"expected a list of values or a range {{low, high, ...}}, "
                                          f"got {spec!r}")
        for value in probes:
            try:
                base_scenario.with_overrides({name: value})
            except ScenarioError as exc:
                raise err(ppath, f"value {value!r} is rejected by the scenario: {exc.message}"
                                              + (f" (field {exc.path})" if exc.path else "")) from None
        params.append(p)
    outcomes = raw.get("outcomes", ["cities_reached", "first_onset_day", "national_peak", "total_detained"])
    if not isinstance(outcomes, list) or not outcomes:
        raise err(("outcomes",), f"expected a non-empty list; allowed: {', '.join(OUTCOMES)}")
    for i, o in enumerate(outcomes):
        if o not in OUTCOMES:
            close = get_close_matches(str(o), OUTCOMES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise err(("outcomes", i), f"outcome {o!r} is unknown{hint}; allowed: {', '.join(OUTCOMES)}")
    needs_obs = set(FIT_OUTCOMES) & set(outcomes)
    if needs_obs and base_scenario.observed is None:
        raise err(("outcomes",), f"{sorted(needs_obs)} need the base scenario's 'observed' onsets")
    keep = raw.get("keep_timeseries", False)
    if not isinstance(keep, bool):
        raise err(("keep_timeseries",), "use true or false")
    return Experiment(name=str(raw.get("name", path.stem)), base=str(base), design=design, seed=seed,
                      replicates=replicates, parameters=tuple(params), outcomes=tuple(outcomes),
                      fixed=dict(fixed), samples=samples, keep_timeseries=keep,
                      description=str(raw.get("description", "")), source=src)


# --------------------------------------------------------------------------- design
def run_seed(sweep_seed: int, point: int, replicate: int) -> int:
    """Seed of one run, from (sweep seed, point, replicate), in [0, 2^63)."""
    state = np.random.SeedSequence([sweep_seed, point, replicate]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def points(exp: Experiment) -> list[dict]:
    """Parameter values of every design point, in order."""
    if exp.design == "grid":
        return [dict(zip([p.path for p in exp.parameters], combo))
                for combo in itertools.product(*[p.grid() for p in exp.parameters])]
    from scipy.stats import qmc

    d = len(exp.parameters)
    rng = np.random.default_rng(np.random.SeedSequence([exp.seed, 0x5EED]))
    if exp.design == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=rng).random(exp.samples)
    else:
        import warnings

        with warnings.catch_warnings():   # scipy warns when samples is not a power of 2; allowed, documented
            warnings.simplefilter("ignore", UserWarning)
            unit = qmc.Sobol(d=d, scramble=True, seed=rng).random(exp.samples)
    return [{p.path: p.from_unit(float(u[k])) for k, p in enumerate(exp.parameters)} for u in unit]


def design_table(exp: Experiment) -> pd.DataFrame:
    """One row per run: run_id, point, replicate, seed, one column per parameter."""
    rows = []
    for i, values in enumerate(points(exp)):
        for r in range(exp.replicates):
            rows.append({"point": i, "replicate": r, "seed": run_seed(exp.seed, i, r), **values})
    df = pd.DataFrame(rows)
    width = max(4, len(str(len(df))))
    df.insert(0, "run_id", [f"r{k:0{width}d}" for k in range(len(df))])
    return df


# --------------------------------------------------------------------------- one run
def outcomes_of(result, names: Iterable[str]) -> dict:
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
            out[name] = float(np.average(result.records["mean_sinophobia"][-1],
                                         weights=result.cities["population"]))
        else:
            out[name] = float(fit.get(name, float("nan")))
    return out


def run_task(task: dict) -> dict:
    """Run one simulation of a sweep and write its part file (runs in a worker).

    Never raises for a failing simulation: the error is recorded in the part.
    """
    from .model import OpinionModel

    t0 = time.perf_counter()
    row: dict[str, Any] = {"run_id": task["run_id"], "status": "ok", "error": ""}
    ts = None
    try:
        scenario = load_scenario(task["base"], {**task["fixed"], **task["params"], "seed": task["seed"]})
        result = OpinionModel(scenario).run(progress=False)
        row.update(outcomes_of(result, task["outcomes"]))
        if task.get("keep_timeseries"):
            ts = result.timeseries
    except Exception as exc:  # a failed run is data, not a crash of the sweep
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=5)
        for name in task["outcomes"]:
            row[name] = float("nan")
    row["wall_s"] = time.perf_counter() - t0
    part = Path(task["out"]) / "runs" / f"{task['run_id']}.parquet"
    if ts is not None:
        ts.insert(0, "run_id", task["run_id"])
        atomic_write(part.with_name(f"{task['run_id']}.timeseries.parquet"),
                     lambda p: ts.to_parquet(p, index=False))
    frame = pd.DataFrame([row])
    atomic_write(part, lambda p: frame.to_parquet(p, index=False))
    return {"run_id": task["run_id"], "status": row["status"], "error": row["error"]}


# --------------------------------------------------------------------------- executors
def execute(fn: Callable[[dict], dict], tasks: list[dict], workers: int | None = None,
            scheduler: str | None = None, progress: bool = True, desc: str = "runs") -> Iterator[dict]:
    """Run ``fn`` on every task and yield each return value as it finishes.

    Parameters
    ----------
    fn
        A picklable function of one task (a mapping) returning a small mapping
        with a ``status`` key.
    workers
        0: serially in this process. None (default) or N ≥ 1: an embedded Dask
        ``LocalCluster`` with N single-threaded worker processes (default: one
        per core).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); overrides ``workers``.
    progress
        A progress bar on stderr (done, failed, total, time left).

    Notes
    -----
    At most two tasks per worker are in flight, so memory in this process
    stays flat and a worker's death only puts its own few tasks under
    suspicion (see :func:`dask_client` for retries).
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), disable=not progress, unit="run", desc=desc, file=sys.stderr,
               dynamic_ncols=True)
    failed = 0

    def tick(res: dict) -> dict:
        nonlocal failed
        failed += res.get("status") != "ok"
        bar.set_postfix(failed=failed, refresh=False)
        bar.update(1)
        return res

    try:
        if workers == 0 and scheduler is None:
            for task in tasks:
                yield tick(fn(task))
            return
        from distributed import as_completed

        with dask_client(workers, scheduler) as client:
            window = 2 * max(1, len(client.scheduler_info()["workers"]))
            pending = iter(tasks)
            running = as_completed()
            for task in itertools.islice(pending, window):
                running.add(client.submit(fn, task, pure=False))
            for fut in running:
                try:
                    res = fut.result()
                except Exception as exc:   # e.g. KilledWorker: the task could not be run
                    res = {"run_id": None, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                fut.release()
                yield tick(res)
                nxt = next(pending, None)
                if nxt is not None:
                    running.add(client.submit(fn, nxt, pure=False))
    finally:
        bar.close()


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A ``distributed.Client``: on ``scheduler`` if given, else on an embedded ``LocalCluster``
    of ``workers`` single-threaded processes (default: one per core), closed on exit.

    Dask retries a task whose worker died up to ``distributed.scheduler.allowed-failures`` times
    (raised here to 10). Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, which
    switches off glibc's dynamic mmap threshold: every large array is then mmap'ed and page-faulted
    afresh and a run takes about 35% longer (measured, docs/sweeps.md), so the embedded cluster
    keeps the nanny's thread limits and drops the trim. Tasks run in a worker thread, which glibc
    serves from a secondary malloc arena that trims and page-faults more than the main one: 4–11%
    slower runs, measured; ``MALLOC_ARENA_MAX=1`` (safe with one task thread per worker) removes
    that. Workers of an existing scheduler keep the environment they were started with.
    """
    import dask
    from distributed import Client, LocalCluster

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    environ["MALLOC_ARENA_MAX"] = 1   # one worker thread runs tasks: keep it on glibc's main arena
    with dask.config.set({"distributed.scheduler.allowed-failures": 10,
                          "distributed.nanny.pre-spawn-environ": environ}):
        if scheduler:
            client = Client(scheduler)
            cluster = None
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=":0", silence_logs=40)
            client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


# --------------------------------------------------------------------------- sweep
def _done_runs(out: Path) -> set[str]:
    done = set()
    for part in (out / "runs").glob("*.parquet"):
        if part.name.endswith(".timeseries.parquet"):
            continue
        try:
            status = pd.read_parquet(part, columns=["status"])["status"].iat[0]
        except Exception:  # unreadable: treat as not finished
            continue
        if status == "ok":
            done.add(part.stem)
    return done


def run_sweep(experiment: Experiment | str | Path, out: str | Path | None = None, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, progress: bool = True,
              runner: Callable[[dict], dict] = run_task) -> pd.DataFrame:
    """Run a sweep into a store and return ``results.parquet`` as a DataFrame.

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
    if manifest_path.exists():
        import json

        old = json.loads(manifest_path.read_text())
        if not resume:
            raise SimError(f"{out} already holds a sweep; add --resume to continue it, or choose another --out")
        if old.get("experiment") != _jsonable(exp.plain()):
            raise SimError(f"{out} holds a different experiment ({old.get('experiment', {}).get('name')}); "
                           f"resume it with the same file, or choose another --out")
    (out / "runs").mkdir(parents=True, exist_ok=True)
    from .results import package_versions

    write_json(manifest_path, {"experiment": _jsonable(exp.plain()), "versions": package_versions(),
                               "points": int(design["point"].nunique()), "runs": len(design),
                               "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    atomic_write(out / "design.parquet", lambda p: design.to_parquet(p, index=False))
    done = _done_runs(out) if resume else set()
    names = [p.path for p in exp.parameters]
    tasks = [{"run_id": row["run_id"], "base": exp.base, "fixed": exp.fixed,
              "params": {n: _py(row[n]) for n in names}, "seed": int(row["seed"]), "outcomes": list(exp.outcomes),
              "keep_timeseries": exp.keep_timeseries, "out": str(out.resolve())}
             for row in design.to_dict("records") if row["run_id"] not in done]
    for _ in execute(runner, tasks, workers=workers, scheduler=scheduler, progress=progress, desc=exp.name):
        pass                                   # each run has written its own part file
    return collect(out, design)


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(obj: Any) -> Any:
    import json

    return json.loads(json.dumps(obj, default=str))


def collect(out: Path, design: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join the design with every finished part into ``results.parquet`` (sorted by run_id)."""
    out = Path(out)
    if design is None:
        design = pd.read_parquet(out / "design.parquet")
    parts = []
    for run_id in design["run_id"]:
        part = out / "runs" / f"{run_id}.parquet"
        if part.exists():
            parts.append(pd.read_parquet(part).drop(columns=["wall_s", "traceback"], errors="ignore"))
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
    if (path / "results.parquet").exists():
        return pd.read_parquet(path / "results.parquet")
    return collect(path)
