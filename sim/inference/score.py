"""``sim score``: proper scores of the model's predictions and of null models against an
episode's observations (docs/inference.md, "Scores and null models").

Predictors
----------
model
    The scenario (or, given a calibration folder, its posterior: parameter draws × seeds).
population_rank
    No dynamics: the trigger city (of the first ``information_trigger``) starts on the
    trigger's date, every other city on the first call's date (three days after the trigger
    when the scenario has no call). Ordered by population within a day. Onsets only.
focal_date
    Every city on the first announced date (the first call, else the first focal date,
    else the trigger's date). Onsets only.
national_only
    The model with the gravity network off (``dynamics.media.network_weight = 0``).
gravity_only
    The model with the national channel off (``dynamics.media.national_weight = 0``).

The two deterministic nulls predict one day per city (a point mass); they predict no crowd
or detention, so those rows are scored for the simulated predictors only.

Besides the per-row scores, two scores of the wave as a whole (:func:`wave_scores`): the CRPS of
the number of reported cities reached within ``WAVE_DAYS`` days of the first reported onset, and
Kendall's τ between the predicted (median) and the reported (mid-interval) onset days of the
reported cities (the order of the spread; higher is better).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write, write_json
from ..config import Scenario, load_scenario
from ..errors import SimError
from ..executor import run_seed
from . import NULLS
from .calibrate import run_observed
from .observe import ObservationModel

__all__ = ["NULLS", "WAVE_DAYS", "null_onsets", "score_predictors", "wave_scores"]

#: The window of the "cities reached" score: days after the first reported onset.
WAVE_DAYS = 10


#: Overrides that turn the model into a channel-ablated null.
ABLATIONS = {
    "national_only": {"dynamics.media.network_weight": 0.0},
    "gravity_only": {"dynamics.media.national_weight": 0.0},
}


def _first(scenario: Scenario, kinds: Iterable[str]) -> Any:
    events = [e for e in scenario.events if e.kind in tuple(kinds) and e.enabled and e.date is not None]
    return min(events, key=lambda e: e.date or dt.date.max) if events else None


def null_onsets(name: str, scenario: Scenario) -> np.ndarray:
    """Onset day per city under a deterministic null model (``days`` = never)."""
    trigger = _first(scenario, ["information_trigger", "economic_shock"])
    if trigger is None:
        raise SimError(f"the null model {name!r} needs the scenario's trigger (an information_trigger event)")
    t_day = (trigger.date - scenario.start).days
    names = [c.name for c in scenario.cities]
    call = _first(scenario, ["call"])
    if name == "population_rank":
        call_day = (call.date - scenario.start).days if call is not None else t_day + 3
        origin = set(names) if trigger.cities == "all" else set(trigger.cities)
        return np.array([t_day if n in origin else call_day for n in names], dtype=float)
    if name == "focal_date":
        focal = call or _first(scenario, ["focal_date"]) or trigger
        return np.full(len(names), float((focal.date - scenario.start).days))
    raise SimError(f"{name!r} is not a deterministic null model")


def wave_scores(obs: ObservationModel, values: np.ndarray) -> dict[str, float]:
    """Scores of the wave as a whole from an ensemble's row values (``(runs, rows)``).

    Returns
    -------
    dict
        ``reached_observed`` (reported cities with onset, mid-interval, within ``WAVE_DAYS``
        days of the first reported onset), ``reached_median`` (the same count per run, median),
        ``reached_crps`` (CRPS of that count, cities) and ``order_tau`` (Kendall's τ-b between
        the median simulated onset and the reported mid-interval onset of the reported cities;
        NaN when either side has no spread).
    """
    from scipy import stats

    from .observe import _ensemble_crps

    values = np.atleast_2d(values)
    onset = (obs.rows["quantity"] == "onset").to_numpy()
    mid = ((obs.rows["day_lo"] + obs.rows["day_hi"]) / 2).to_numpy(float)[onset]
    if not onset.any():
        nan = float("nan")
        return {"reached_observed": nan, "reached_median": nan, "reached_crps": nan, "order_tau": nan}
    first = float(obs.rows["day_lo"].to_numpy(float)[onset].min())
    horizon = first + WAVE_DAYS
    simulated = values[:, onset]
    counts = (simulated <= horizon).sum(axis=1).astype(float)
    observed = float((mid <= horizon).sum())
    median = np.median(simulated, axis=0)
    tau = float("nan")
    if np.ptp(median) > 0 and np.ptp(mid) > 0:
        tau = float(stats.kendalltau(median, mid).statistic)
    return {
        "reached_observed": observed,
        "reached_median": float(np.median(counts)),
        "reached_crps": float(_ensemble_crps(counts, np.array([observed]))[0]),
        "order_tau": tau,
    }


def _summary(name: str, table: pd.DataFrame, unreported: float | None) -> dict[str, Any]:
    q = table["quantity"]

    def mean(col: str, mask: pd.Series) -> float:
        v = table.loc[mask, col].to_numpy(float)
        return float(np.nanmean(v)) if v.size and not np.isnan(v).all() else float("nan")

    return {
        "predictor": name,
        "onset_crps": mean("crps", q == "onset"),
        "brier_reached": mean("brier_reached", q == "onset"),
        "crowd_crps": mean("crps", q == "participants"),
        "detained_crps": mean("crps", q == "detained"),
        "unreported_logscore": float("nan") if unreported is None else unreported,
    }


def score_predictors(
    target: str | Path,
    observed: list[str],
    nulls: list[str],
    seeds: int = 20,
    draws: int = 20,
    scale: float | None = None,
    exclude: tuple[tuple[str, int], ...] = (),
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    seed: int = 1,
    posterior: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the model and null models against observation files.

    Parameters
    ----------
    target
        A scenario YAML, or a ``sim calibrate`` output folder: then ``draws`` parameter sets
        are drawn from its posterior by weight and each is run once (with its own seed), so
        the spread holds parameter and seed uncertainty together.
    observed
        Observation CSV files.
    nulls
        Names from :data:`NULLS`.
    seeds
        Runs per simulated predictor for a scenario.
    draws
        Posterior draws (runs) per simulated predictor for a calibration folder.
    posterior
        With a scenario ``target``: a calibration folder (or a frozen copy of one) whose
        posterior supplies ``draws`` parameter sets for the scenario, each run once. This is
        how an episode the posterior was not fitted on is predicted.

    Returns
    -------
    summary, rows
        One row per predictor (mean scores), and one per (predictor, observation row).
    """
    target = Path(target)
    sets: dict[str, Any] = {}
    thetas: list[dict[str, Any]]
    if target.is_dir():
        cal, thetas = _posterior(target, draws, seed)
        base, sets = cal["base"], dict(cal["fixed"])
    elif posterior is not None:
        base, (_, thetas) = str(target), _posterior(Path(posterior), draws, seed)
    else:
        base, thetas = str(target), [{}] * seeds
    if scale is not None:
        sets["scale"] = scale
    scenario = load_scenario(base, sets)
    obs = ObservationModel.from_files(observed, scenario, exclude)
    common = {"base": base, "observed": list(observed), "exclude": [list(e) for e in exclude]}
    summaries, tables = [], []
    crowds: list[np.ndarray] = []

    def simulated(name: str, extra: dict[str, Any]) -> None:
        # the ablation goes last: a posterior draw of the same parameter must not switch it back on
        tasks = [
            {**common, "fixed": sets, "k": i, "t": -1, "theta": {**th, **extra}, "seed": run_seed(seed, 20_000, i)}
            for i, th in enumerate(thetas)
        ]
        _, values, peaks = run_observed(
            tasks, workers, scheduler, progress, name, city_peaks=crowds if name == "model" else None
        )
        t = obs.scores(values, peaks).assign(predictor=name, runs=len(values))
        tables.append(t)
        summaries.append({**_summary(name, t, obs.unreported_log_score(peaks)), **wave_scores(obs, values)})

    simulated("model", {})
    for name in nulls:
        if name in ABLATIONS:
            simulated(name, ABLATIONS[name])
        else:
            onset = null_onsets(name, scenario)
            index = {c: i for i, c in enumerate(obs.city_names)}
            values = np.full(len(obs.rows), np.nan)
            for r, (c, q) in enumerate(zip(obs.rows["city"], obs.rows["quantity"])):
                if q == "onset":
                    values[r] = onset[index[c]]
            t = obs.scores(values[None, :], np.zeros((1, 0)))
            t.loc[t["quantity"] != "onset", ["crps", "median", "q05", "q95"]] = np.nan
            t = t.assign(predictor=name, runs=0)
            tables.append(t)
            summaries.append({**_summary(name, t, None), **wave_scores(obs, values[None, :])})
    summary = pd.DataFrame(summaries)
    q = np.quantile(crowds[0], [0.05, 0.5, 0.95], axis=0)
    summary.attrs["crowds"] = pd.DataFrame(
        {
            "city": obs.city_names,
            "peak_q05": q[0],
            "peak_median": q[1],
            "peak_q95": q[2],
            "p_onset": (crowds[0] >= obs.onset_min).mean(axis=0),
        }
    )
    return summary, pd.concat(tables, ignore_index=True)


def _posterior(folder: Path, draws: int, seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A calibration folder's settings and ``draws`` parameter sets from its posterior."""
    from ..ensemble import posterior_overrides

    thetas = posterior_overrides(folder, draws, seed)  # checks the folder
    return json.loads((folder / "manifest.json").read_text())["calibration"], thetas


def write_scores(summary: pd.DataFrame, rows: pd.DataFrame, out: Path, meta: dict[str, Any]) -> None:
    """``scores.csv``, ``score_rows.csv``, ``crowds.csv`` (the model's predicted peak crowd per
    city), ``score.json``, ``plots/scores.png`` and ``plots/onsets.png`` in ``out``."""
    from ..plotting import save
    from ..plotting.inference import onsets_figure, score_figure

    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "scores.csv", lambda p: summary.to_csv(p, index=False))
    if "crowds" in summary.attrs:
        atomic_write(out / "crowds.csv", lambda p: summary.attrs["crowds"].to_csv(p, index=False))
    atomic_write(out / "score_rows.csv", lambda p: rows.to_csv(p, index=False))
    write_json(out / "score.json", meta)
    save(score_figure(summary), out / "plots" / "scores.png")
    save(onsets_figure(rows), out / "plots" / "onsets.png")
