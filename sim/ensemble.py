"""Ensembles: one scenario over many seeds, and comparisons between scenarios.

Both run on the shared engine (:func:`sim.executor.execute`): seeds derive from
(scenario seed, 0, replicate) through ``SeedSequence`` exactly as a sweep's
replicates do, and runs go serially, to an embedded Dask cluster or to an
existing one.

An :class:`Ensemble` has the accessors of a :class:`~sim.results.Result`, over seeds:
``summary`` (per city), ``national`` (per seed), ``per_seed`` (per seed and city) and
``bands``, each computed once on first use.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write, fresh_directory, write_json
from .config import Scenario, load_scenario
from .errors import SimError
from .executor import Task, execute, run_seed
from .facts import RECORDED
from .geography import Geography
from .metrics import city_outcomes, national_outcomes
from .model import OpinionModel, ScenarioLike
from .results import observed_fit, package_versions, scenario_from_input, self_contained_input, summary_frame
from .warmstart import PopulationPool

__all__ = ["BAND_METRICS", "QUANTILES", "Ensemble", "compare_numbers", "compare_table", "ensemble_task", "run_ensemble"]

QUANTILES = (0.05, 0.5, 0.95)

#: National outcomes summarised over seeds (:attr:`Ensemble.national_quantiles`).
NATIONAL_OUTCOMES = ("cities_reached", "first_onset_day", "national_peak", "total_detained")

#: Records summarised by :attr:`Ensemble.bands`.
BAND_METRICS = ("participants", "detained", "mean_trust", "mean_sinophobia", "salience")


def ensemble_task(task: Task) -> Task:
    """Run one seed of an ensemble (in a worker); returns the per-city daily records."""
    try:
        scenario = task["scenario"]
        if task.get("overrides"):  # a posterior draw
            scenario = scenario.with_overrides(task["overrides"])
        pool = PopulationPool.of(task.get("pool"))
        result = OpinionModel(scenario, seed=task["seed"], pool=pool).run(progress=False)
        return {
            "status": "ok",
            "index": task["index"],
            "seed": task["seed"],
            "records": result.records,
            "wall_time": result.wall_time,
        }
    except Exception as exc:  # recorded, the ensemble goes on
        return {
            "status": "failed",
            "index": task["index"],
            "seed": task["seed"],
            "error": f"{type(exc).__name__}: {exc}",
        }


@dataclass
class Ensemble:
    """Records of many seeds of one scenario: ``records[name]`` is (seeds, days, cities)."""

    scenario: Scenario
    seeds: list[int]
    records: dict[str, np.ndarray]
    cities: pd.DataFrame
    failed: list[dict] = field(default_factory=list)
    wall_time: float = 0.0

    @property
    def city_names(self) -> list[str]:
        return self.cities["city"].tolist()

    @property
    def onset_min(self) -> float:
        return self.scenario.outputs.onset_min_participants

    @classmethod
    def load(cls, directory: str | Path) -> Ensemble:
        """Rebuild an Ensemble from a directory written by :meth:`save` (for ``sim plot``)."""
        directory = Path(directory)
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
            with np.load(directory / "records.npz") as data:
                seeds = [int(s) for s in data["seeds"]]
                records = {name: data[name] for name in RECORDED}
            scenario = scenario_from_input(manifest["scenario_input"])
        except (OSError, ValueError, KeyError) as exc:
            raise SimError(f"{directory}: not a readable ensemble directory ({exc})") from None
        return cls(
            scenario=scenario,
            seeds=seeds,
            records=records,
            cities=Geography.from_scenario(scenario).table,
            failed=manifest.get("failed", []),
            wall_time=float(manifest.get("wall_time_s") or 0),
        )

    def seed_records(self, k: int) -> dict[str, np.ndarray]:
        """The ``(days, cities)`` records of the ``k``-th seed (views)."""
        return {n: v[k] for n, v in self.records.items()}

    @cached_property
    def per_seed(self) -> pd.DataFrame:
        """One row per (seed, city): onset, peak, detained (and onset error when observed)."""
        rows = [
            summary_frame(self.scenario, self.cities, self.seed_records(k)).assign(seed=seed, replicate=k)
            for k, seed in enumerate(self.seeds)
        ]
        return pd.concat(rows, ignore_index=True)

    @cached_property
    def national(self) -> pd.DataFrame:
        """One row per seed: national outcomes and, with observed onsets, the fit."""
        rows = []
        for k, seed in enumerate(self.seeds):
            rec = self.seed_records(k)
            row = {"seed": seed, "replicate": k, **national_outcomes(rec, self.onset_min)}
            row.update(observed_fit(self.scenario, self.city_names, rec)[0])
            rows.append(row)
        return pd.DataFrame(rows)

    @cached_property
    def bands(self) -> pd.DataFrame:
        """Tidy quantile bands of :data:`BAND_METRICS`: date, day, city, metric, q05, q50, q95 (over seeds)."""
        _S, D, C = self.records["participants"].shape
        frames = []
        for m in BAND_METRICS:
            q = np.quantile(self.records[m], QUANTILES, axis=0)  # (3, D, C)
            frames.append(
                pd.DataFrame(
                    {
                        "day": np.repeat(np.arange(D), C),
                        "city": np.tile(self.city_names, D),
                        "metric": m,
                        "q05": q[0].reshape(-1),
                        "q50": q[1].reshape(-1),
                        "q95": q[2].reshape(-1),
                    }
                )
            )
        out = pd.concat(frames, ignore_index=True)
        out.insert(0, "date", [self.scenario.date_of(d) for d in out["day"]])
        return out

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per city over seeds: share reached, onset quantiles, peak and detained medians."""
        onset = np.stack(
            [city_outcomes(self.seed_records(k), self.onset_min)["onset_day"] for k in range(len(self.seeds))]
        ).astype(float)
        onset[onset < 0] = np.nan
        peak = self.records["participants"].max(axis=1)
        reached = ~np.isnan(onset)
        q = np.full((len(QUANTILES), onset.shape[1]), np.nan)  # cities never reached stay NaN
        ever = reached.any(axis=0)
        q[:, ever] = np.nanquantile(onset[:, ever], QUANTILES, axis=0)

        def as_date(v: float) -> str:
            return "" if np.isnan(v) else self.scenario.date_of(int(round(v))).isoformat()

        return pd.DataFrame(
            {
                "city": self.city_names,
                "population": self.cities["population"].to_numpy(),
                "share_reached": reached.mean(axis=0),
                "onset_q05": [as_date(v) for v in q[0]],
                "onset_median": [as_date(v) for v in q[1]],
                "onset_q95": [as_date(v) for v in q[2]],
                "peak_median": np.median(peak, axis=0),
                "peak_q95": np.quantile(peak, 0.95, axis=0),
                "detained_median": np.median(self.records["new_detained"].sum(axis=1), axis=0),
            }
        )

    @cached_property
    def national_quantiles(self) -> dict[str, np.ndarray]:
        """Per national outcome, its 5/50/95% quantiles over seeds (NaN where no seed has a value)."""
        out = {}
        for col in NATIONAL_OUTCOMES:
            v = self.national[col].to_numpy(float)
            out[col] = np.full(len(QUANTILES), np.nan) if np.isnan(v).all() else np.nanquantile(v, QUANTILES)
        return out

    @cached_property
    def summary_line(self) -> dict[str, Any]:
        """National outcomes as median and 90% interval strings."""
        out: dict[str, Any] = {}
        for col, q in self.national_quantiles.items():
            if np.isnan(q).all():
                out[col] = "-"
            elif col == "first_onset_day":
                out[col] = (
                    f"{self.scenario.date_of(int(q[1])):%d %b} [{self.scenario.date_of(int(q[0])):%d %b}, "
                    f"{self.scenario.date_of(int(q[2])):%d %b}]"
                )
            else:
                out[col] = f"{q[1]:,.0f} [{q[0]:,.0f}, {q[2]:,.0f}]"
        out["seeds"] = len(self.seeds)
        out["no_protest"] = self.no_protest_share
        return out

    @property
    def no_protest_share(self) -> float:
        """Share of seeds in which no city reached the onset threshold."""
        return float((self.national["cities_reached"] == 0).mean())

    def table(self) -> str:
        """A short text table of the outcomes, as ``sim run --seeds`` prints it."""
        nat = self.national
        s = self.summary_line
        cs = self.summary.sort_values(["share_reached", "population"], ascending=False)
        cs = cs[cs["share_reached"] > 0]
        lines = [
            f"{self.scenario.name}: {len(self.seeds)} seeds × {int(self.cities['agents'].sum()):,} agents"
            f" × {self.records['participants'].shape[1]} days"
        ]
        if len(cs):
            w = max(4, *(len(c) for c in cs["city"]))
            lines.append(f"  {'city':<{w}}  reached  onset (median [5%, 95%])         peak (median)")
            for _, r in cs.iterrows():
                lines.append(
                    f"  {r['city']:<{w}}  {r['share_reached']:>6.0%}   {r['onset_median']} "
                    f"[{r['onset_q05']}, {r['onset_q95']}]  {r['peak_median']:>10,.0f}"
                )
        lines.append(f"cities reached: {s['cities_reached']}  first onset: {s['first_onset_day']}")
        lines.append(
            f"national peak: {s['national_peak']}  detained: {s['total_detained']}  (median [5%, 95%] over seeds)"
        )
        if self.scenario.observed:
            lines.append(
                f"fit: mean onset error {nat['onset_error_mean'].median():.1f} days, observed cities "
                f"reached in time {nat['share_reached_by_observed'].median():.0%}, Kendall tau "
                f"{nat['kendall_tau'].median():.2f} (medians)"
            )
        if self.failed:
            lines.append(f"{len(self.failed)} seed(s) failed: {self.failed[0].get('error')}")
        return "\n".join(lines)

    def save(self, out_dir: str | Path, plots: bool = True) -> Path:
        """Write manifest.json, per_seed.csv, national_by_seed.csv, summary.csv, bands.parquet, plots/,
        as one directory written whole or not at all."""
        out = Path(out_dir)
        with fresh_directory(out) as tmp:
            self._write(tmp, plots)
        return out

    def _write(self, out: Path, plots: bool) -> None:
        nat = self.national
        tables = {"per_seed.csv": self.per_seed, "national_by_seed.csv": nat, "summary.csv": self.summary}
        for name, df in tables.items():
            atomic_write(out / name, _csv_writer(df))
        bands = self.bands
        atomic_write(out / "bands.parquet", lambda p: bands.to_parquet(p, index=False))
        arrays = {name: self.records[name] for name in RECORDED}
        atomic_write(out / "records.npz", lambda p: _save_npz(p, {"seeds": np.array(self.seeds), **arrays}))
        if plots:
            from . import plotting  # matplotlib is imported only when a figure is drawn

            plotting.ensemble_figures(self, out / "plots")
        write_json(
            out / "manifest.json",
            {
                "scenario": self.scenario.resolved(),
                "scenario_input": self_contained_input(self.scenario, self.scenario.seed),
                "scenario_file": self.scenario.source,
                "seeds": self.seeds,
                "failed": self.failed,
                "versions": package_versions(),
                "wall_time_s": round(self.wall_time, 3),
                "summary": self.summary_line,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def _csv_writer(df: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        df.to_csv(path, index=False, lineterminator="\n")

    return write


def run_ensemble(
    scenario: ScenarioLike,
    seeds: int = 20,
    workers: int | None = 0,
    scheduler: str | None = None,
    progress: bool = False,
    draws: list[dict[str, Any]] | None = None,
    pool: int = 0,
) -> Ensemble:
    """Run ``seeds`` seeds of a scenario on the shared engine.

    Seed *r* is ``run_seed(scenario.seed, 0, r)``, as replicate *r* of a sweep. With ``draws``
    (parameter sets, e.g. from a calibration's posterior: :func:`posterior_overrides`), every
    draw runs ``seeds`` seeds: ``len(draws) × seeds`` runs, run *r* with draw ``r // seeds``,
    so the bands hold parameter and seed uncertainty together.

    Parameters
    ----------
    workers
        0 (the default from Python): one after another in this process, so a plain script
        needs no ``if __name__ == "__main__":`` guard. N ≥ 1 or None (one per core; the CLI's
        default): worker processes, which re-import the calling script, so a script that asks
        for them needs the guard.
    scheduler
        Address of a running Dask scheduler (overrides ``workers``).
    pool
        Share set-ups among the runs: each run takes one of ``pool`` warmed populations
        (:mod:`sim.warmstart`, seeded by the scenario's seed). 0 (default): a fresh set-up per run.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    runs = seeds * (len(draws) if draws else 1)
    seed_list = [run_seed(scenario.seed, 0, r) for r in range(runs)]
    tasks = [
        {
            "scenario": scenario,
            "seed": s,
            "index": r,
            "overrides": draws[r // seeds] if draws else None,
            "pool": [pool, scenario.seed] if pool else None,
        }
        for r, s in enumerate(seed_list)
    ]
    t0 = time.perf_counter()
    done: dict[int, dict] = {}
    failed = []
    for res in execute(
        ensemble_task, tasks, workers=workers, scheduler=scheduler, progress=progress, desc=scenario.name
    ):
        if res["status"] == "ok":
            done[res["index"]] = res["records"]
        else:
            failed.append({k: res.get(k) for k in ("index", "seed", "error")})
    order = sorted(done)
    if not order:
        raise SimError(f"{scenario.name}: every seed failed; first error: {failed[0]['error']}")
    records = {name: np.stack([done[i][name] for i in order]) for name in RECORDED}
    return Ensemble(
        scenario=scenario,
        seeds=[seed_list[i] for i in order],
        records=records,
        cities=Geography.from_scenario(scenario).table,
        failed=failed,
        wall_time=time.perf_counter() - t0,
    )


def compare_numbers(ensembles: list[Ensemble]) -> pd.DataFrame:
    """National outcomes of several ensembles as numbers: per outcome its 5%, 50% and 95%
    quantiles over seeds (``cities_reached_q50``, ...; onset days since the scenario's start),
    and the share of seeds without protest. What ``sim compare`` writes to ``compare.csv``."""
    rows = []
    for e in ensembles:
        row: dict[str, Any] = {"scenario": e.scenario.name, "seeds": len(e.seeds)}
        for col, q in e.national_quantiles.items():
            for level, value in zip(QUANTILES, q):
                row[f"{col}_q{round(level * 100):02d}"] = float(value)
        row["no_protest_share"] = e.no_protest_share
        rows.append(row)
    return pd.DataFrame(rows)


def compare_table(ensembles: list[Ensemble]) -> pd.DataFrame:
    """Side-by-side national outcomes (median [5%, 95%]) of several ensembles."""
    rows = []
    for e in ensembles:
        s = e.summary_line
        row = {
            "scenario": e.scenario.name,
            "seeds": s["seeds"],
            "cities reached": s["cities_reached"],
            "first onset": s["first_onset_day"],
            "national peak": s["national_peak"],
            "total detained": s["total_detained"],
            "no protest": f"{s['no_protest']:.0%}",
        }
        rows.append(row)
    return pd.DataFrame(rows)


def posterior_overrides(directory: str | Path, draws: int, seed: int = 0) -> list[dict[str, Any]]:
    """``draws`` parameter sets drawn by weight from a ``sim calibrate`` folder's posterior.

    Raises
    ------
    SimError
        If the folder holds no finished calibration.
    """
    import json

    from .inference.calibrate import posterior_draws

    d = Path(directory)
    if not ((d / "manifest.json").exists() and (d / "posterior.parquet").exists()):
        raise SimError(f"--posterior {d}: not a finished sim calibrate folder (no manifest.json/posterior.parquet)")
    paths = [p["path"] for p in json.loads((d / "manifest.json").read_text())["calibration"]["priors"]]
    return posterior_draws(pd.read_parquet(d / "posterior.parquet"), paths, draws, seed)
