"""Outcomes of a run: per-city onset, peak and detentions; national reach."""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from .config.observed import read_observed

__all__ = ["city_outcomes", "fit_to_observed", "national_outcomes", "observed_table", "onset_days", "read_observed"]


def onset_days(participants: np.ndarray, min_participants: float) -> np.ndarray:
    """First day with participants ≥ ``min_participants``, per city; −1 when never.

    The one definition of onset, used by every output, fit and check.

    Parameters
    ----------
    participants
        (days, cities) participants in people, or (..., days, cities) for many runs at once
        (e.g. seeds × days × cities gives seeds × cities).
    min_participants
        Onset threshold in people.
    """
    hit = participants >= min_participants
    first = hit.argmax(axis=-2)
    return np.where(hit.any(axis=-2), first, -1)


def city_outcomes(records: dict[str, np.ndarray], min_participants: float) -> dict[str, np.ndarray]:
    """Per-city onset day, peak participants and its day, total detained."""
    part = records["participants"]
    onset = onset_days(part, min_participants)
    return {
        "onset_day": onset,
        "peak_participants": part.max(axis=0),
        "peak_day": part.argmax(axis=0),
        "total_detained": records["new_detained"].sum(axis=0),
    }


def national_outcomes(records: dict[str, np.ndarray], min_participants: float) -> dict[str, float]:
    """National outcomes: cities reached, first/last onset day, national peak, detained.

    Onset days are NaN when no city was reached.
    """
    onset = onset_days(records["participants"], min_participants)
    reached = onset[onset >= 0]
    national = records["participants"].sum(axis=1)
    return {
        "cities_reached": int(reached.size),
        "first_onset_day": float(reached.min()) if reached.size else float("nan"),
        "last_onset_day": float(reached.max()) if reached.size else float("nan"),
        "national_peak": float(national.max()) if national.size else 0.0,
        "national_peak_day": int(national.argmax()) if national.size else -1,
        "total_detained": float(records["new_detained"].sum()),
    }


def observed_table(path: str, city_names: list[str], start: dt.date) -> pd.DataFrame:
    """:func:`read_observed`, cached per (file, modification time, cities, start): ensembles and
    sweeps fit hundreds of runs against the same file. Treat the result as read-only."""
    return _observed_cached(str(path), os.stat(path).st_mtime_ns, tuple(city_names), start)


@functools.lru_cache(maxsize=16)
def _observed_cached(path: str, mtime_ns: int, city_names: tuple[str, ...], start: dt.date) -> pd.DataFrame:
    return read_observed(path, list(city_names), start)


def fit_to_observed(
    onset: np.ndarray, city_names: list[str], observed: pd.DataFrame, days: int
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit of simulated onsets to observed intervals.

    Per observed city: onset error in days, 0 inside the observed interval,
    else the distance to it; a city never reached counts as reached on day
    ``days`` (the day after the run), a lower bound on its error.
    National: mean absolute error, the share of observed cities reached by the
    latest observed onset, and Kendall's tau-b between observed (interval
    midpoint) and simulated onset order.
    """
    index = {n: i for i, n in enumerate(city_names)}
    sim_day = np.array([onset[index[c]] for c in observed["city"]], dtype=float)
    reached = sim_day >= 0
    censored = np.where(reached, sim_day, days)
    lo, hi = observed["earliest_day"].to_numpy(float), observed["latest_day"].to_numpy(float)
    error = np.where(censored < lo, lo - censored, np.where(censored > hi, censored - hi, 0.0))
    by = hi.max()
    tau = kendalltau((lo + hi) / 2, censored).statistic if len(observed) > 1 else float("nan")
    table = observed.assign(sim_onset_day=np.where(reached, sim_day, np.nan), onset_error_days=error)
    fit = {
        "onset_error_mean": float(error.mean()),
        "share_reached_by_observed": float(np.mean(reached & (sim_day <= by))),
        "kendall_tau": float(tau) if tau == tau else float("nan"),
        "observed_cities": int(len(observed)),
    }
    return fit, table
