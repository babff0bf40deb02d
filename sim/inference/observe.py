"""The observation model: how a simulated run is compared with what was reported.

docs/inference.md states it with its equations. In short, per observation row:

- **onset** (interval-censored): the simulated onset day (first day with at least
  ``onset_min`` participants; a city never reached counts as reached on day ``days``,
  the day after the run) against the reported interval ``[day_lo, day_hi]``;
- **participants** on a day (or the most on any day of a window): the report is a noisy
  measurement of the simulated crowd, ``log(1 + report) = log(1 + crowd) + e`` with
  ``e ~ N(0, σ²)``, ``σ = log 2`` (a factor of about 2); a range ``[low, high]`` means the
  report lies somewhere in it;
- **detained** over a window (summed over days): as participants, for the detentions;
- a city with **no report** is censored, not a certain zero: a rally of ``c`` people there
  went unreported with probability ``exp(-c / R)``, ``R = report_scale`` (100 people).

The same quantities feed the ABC distance (:meth:`ObservationModel.discrepancy`) and the
proper scores of ``sim score`` (:func:`crps_onset`, :func:`crps_log_count`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ..config.observations import read_observations
from ..metrics import onset_days

__all__ = ["ObservationModel", "crps_log_count", "crps_onset"]

#: Measurement noise of a reported count: sd of log(1 + report) around log(1 + simulated).
SIGMA_LOG = math.log(2.0)

#: People: a rally of c people in a city with no report went unreported with probability exp(-c / R).
REPORT_SCALE = 100.0


@dataclass(frozen=True)
class ObservationModel:
    """Observation rows of one episode and how a run is compared with them.

    Parameters
    ----------
    rows
        From :func:`~sim.config.observations.read_observations`.
    city_names
        The scenario's cities, in order.
    onset_min
        Onset threshold in people (the scenario's ``outputs.onset_min_participants``).
    days
        Run length; a city never reached is censored at day ``days``.
    sigma
        Measurement noise of counts on the log(1 + x) scale.
    report_scale
        ``R`` in people, for cities with no report.
    """

    rows: pd.DataFrame
    city_names: tuple[str, ...]
    onset_min: float
    days: int
    sigma: float = SIGMA_LOG
    report_scale: float = REPORT_SCALE
    sources: tuple[str, ...] = ()
    _city_index: np.ndarray = field(init=False, repr=False, compare=False)
    _unreported: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {c: i for i, c in enumerate(self.city_names)}
        object.__setattr__(self, "_city_index", np.array([index.get(c, -1) for c in self.rows["city"]], dtype=np.int64))
        reported = set(self.rows["city"])
        object.__setattr__(
            self,
            "_unreported",
            np.array([i for i, c in enumerate(self.city_names) if c not in reported], dtype=np.int64),
        )

    @classmethod
    def from_files(
        cls, paths: list[str] | tuple[str, ...], scenario: Any, exclude: tuple[tuple[str, int], ...] = ()
    ) -> ObservationModel:
        """Read observation files against a scenario (its cities, start, days, onset threshold).

        ``exclude`` holds ``(file name, line)`` pairs of rows to leave out.
        """
        names = [c.name for c in scenario.cities]
        tables = []
        for p in paths:
            t = read_observations(p, names, scenario.start, scenario.days)
            drop = {line for f, line in exclude if f == Path(p).name}
            tables.append(t[~t["line"].isin(drop)].assign(file=Path(p).name))
        return cls(
            rows=pd.concat(tables, ignore_index=True),
            city_names=tuple(names),
            onset_min=float(scenario.outputs.onset_min_participants),
            days=int(scenario.days),
            sources=tuple(str(p) for p in paths),
        )

    # ------------------------------------------------------------------ simulated quantities
    @property
    def unreported_cities(self) -> list[str]:
        """Cities with no row at all (censored)."""
        return [self.city_names[i] for i in self._unreported]

    def simulate(self, participants: np.ndarray, new_detained: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The simulated counterpart of every row, and the peaks of the unreported cities.

        Parameters
        ----------
        participants, new_detained
            ``(days, cities)`` arrays of one run, in people.

        Returns
        -------
        values
            One per row: onset day (``days`` when never), the most participants on a day of
            the row's window, or the detentions summed over the window.
        peaks
            Peak participants of each unreported city.
        """
        values, peaks, _ = self._so_far(participants, new_detained, unreached=self.days)
        return values, peaks

    def _so_far(
        self, participants: np.ndarray, new_detained: np.ndarray, unreached: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`simulate`'s values from the days run so far (``unreached``: the onset value of a
        city not reached yet), and which rows those days decide: an onset that happened, a window
        that has ended. Undecided rows hold what their days so far give (0 for a window not begun)."""
        t = len(participants)
        onset = onset_days(participants, self.onset_min) if t else -np.ones(len(self.city_names), dtype=int)
        hi = self.rows["day_hi"].to_numpy(int)
        decided = t > hi
        out = np.empty(len(self.rows))
        for r, (q, lo, ci) in enumerate(zip(self.rows["quantity"], self.rows["day_lo"], self._city_index)):
            if q == "onset":
                out[r] = onset[ci] if onset[ci] >= 0 else unreached
                decided[r] |= onset[ci] >= 0
                continue
            series = participants if q == "participants" else new_detained
            window = series[lo : hi[r] + 1]
            window = window.sum(axis=1) if ci < 0 else window[:, ci]
            out[r] = (window.max() if q == "participants" else window.sum()) if len(window) else 0.0
        peaks = participants[:, self._unreported].max(axis=0) if t else np.zeros(len(self._unreported))
        return out, peaks, decided

    # ------------------------------------------------------------------ ABC distance
    def discrepancy(
        self, values: np.ndarray, peaks: np.ndarray, decided: np.ndarray | None = None
    ) -> tuple[np.ndarray, float]:
        """Per-row discrepancy and the unreported cities' term.

        Onset rows: days outside the reported interval. Count rows: distance of
        log(1 + simulated) to the reported range on the log(1 + x) scale, in units of log 2 (one
        unit = a factor of 2). Unreported cities: mean of log₂(1 + peak / R). Rows not
        ``decided`` (a run still going) count only an excess over their range: a shortfall may
        still be made up.
        """
        q = self.rows["quantity"].to_numpy()
        lo_day, hi_day = self.rows["day_lo"].to_numpy(float), self.rows["day_hi"].to_numpy(float)
        e = np.zeros(len(values))
        onset = q == "onset"
        short = np.ones(len(values)) if decided is None else decided.astype(float)
        v = values[onset]
        e[onset] = short[onset] * np.maximum(lo_day[onset] - v, 0) + np.maximum(v - hi_day[onset], 0)
        cnt = ~onset
        if cnt.any():
            x = np.log1p(values[cnt])
            a, b = np.log1p(self.rows["low"].to_numpy(float)[cnt]), np.log1p(self.rows["high"].to_numpy(float)[cnt])
            e[cnt] = (short[cnt] * np.maximum(a - x, 0) + np.maximum(x - b, 0)) / math.log(2)
        unrep = float(np.mean(np.log2(1 + peaks / self.report_scale))) if len(peaks) else 0.0
        return e, unrep

    def distance(self, values: np.ndarray, peaks: np.ndarray) -> float:
        """The ABC distance: mean row discrepancy plus the unreported cities' term."""
        e, unrep = self.discrepancy(values, peaks)
        return float(e.mean() + unrep)

    def lower_bound(self, participants: np.ndarray, new_detained: np.ndarray) -> float:
        """A lower bound on :meth:`distance` of a run of which only the first days are known.

        ``participants`` and ``new_detained`` hold days ``0 .. t-1``. Every term of the distance
        can only grow as days are added: an onset not reached by day ``t-1`` falls on day ``t`` or
        later (at least ``t - day_hi`` days late); a window's most participants and its summed
        detentions are at least those of its days seen so far (an excess over the reported
        range is final, a shortfall is not); an unreported city's peak is at least its peak so
        far. The bound is therefore non-decreasing in ``t`` and equals :meth:`distance` once all
        ``days`` are known. A proposal whose bound exceeds ε is rejected whatever the rest of
        the run does, so stopping it there changes no accepted particle (early rejection).
        """
        values, peaks, decided = self._so_far(participants, new_detained, unreached=len(participants))
        e, unrep = self.discrepancy(values, peaks, decided)
        return float(e.mean() + unrep)

    # ------------------------------------------------------------------ proper scores
    def scores(self, values: np.ndarray, peaks: np.ndarray) -> pd.DataFrame:
        """Proper scores of an ensemble (lower is better), one row per observation.

        Parameters
        ----------
        values
            ``(runs, rows)``: :meth:`simulate`'s values for every run of the ensemble.
        peaks
            ``(runs, unreported cities)``.

        Returns
        -------
        pandas.DataFrame
            The observation rows with ``crps`` (days for onsets, log(1 + x) units for counts),
            ``p_reached`` and ``brier_reached`` (onset rows: share of runs reaching the city by
            the latest reported day), ``median`` and the 5–95% band of the simulated quantity.
        """
        values = np.atleast_2d(values)
        out = self.rows.drop(columns=["line", "file"], errors="ignore").copy()
        crps = np.empty(len(self.rows))
        p_reached = np.full(len(self.rows), np.nan)
        day_lo, day_hi = self.rows["day_lo"].to_numpy(int), self.rows["day_hi"].to_numpy(int)
        low, high = self.rows["low"].to_numpy(float), self.rows["high"].to_numpy(float)
        for r, q in enumerate(self.rows["quantity"]):
            v = values[:, r]
            if q == "onset":
                crps[r] = crps_onset(v, int(day_lo[r]), int(day_hi[r]), self.days)
                p_reached[r] = float(np.mean(v <= day_hi[r]))
            else:
                crps[r] = crps_log_count(v, float(low[r]), float(high[r]), self.sigma)
        out["crps"] = crps
        out["p_reached"] = p_reached
        out["brier_reached"] = (1 - p_reached) ** 2
        out["median"] = np.median(values, axis=0)
        out["q05"], out["q95"] = np.quantile(values, 0.05, axis=0), np.quantile(values, 0.95, axis=0)
        return out

    def unreported_log_score(self, peaks: np.ndarray) -> float:
        """Mean over unreported cities of −log P(no report) = −log mean_runs exp(−peak / R)."""
        peaks = np.atleast_2d(peaks)
        if peaks.shape[1] == 0:
            return 0.0
        p = np.mean(np.exp(-peaks / self.report_scale), axis=0)
        return float(np.mean(-np.log(np.maximum(p, 1e-300))))


def _ensemble_crps(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of the empirical distribution of ``x`` at each ``y``: E|X − y| − ½ E|X − X'|."""
    x = np.sort(np.asarray(x, float))
    n = len(x)
    # ½ E|X − X'| from the sorted sample in O(n)
    half_spread = np.sum(x * (2 * np.arange(1, n + 1) - n - 1)) / n**2
    return np.abs(x[None, :] - np.asarray(y, float)[:, None]).mean(axis=1) - half_spread


def crps_onset(days_simulated: np.ndarray, lo: int, hi: int, horizon: int) -> float:
    """CRPS (days) of simulated onset days against a reported interval [lo, hi].

    The reported day is taken as uniform over the interval's days (those after the run
    count as the censoring day ``horizon``); the score is the CRPS averaged over it. A
    never-reached run is at ``horizon``.
    """
    y = np.minimum(np.arange(lo, hi + 1), horizon)
    return float(_ensemble_crps(days_simulated, y).mean())


def _a(mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    s = np.sqrt(var)
    z = mu / s
    return 2 * s * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) + mu * (2 * ndtr(z) - 1)


def crps_log_count(simulated: np.ndarray, low: float, high: float, sigma: float = SIGMA_LOG) -> float:
    """CRPS (log(1 + x) units) of a reported count against an ensemble with measurement noise.

    The predictive distribution of log(1 + report) is the equal mixture of
    N(log(1 + simulated_i), σ²) (closed form, Grimit et al. 2006); a reported range is
    taken as uniform on the log(1 + x) scale and the CRPS averaged over 9 points of it.
    """
    mu = np.log1p(np.asarray(simulated, float))
    y = np.linspace(math.log1p(low), math.log1p(high), 9 if high > low else 1)
    var = sigma * sigma
    first = _a(y[:, None] - mu[None, :], np.full(1, var)).mean(axis=1)
    d = mu[:, None] - mu[None, :]
    second = 0.5 * _a(d, np.full(1, 2 * var)).mean()
    return float((first - second).mean())
