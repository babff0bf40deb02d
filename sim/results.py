"""``Result``: a run's preallocated arrays, with tidy tables and one export.

A run directory holds ``manifest.json``, ``timeseries.parquet``,
``summary.csv``, optionally ``histograms.parquet``, and ``plots/``. Every file
is written atomically; the same scenario and seed give byte-identical
Parquet and CSV files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import platform
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write, fresh_directory, write_json
from .config import Scenario, load_scenario
from .errors import SimError
from .facts import RECORDED
from .geography import Geography
from .metrics import city_outcomes, fit_to_observed, national_outcomes, observed_table, onset_days

__all__ = ["Result", "observed_fit", "package_versions", "scenario_from_input", "self_contained_input", "summary_frame"]

_VERSIONED = ("sim", "mesa", "numpy", "numba", "scipy", "pandas", "pyarrow", "matplotlib", "pyyaml")


def package_versions() -> dict[str, str]:
    """Versions of the packages that determine a run's output."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def self_contained_input(scenario: Scenario, seed: int) -> dict[str, Any]:
    """The scenario as input data that loads anywhere (cities inline, paths absolute), for manifests."""
    raw = {k: v for k, v in scenario.raw.items() if k != "extends"}
    geo = dict(raw.get("geography") or {})
    geo["cities"] = [{k: v for k, v in dataclasses.asdict(c).items() if v is not None} for c in scenario.cities]
    raw["geography"] = geo
    if scenario.observed:
        raw["observed"] = str(Path(scenario.observed).resolve())
    raw["seed"] = seed
    loaded: dict[str, Any] = json.loads(json.dumps(raw, default=str))
    return loaded


def scenario_from_input(raw: dict[str, Any]) -> Scenario:
    """The scenario of a manifest's ``scenario_input`` (without ``observed`` if that file has gone)."""
    if raw.get("observed") and not Path(raw["observed"]).exists():
        raw = {k: v for k, v in raw.items() if k != "observed"}
    return load_scenario(raw)


def observed_fit(
    scenario: Scenario, city_names: list[str], records: dict[str, np.ndarray]
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Fit of one run's onsets to the scenario's observed onsets: (national fit, per-city table),
    or ``({}, None)`` without ``observed``."""
    if not scenario.observed:
        return {}, None
    obs = observed_table(scenario.observed, city_names, scenario.start)
    participants = records["participants"]
    onset = onset_days(participants, scenario.outputs.onset_min_participants)
    return fit_to_observed(onset, city_names, obs, participants.shape[0])


def summary_frame(scenario: Scenario, cities: pd.DataFrame, records: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per city of one run: onset, peak and detentions (and the fit to observed onsets);
    cities ordered as in the scenario."""
    names = cities["city"].tolist()
    out = city_outcomes(records, scenario.outputs.onset_min_participants)
    onset = out["onset_day"]
    df = pd.DataFrame(
        {
            "city": names,
            "population": cities["population"].to_numpy(),
            "agents": cities["agents"].to_numpy(),
            "onset_date": pd.array(
                [scenario.date_of(d).isoformat() if d >= 0 else None for d in onset], dtype="string"
            ),
            "onset_day": pd.array([d if d >= 0 else None for d in onset], dtype="Int64"),
            "peak_participants": out["peak_participants"],
            "peak_date": [scenario.date_of(d).isoformat() for d in out["peak_day"]],
            "total_detained": out["total_detained"],
        }
    )
    _, table = observed_fit(scenario, names, records)
    if table is not None:
        observed = table["city"].tolist()

        def column(col: str) -> dict[str, Any]:
            return dict(zip(observed, table[col].to_numpy()))

        def dates(col: str) -> list[str]:
            days = column(col)
            return [scenario.date_of(int(days[c])).isoformat() if c in days else "" for c in names]

        df["observed_onset_earliest"] = dates("earliest_day")
        df["observed_onset_latest"] = dates("latest_day")
        error = column("onset_error_days")
        df["onset_error_days"] = [error.get(c, np.nan) for c in names]
    return df


@dataclass
class Result:
    """The outcome of one run.

    Attributes
    ----------
    scenario, seed
        What was run.
    cities
        City table (name, population, coordinates, agents, ...).
    network
        Dense (C, C) gravity weights, for maps.
    records
        ``(days, cities)`` arrays by metric name; counts in people.
    histograms
        ``(days, cities, 2, bins)`` people per opinion bin (trust, sinophobia), or None.
    """

    scenario: Scenario
    seed: int
    cities: pd.DataFrame
    network: np.ndarray
    records: dict[str, np.ndarray]
    histograms: np.ndarray | None = None
    wall_time: float = 0.0
    n_agents: int = 0
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: Any, wall_time: float = 0.0) -> Result:
        """The records of an :class:`~sim.model.OpinionModel` after its run (copied)."""
        days = model.day
        return cls(
            scenario=model.scenario,
            seed=model.seed,
            cities=model.cities.copy(),
            network=model.geography.network.toarray(),
            records={k: v[:days].copy() for k, v in model.records.items()},
            histograms=None if model.histograms is None else model.histograms[:days].copy(),
            wall_time=wall_time,
            n_agents=model.population.n,
            phase_seconds=dict(model.phase_seconds),
        )

    # ------------------------------------------------------------------ tables
    @property
    def days(self) -> int:
        return self.records["participants"].shape[0]

    @property
    def dates(self) -> list[dt.date]:
        return [self.scenario.date_of(d) for d in range(self.days)]

    @property
    def city_names(self) -> list[str]:
        return self.cities["city"].tolist()

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """Tidy table: one row per (day, city)."""
        D, C = self.days, len(self.cities)
        frame = {
            "date": np.repeat(np.array(self.dates, dtype=object), C),
            "day": np.repeat(np.arange(D, dtype=np.int32), C),
            "city": np.tile(np.array(self.city_names, dtype=object), D),
        }
        for name, arr in self.records.items():
            col = arr.reshape(-1)
            frame[name] = col.astype(np.int64) if name == "active_agents" else col
        return pd.DataFrame(frame)

    @property
    def onset_min(self) -> float:
        return self.scenario.outputs.onset_min_participants

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per city: onset, peak and detentions; cities ordered as in the scenario."""
        return summary_frame(self.scenario, self.cities, self.records)

    @cached_property
    def fit(self) -> dict[str, Any]:
        """Fit to the scenario's observed onsets (empty without ``observed``)."""
        return observed_fit(self.scenario, self.city_names, self.records)[0]

    @cached_property
    def national(self) -> dict[str, Any]:
        """National outcomes (cities reached, first/last onset, peak, detained)."""
        out: dict[str, Any] = dict(national_outcomes(self.records, self.onset_min))
        for key in ("first_onset", "last_onset"):
            d = out[f"{key}_day"]
            out[f"{key}_date"] = "" if np.isnan(d) else self.scenario.date_of(int(d)).isoformat()
        return out

    def histogram_table(self) -> pd.DataFrame:
        """Tidy histograms: day, city, variable, bin (lower edge), count (people)."""
        if self.histograms is None:
            raise ValueError("this run kept no histograms; set outputs.histograms: true")
        D, C, V, B = self.histograms.shape
        idx = np.indices((D, C, V, B)).reshape(4, -1)
        return pd.DataFrame(
            {
                "day": idx[0].astype(np.int32),
                "city": np.array(self.city_names, dtype=object)[idx[1]],
                "variable": np.array(["trust", "sinophobia"], dtype=object)[idx[2]],
                "bin": idx[3] / B,
                "count": self.histograms.reshape(-1),
            }
        )

    # ------------------------------------------------------------------ output
    def manifest(self) -> dict[str, Any]:
        steps = self.n_agents * self.days
        return {
            "scenario": self.scenario.resolved(),
            "scenario_input": self._self_contained_input(),
            "scenario_file": self.scenario.source,
            "seed": self.seed,
            "versions": package_versions(),
            "agents": self.n_agents,
            "people": int(self.cities["population"].sum()),
            "days": self.days,
            "wall_time_s": round(self.wall_time, 4),
            "agent_steps_per_s": round(steps / self.wall_time) if self.wall_time > 0 else None,
            "phase_seconds": {k: round(v, 4) for k, v in self.phase_seconds.items()},
            "national": self.national,
            "fit": self.fit,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }

    def _self_contained_input(self) -> dict[str, Any]:
        return self_contained_input(self.scenario, self.seed)

    @classmethod
    def load(cls, run_dir: str | Path) -> Result:
        """Rebuild a Result from a run directory written by :meth:`save`."""
        run_dir = Path(run_dir)
        try:
            manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
            ts = pd.read_parquet(run_dir / "timeseries.parquet")
        except (OSError, ValueError) as exc:
            raise SimError(f"{run_dir}: not a readable run directory ({exc})") from None
        scenario = scenario_from_input(manifest["scenario_input"])
        geo = Geography.from_scenario(scenario)
        names = geo.names
        days = int(ts["day"].max()) + 1 if len(ts) else 0
        records = {}
        for name in RECORDED:
            wide = ts.pivot(index="day", columns="city", values=name)[names]
            records[name] = wide.to_numpy(dtype=float)
        hist = None
        if (run_dir / "histograms.parquet").exists():
            h = pd.read_parquet(run_dir / "histograms.parquet")
            bins = h["bin"].nunique()
            city_idx = h["city"].map({n: i for i, n in enumerate(names)}).to_numpy()
            var_idx = h["variable"].map({"trust": 0, "sinophobia": 1}).to_numpy()
            bin_idx = np.rint(h["bin"].to_numpy() * bins).astype(int)
            hist = np.zeros((days, len(names), 2, bins))
            hist[h["day"].to_numpy(), city_idx, var_idx, bin_idx] = h["count"].to_numpy()
        return cls(
            scenario=scenario,
            seed=int(manifest["seed"]),
            cities=geo.table,
            network=geo.network.toarray(),
            records=records,
            histograms=hist,
            wall_time=float(manifest.get("wall_time_s") or 0),
            n_agents=int(manifest["agents"]),
            phase_seconds=manifest.get("phase_seconds", {}),
        )

    def save(self, out_dir: str | Path, plots: bool | None = None) -> Path:
        """Write the run directory and return its path.

        The directory is written whole or not at all (:func:`sim._io.fresh_directory`): it holds
        this run's files only, whatever it held before.
        """
        out = Path(out_dir)
        with fresh_directory(out) as tmp:
            ts = self.timeseries
            atomic_write(tmp / "timeseries.parquet", lambda p: ts.to_parquet(p, index=False))
            summary = self.summary
            atomic_write(tmp / "summary.csv", lambda p: summary.to_csv(p, index=False, lineterminator="\n"))
            if self.histograms is not None:
                hist = self.histogram_table()
                atomic_write(tmp / "histograms.parquet", lambda p: hist.to_parquet(p, index=False))
            if self.scenario.outputs.plots if plots is None else plots:
                self.plot(tmp / "plots")
            write_json(tmp / "manifest.json", self.manifest())
        return out

    def plot(self, out_dir: str | Path | None = None) -> dict[str, Any]:
        """Draw the standard figures; save PNGs to ``out_dir`` if given.

        Returns
        -------
        dict
            Figure name → ``matplotlib.figure.Figure``.
        """
        from . import plotting  # matplotlib is imported only when a figure is drawn

        return plotting.run_figures(self, out_dir)

    def table(self) -> str:
        """A short text table of the outcomes, as ``sim run`` prints it."""
        nat = self.national
        s = self.summary
        reached = s[s["onset_day"].notna()].sort_values(["onset_day", "city"])
        lines = [f"{self.scenario.name}: {self.n_agents:,} agents × {self.days} days, seed {self.seed}"]
        if len(reached):
            width = max(4, *(len(c) for c in reached["city"]))
            lines.append(f"  {'city':<{width}}  onset       peak participants")
            for _, row in reached.iterrows():
                lines.append(f"  {row['city']:<{width}}  {row['onset_date']}  {row['peak_participants']:>10,.0f}")
        lines.append(
            f"cities reached: {nat['cities_reached']}/{len(s)}"
            f"  first onset: {nat['first_onset_date'] or '-'}"
            f"  last onset: {nat['last_onset_date'] or '-'}"
        )
        lines.append(f"national peak: {nat['national_peak']:,.0f} people  detained: {nat['total_detained']:,.0f}")
        fit = self.fit
        if fit:
            lines.append(
                f"fit to observed onsets ({fit['observed_cities']} cities): mean error "
                f"{fit['onset_error_mean']:.1f} days, reached in time "
                f"{fit['share_reached_by_observed']:.0%}, Kendall tau {fit['kendall_tau']:.2f}"
            )
        if self.wall_time > 0:
            rate = self.n_agents * self.days / self.wall_time
            lines.append(f"wall time: {self.wall_time:.2f} s  ({rate / 1e6:.1f} million agent-steps/s)")
        return "\n".join(lines)
